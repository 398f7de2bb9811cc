// `npm run bench`: every benchmark, each beside the same work done with plain BullMQ, on a private Redis.
import { RedisServer } from '@conveyor/launcher';
import { workerThroughput } from './worker-throughput.js';

const redis = await RedisServer.start();
try {
  await workerThroughput(redis);
} finally {
  await redis.stop();
}
