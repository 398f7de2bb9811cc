// Batch submission: 20 batches of 1,000 demo.noop executions through `POST /v1/executions/batch`
// (HTTP, validation, records and first events, jobs) beside the same jobs added with plain BullMQ `addBulk`.
import { Queue } from 'bullmq';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { ApiClient } from '@conveyor/testing';
import { alternated, figure, meanRate } from './common.js';
import { baseline, type BaselineKind } from './event-log-floor.js';

const batches = 20;
const batchSize = 1000;
/** Batches sent first and not timed, on each side: the figures are of warm processes, not of their first compilations. */
const warmup = 3;
const payload = { payload: { text: 'x'.repeat(64) } };

export async function batchSubmit(redis: RedisServer): Promise<void> {
  const { plain, floor, fork } = await alternated((kind, run) => baselineRate(redis, kind, run), meanRate);
  const conveyor = await conveyorBatch(redis);
  console.log(`\nbatch submission: ${batches} batches of ${batchSize} demo.noop, same Redis`);
  console.log(`  plain BullMQ addBulk (2 runs)   ${plain.toFixed(0).padStart(7)} jobs/s`);
  console.log(`  … + the least event log (2)    ${floor.toFixed(0).padStart(7)} jobs/s   (${(floor / plain).toFixed(2)} × plain: the floor with separate event scripts)`);
  console.log(`  … + it in BullMQ's scripts (2) ${fork.toFixed(0).padStart(7)} jobs/s   (${(fork / plain).toFixed(2)} × plain: the floor of a fork of BullMQ's scripts)`);
  console.log(`  POST /v1/executions/batch      ${conveyor.toFixed(0).padStart(7)} executions/s   (${(conveyor / plain).toFixed(2)} × plain)`);
  figure('batch-submit', conveyor / plain, 'plain BullMQ addBulk', `${conveyor.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('batch-submit-floor', floor / plain, 'plain BullMQ addBulk', `${floor.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
  figure('batch-submit-fork', fork / plain, 'plain BullMQ addBulk', `${fork.toFixed(0)}/s`, `${plain.toFixed(0)}/s`);
}

/** `addBulk`'s rate, or a floor's (with the least event log beside the jobs). */
async function baselineRate(redis: RedisServer, kind: BaselineKind, run: number): Promise<number> {
  const name = `${kind}-batch-${run}`;
  const connection = createRedis({ url: redis.url, prefix: name }, 'request');
  const queue = new Queue(name, { connection, prefix: name });
  const baselineJobs = baseline(kind, connection);
  await queue.waitUntilReady();
  const addBatch = () => baselineJobs.addBulk(queue, Array.from({ length: batchSize }, () => ({ name: 'demo.noop', data: payload })));
  const rate = await timed(addBatch);
  await baselineJobs.checkEvents(queue, (warmup + batches) * batchSize);
  baselineJobs.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate;
}

async function conveyorBatch(redis: RedisServer): Promise<number> {
  const gateway = await startService('gateway', { REDIS_URL: redis.url, CONVEYOR_PREFIX: 'conveyor-batch', GATEWAY_PORT: '0', LOG_LEVEL: 'info' });
  const api = new ApiClient(gateway.url!, {}, false);
  const body = { executions: Array.from({ length: batchSize }, () => ({ task: 'demo.noop', input: payload })) };
  const rate = await timed(async () => {
    const reply = await api.post('/v1/executions/batch', body);
    if (reply.status !== 202) throw new Error(`batch answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  });
  await gateway.process.stop();
  return rate;
}

/** Executions per second over `batches` batches sent one after another, after `warmup` untimed ones. */
async function timed(sendBatch: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmup; i++) await sendBatch();
  const started = performance.now();
  for (let i = 0; i < batches; i++) await sendBatch();
  return (batches * batchSize) / ((performance.now() - started) / 1000);
}
