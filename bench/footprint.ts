// Redis memory per execution: 2,000 demo.noop executions with a small input, queued (record, first
// event, indexes, job) and then completed by a worker (with their event logs), beside 2,000 plain
// BullMQ jobs with the same name and data, queued and then completed by a plain worker. Memory is
// Redis's `used_memory` (without its script cache and clients' buffers) before and after, on the same server; then where
// each side's bytes are, per key.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { demoNoop } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { poll } from '@conveyor/testing';
import { figure } from './common.js';

const total = 2000;
const input = { payload: { text: 'x'.repeat(64) } };

interface Footprint {
  queued: number;
  completed: number;
  /** Bytes per execution of each kind of key, queued and completed. */
  queuedKeys: [string, number][];
  completedKeys: [string, number][];
}

export async function footprint(redis: RedisServer): Promise<void> {
  const admin = createRedis({ url: redis.url, prefix: 'footprint' }, 'request');
  try {
    // A fresh server's first writes cost more than later ones (about 175 B a job here, in allocations of
    // its own): a first round, not counted, puts both sides on a server that has run jobs already.
    await plainJobs(redis, admin, 'footprint-warm-up');
    const plain = await plainJobs(redis, admin);
    const conveyor = await conveyorExecutions(redis, admin);
    console.log(`\nRedis memory per execution: ${total} demo.noop with a ${JSON.stringify(input).length}-byte input, same Redis`);
    console.log(`  plain BullMQ job          queued ${bytes(plain.queued)}   completed ${bytes(plain.completed)}`);
    console.log(`  Conveyor execution        queued ${bytes(conveyor.queued)}   completed ${bytes(conveyor.completed)}`);
    for (const [who, keys] of [['Conveyor', conveyor], ['plain BullMQ', plain]] as const) {
      for (const state of ['queued', 'completed'] as const) {
        console.log(`  ${who}, per execution and key (${state}):`);
        for (const [key, size] of keys[`${state}Keys`]) console.log(`    ${key.padEnd(56)} ${bytes(size)}`);
      }
    }
    figure('footprint-queued', conveyor.queued / plain.queued, 'plain BullMQ job', bytes(conveyor.queued), bytes(plain.queued));
    figure('footprint-completed', conveyor.completed / plain.completed, 'plain BullMQ job', bytes(conveyor.completed), bytes(plain.completed));
  } finally {
    admin.disconnect();
  }
}

async function plainJobs(redis: RedisServer, admin: Redis, prefix = 'plain-footprint'): Promise<Footprint> {
  const connection = createRedis({ url: redis.url, prefix }, 'worker');
  const queue = new Queue(prefix, { connection, prefix });
  await queue.waitUntilReady();
  const before = await usedMemory(admin);
  for (let i = 0; i < total; i += 500) await queue.addBulk(Array.from({ length: 500 }, () => ({ name: demoNoop.name, data: input })));
  const queued = await usedMemory(admin);
  const queuedKeys = await bytesPerKey(admin, prefix);
  const workerConnection = connection.duplicate();
  // demo.noop's result is its input: the plain handler returns the same, which its job and event keep.
  const worker = new Worker(prefix, async (job) => job.data, { connection: workerConnection, prefix, concurrency: 10 });
  await poll(() => queue.getCompletedCount(), { until: (n) => n >= total, label: `${total} plain jobs completed`, timeoutMs: 120_000, intervalMs: 50 });
  await worker.close();
  workerConnection.disconnect();
  const completed = await usedMemory(admin);
  const completedKeys = await bytesPerKey(admin, prefix);
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { queued: (queued - before) / total, completed: (completed - before) / total, queuedKeys, completedKeys };
}

async function conveyorExecutions(redis: RedisServer, admin: Redis): Promise<Footprint> {
  const prefix = 'conveyor-footprint';
  const connection = createRedis({ url: redis.url, prefix }, 'worker');
  const { queues, submitter } = createExecutionsCore(connection, prefix);
  // The first one makes the queue's own keys (counters, meta), which are not per execution.
  await submitter.submit({ task: demoNoop, input, options: {} }, 'default');
  const before = await usedMemory(admin);
  for (let i = 1; i < total; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, total - i) }, () => submitter.submit({ task: demoNoop, input, options: {} }, 'default')));
  }
  const queued = await usedMemory(admin);
  const queuedKeys = await bytesPerKey(admin, prefix);
  const worker = await startService('worker', { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, WORKER_QUEUES: demoNoop.queue, LOG_LEVEL: 'warn' });
  const queue = queues.get(demoNoop.queue);
  await poll(() => queue.getCompletedCount(), { until: (n) => n >= total, label: `${total} executions completed`, timeoutMs: 120_000, intervalMs: 50 });
  await worker.process.stop();
  const completed = await usedMemory(admin);
  const completedKeys = await bytesPerKey(admin, prefix);
  await queues.close();
  connection.disconnect();
  // `total - 1` executions were made between the two readings.
  return { queued: (queued - before) / (total - 1), completed: (completed - before) / (total - 1), queuedKeys, completedKeys };
}

/**
 * Redis's memory without its script cache and its clients' buffers: a script is loaded once per
 * server, by whichever side sends it first (BullMQ's are the same for both), and a connection's
 * buffers grow with what it last sent (a bulk of jobs) until Redis shrinks them: neither belongs to
 * the executions.
 */
async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
  return field('used_memory') - field('used_memory_scripts') - field('mem_clients_normal');
}

/** Bytes per execution of each kind of key under `prefix` (ids folded into `<id>`), largest first. */
async function bytesPerKey(redis: Redis, prefix: string): Promise<[string, number][]> {
  const kinds = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const kind = key.slice(prefix.length + 1).replace(/exec_[0-9A-Z]{26}|(?<=:)\d+$/, '<id>');
      kinds.set(kind, (kinds.get(kind) ?? 0) + ((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0));
    }
  } while (cursor !== '0');
  return [...kinds].map(([kind, size]): [string, number] => [kind, size / total]).filter(([, size]) => size >= 8).sort((a, b) => b[1] - a[1]);
}

function bytes(n: number): string {
  return `${Math.round(n).toLocaleString('en-US')} B`.padStart(8);
}
