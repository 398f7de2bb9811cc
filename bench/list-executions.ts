// Listing with 100,000 executions kept: `GET /v1/executions` (newest first, with and without filters)
// beside plain BullMQ's `getJobs` for a page of the same size, on the same Redis.
import { Queue } from 'bullmq';
import { demoNoop, demoSteps } from '@conveyor/contracts';
import { createExecutionsCore, type Submission } from '@conveyor/executions';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { ApiClient } from '@conveyor/testing';
import { figure } from './common.js';

const total = Number(process.env.BENCH_LIST_EXECUTIONS ?? 100_000);
const rounds = 200;

export async function listExecutions(redis: RedisServer): Promise<void> {
  const prefix = 'conveyor-list';
  const connection = createRedis({ url: redis.url, prefix }, 'worker');
  const { submitter, queues } = createExecutionsCore(connection, prefix);
  for (let i = 0; i < total; i += 1000) {
    // One in a hundred is tagged `rare`: a selective filter.
    await submitter.submitMany(
      Array.from({ length: 1000 }, (_, j): Submission =>
        (i + j) % 100 === 0
          ? { task: demoSteps, input: { steps: 1, stepMs: 0 }, options: { tags: ['rare'] } }
          : { task: demoNoop, input: {}, options: { tags: ['common'] } },
      ),
      'default',
    );
  }
  const gateway = await startService('gateway', { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, GATEWAY_PORT: '0', LOG_LEVEL: 'warn' });
  const api = new ApiClient(gateway.url!, {}, false);
  const plainQueue = queues.get(demoNoop.queue) as unknown as Queue;

  console.log(`\nlisting 50 of ${total} kept executions, median of ${rounds} requests`);
  const plainMs = await median(() => plainQueue.getJobs(['prioritized', 'wait'], 0, 49));
  console.log(`  plain BullMQ getJobs (in process, no filter)              ${plainMs.toFixed(2).padStart(7)} ms`);
  for (const query of ['', 'tag=rare', 'task=demo.noop&tag=rare', 'status=queued&tag=common']) {
    const ms = await median(() => api.get(`/v1/executions?limit=50&${query}`));
    console.log(`  GET /v1/executions?limit=50${query ? `&${query}` : ''}`.padEnd(60) + `${ms.toFixed(2).padStart(7)} ms`);
    if (query === '') figure('list-executions', ms / plainMs, 'BullMQ getJobs in process', `${ms.toFixed(2)} ms over HTTP`, `${plainMs.toFixed(2)} ms`);
  }
  await gateway.process.stop();
  await queues.close();
  connection.disconnect();
}

async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}
