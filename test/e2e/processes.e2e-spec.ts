import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisServer, spawnManaged, startService } from '@conveyor/launcher';
import { poll, Stack } from '@conveyor/testing';

describe('processes', () => {
  let stack: Stack;
  before(async () => {
    stack = await Stack.start({ workers: 0 });
  });
  after(() => stack?.stop());

  it('serves worker health on WORKER_HEALTH_PORT, and monitor health', async () => {
    const worker = await stack.startWorker({ WORKER_HEALTH_PORT: '0' });
    const line = await worker.process.waitForLine((l) => l.includes('"msg":"health listening"'), 10_000);
    const { url } = JSON.parse(line) as { url: string };
    const health = await fetch(url);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', redis: 'up' });
    assert.equal((await fetch(url.replace('/health', '/nope'))).status, 404);
    assert.deepEqual(await (await fetch(`${stack.monitorUrl}/health/ready`)).json(), { status: 'ready', redis: 'up' });
  });

  it('refuses to start with an invalid environment, naming every bad variable', async () => {
    const worker = spawnManaged('worker', process.execPath, [fileURLToPath(new URL('../../services/worker/src/main.js', import.meta.url))], {
      env: { ...process.env, ...stack.redis.env, WORKER_CONCURRENCY: 'lots', WORKER_QUEUES: 'nope' },
    });
    assert.equal(await worker.exit(), 1);
    const output = worker.lines.join('\n');
    assert.match(output, /Invalid environment: .*WORKER_CONCURRENCY/);
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
  });

  // Waiting for a debugger to attach, a service never gets to `ready`.
  const neverReady = { NODE_OPTIONS: '--inspect-brk=127.0.0.1:0' };

  it('kills a service that is not ready in time', async () => {
    let pid: number | undefined;
    const starting = startService('worker', { ...stack.redis.env, ...neverReady }, { timeoutMs: 500, onSpawn: (spawned) => (pid = spawned.child.pid) });
    await assert.rejects(starting, /not ready after 500 ms/);
    assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' });
  });

  it('ends a service still starting when its stack stops', async () => {
    const other = await Stack.start({ workers: 0, monitors: 0 });
    const refused = assert.rejects(other.startWorker(neverReady), /exited with code/);
    await other.stop();
    await refused;
  });

  it('`npm start` runs everything against REDIS_URL, prints the URLs and stops cleanly on Ctrl-C', async () => {
    const redis = await RedisServer.start();
    const start = spawnManaged('npm start', process.execPath, [fileURLToPath(new URL('../../scripts/start.js', import.meta.url))], {
      env: { ...process.env, REDIS_URL: redis.url, GATEWAY_PORT: '0', MONITOR_PORT: '0', CONVEYOR_PREFIX: 'start-test' },
    });
    try {
      const line = await start.waitForLine((l) => l.includes('REST API'), 30_000);
      const api = /(http:\/\/\S+)\/v1\/executions/.exec(line)![1];
      assert.equal((await fetch(`${api}/health/ready`)).status, 200);
      // The dashboard is served and pointed at the monitor's real port (MONITOR_PORT is 0 here).
      const monitorLine = await start.waitForLine((l) => l.includes('Monitor '), 5_000);
      const monitorUrl = /(http:\/\/\S+)/.exec(monitorLine)![1];
      assert.match(await (await fetch(`${api}/ui/`)).text(), /<script/);
      const settings = (await (await fetch(`${api}/ui/settings.json`)).json()) as { monitorUrl: string };
      assert.equal(new URL(settings.monitorUrl).port, new URL(monitorUrl).port);
      start.child.kill('SIGINT');
      assert.equal(await start.exit(), 0);
    } finally {
      await start.stop('SIGKILL');
      await redis.stop();
    }
  });

  it('`npm start` stops the services that started when another cannot start', async () => {
    const redis = await RedisServer.start();
    const admin = new Redis(redis.url);
    // The monitor's port is taken: it exits at start-up, while the worker starts.
    const taken = createServer().listen(0);
    await once(taken, 'listening');
    const start = spawnManaged('npm start', process.execPath, [fileURLToPath(new URL('../../scripts/start.js', import.meta.url))], {
      env: { ...process.env, REDIS_URL: redis.url, GATEWAY_PORT: '0', MONITOR_PORT: String((taken.address() as AddressInfo).port), CONVEYOR_PREFIX: 'start-test' },
    });
    try {
      assert.equal(await start.exit(), 1);
      const clients = async () => String(await admin.client('LIST')).trim().split('\n');
      await poll(clients, { until: (list) => list.length === 1, label: 'no service still connected', timeoutMs: 10_000 });
    } finally {
      await start.stop('SIGKILL');
      taken.close();
      admin.disconnect();
      await redis.stop();
    }
  });
});
