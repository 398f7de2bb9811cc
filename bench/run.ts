// `npm run bench`: every benchmark, each beside the same work done with plain BullMQ, on a private Redis.
import { RedisServer } from '@conveyor/launcher';
import { batchSubmit } from './batch-submit.js';
import { listExecutions } from './list-executions.js';
import { tickLateness } from './tick-lateness.js';
import { workerThroughput } from './worker-throughput.js';

const redis = await RedisServer.start();
try {
  await workerThroughput(redis);
  await batchSubmit(redis);
  await listExecutions(redis);
  await tickLateness(redis);
} finally {
  await redis.stop();
}
