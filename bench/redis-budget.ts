// Redis's own cost per execution: 2,000 demo.noop submitted through `POST /v1/executions` and then
// processed by one worker, beside 2,000 plain BullMQ jobs added with `add` and processed by a plain
// `Worker`, on the same Redis. Per execution: the Redis server's CPU time (INFO cpu: commands,
// scripts and networking), commands (those a script runs included) and script calls (INFO commandstats).
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { demoNoop } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { ApiClient, poll } from '@conveyor/testing';
import { figure } from './common.js';

const total = 2000;
const inFlight = 20;
const input = { payload: { text: 'x'.repeat(64) } };

/** What Redis spent on a step, per execution. */
interface Cost {
  cpuUs: number;
  commands: number;
  scripts: number;
  /** The commands that took most of the server's time, with calls and µs per execution (a script's time includes its commands'). */
  top: { name: string; calls: number; us: number }[];
}

export async function redisBudget(redis: RedisServer): Promise<void> {
  const admin = createRedis({ url: redis.url, prefix: 'budget' }, 'request');
  try {
    const plain = await plainBudget(redis, admin);
    const conveyor = await conveyorBudget(redis, admin);
    console.log(`\nRedis per execution: ${total} demo.noop, ${inFlight} submissions in flight, then one worker (concurrency 10), same Redis`);
    console.log(`  plain BullMQ   submit ${line(plain.submit)}`);
    console.log(`                 process ${line(plain.process)}`);
    console.log(`  Conveyor       submit ${line(conveyor.submit)}`);
    console.log(`                 process ${line(conveyor.process)}`);
    figure('redis-submit', conveyor.submit.cpuUs / plain.submit.cpuUs, 'plain BullMQ add', `${us(conveyor.submit)}`, `${us(plain.submit)}`);
    figure('redis-process', conveyor.process.cpuUs / plain.process.cpuUs, 'plain BullMQ worker', `${us(conveyor.process)}`, `${us(plain.process)}`);
  } finally {
    admin.disconnect();
  }
}

async function plainBudget(redis: RedisServer, admin: Redis): Promise<{ submit: Cost; process: Cost }> {
  const connection = createRedis({ url: redis.url, prefix: 'plain-budget' }, 'worker');
  const queue = new Queue('plain-budget', { connection, prefix: 'plain-budget' });
  await queue.waitUntilReady();
  const submit = await measure(admin, () => inParallel(() => queue.add(demoNoop.name, input)));
  const workerConnection = connection.duplicate();
  let worker: Worker | undefined;
  const processing = await measure(admin, async () => {
    worker = new Worker('plain-budget', async () => null, { connection: workerConnection, prefix: 'plain-budget', concurrency: 10 });
    await untilCompleted(queue);
  });
  await worker?.close();
  workerConnection.disconnect();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { submit, process: processing };
}

async function conveyorBudget(redis: RedisServer, admin: Redis): Promise<{ submit: Cost; process: Cost }> {
  const prefix = 'conveyor-budget';
  const env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const gateway = await startService('gateway', { ...env, GATEWAY_PORT: '0' });
  const api = new ApiClient(gateway.url!, {}, false);
  const connection = createRedis({ url: redis.url, prefix }, 'request');
  const { queues } = createExecutionsCore(connection, prefix);
  try {
    const submit = await measure(admin, () => inParallel(() => api.post('/v1/executions', { task: demoNoop.name, input })));
    const processing = await measure(admin, async () => {
      const worker = await startService('worker', { ...env, WORKER_QUEUES: demoNoop.queue, WORKER_CONCURRENCY: '10' });
      await untilCompleted(queues.get(demoNoop.queue));
      await worker.process.stop();
    });
    return { submit, process: processing };
  } finally {
    await gateway.process.stop();
    await queues.close();
    connection.disconnect();
  }
}

/** Runs `step` `total` times, `inFlight` at once. */
async function inParallel(step: () => Promise<unknown>): Promise<void> {
  let started = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (started++ < total) await step();
  }));
}

async function untilCompleted(queue: Queue): Promise<void> {
  await poll(() => queue.getCompletedCount(), { until: (n) => n >= total, label: `${total} completed`, timeoutMs: 300_000, intervalMs: 50 });
}

/** Redis's cost of `step`, per execution (what else runs meanwhile, a service's timers, counts too). */
async function measure(redis: Redis, step: () => Promise<void>): Promise<Cost> {
  await redis.config('RESETSTAT');
  const cpuBefore = await cpuSeconds(redis);
  await step();
  const cpu = (await cpuSeconds(redis)) - cpuBefore;
  const stats = [...(await redis.info('commandstats')).matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)].map(([, name, calls, usec]) => ({
    name,
    calls: Number(calls) / total,
    us: Number(usec) / total,
  }));
  // The INFO and CONFIG calls of this measurement are not the execution's.
  const ours = stats.filter(({ name }) => !name.startsWith('info') && !name.startsWith('config'));
  const calls = (names: (name: string) => boolean) => ours.filter(({ name }) => names(name)).reduce((sum, { calls }) => sum + calls, 0);
  return {
    cpuUs: (cpu * 1e6) / total,
    commands: calls(() => true),
    scripts: calls((name) => name === 'evalsha' || name === 'eval'),
    top: ours.sort((a, b) => b.us - a.us).slice(0, 6),
  };
}

async function cpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return ['used_cpu_sys', 'used_cpu_user'].reduce((sum, field) => sum + Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1]), 0);
}

function us({ cpuUs }: Cost): string {
  return `${Math.round(cpuUs)} µs`;
}

function line(cost: Cost): string {
  const top = cost.top.map(({ name, calls, us }) => `${name} ${calls.toFixed(1)}× ${us.toFixed(0)} µs`).join(', ');
  return `${us(cost).padStart(7)} of Redis CPU   ${cost.commands.toFixed(1).padStart(5)} commands   ${cost.scripts.toFixed(1).padStart(4)} scripts   (most: ${top})`;
}
