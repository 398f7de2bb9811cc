import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidEnvironmentError, loadGatewayConfig, loadWorkerConfig } from './load-config.js';

describe('loadConfig', () => {
  it('applies the defaults', () => {
    const config = loadGatewayConfig({});
    assert.deepEqual(config, {
      http: { host: '127.0.0.1', port: 3000 },
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'conveyor' },
      logLevel: 'info',
      idempotencyTtlMs: 86_400_000,
      monitor: { port: 3001 },
    });
    assert.ok(Object.isFrozen(config.http));
  });

  it('converts numbers and lists', () => {
    const config = loadWorkerConfig({ WORKER_CONCURRENCY: '3', WORKER_QUEUES: 'demo', HTTP_TASK_ALLOWED_HOSTS: 'A.example, b.example ', WORKER_HEALTH_PORT: '0' });
    assert.equal(config.concurrency, 3);
    assert.deepEqual(config.queues, ['demo']);
    assert.deepEqual(config.httpTask.allowedHosts, ['a.example', 'b.example']);
    assert.deepEqual(config.health, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(loadWorkerConfig({}).queues, ['demo', 'http', 'schedules']);
  });

  it('names every bad variable in one message', () => {
    assert.throws(
      () => loadGatewayConfig({ GATEWAY_PORT: '70000', REDIS_URL: 'http://x', CONVEYOR_PREFIX: 'Bad Prefix' }),
      (error: Error) =>
        error instanceof InvalidEnvironmentError &&
        /GATEWAY_PORT: must not be greater than 65535/.test(error.message) &&
        /REDIS_URL/.test(error.message) &&
        /CONVEYOR_PREFIX/.test(error.message),
    );
  });

  it('refuses a queue no task uses, and Redis Cluster for now', () => {
    assert.throws(() => loadWorkerConfig({ WORKER_QUEUES: 'demo,nope' }), /no task uses queue nope/);
    assert.throws(() => loadGatewayConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), /not supported yet/);
  });
});
