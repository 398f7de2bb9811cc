// `npm run bench`: every benchmark, each beside plain BullMQ (the monitor: beside a minimal socket.io relay)
// in the same run, on a private Redis. `BENCH_ONLY=tick npm run bench` runs only the benchmarks whose name
// contains `tick`.
import { RedisServer } from '@conveyor/launcher';
import { batchSubmit } from './batch-submit.js';
import { footprint } from './footprint.js';
import { healthUnderBatches } from './health-under-batches.js';
import { listExecutions } from './list-executions.js';
import { monitorFanout } from './monitor-fanout.js';
import { monitorSockets } from './monitor-sockets.js';
import { redisBudget, redisInstructions } from './redis-budget.js';
import { serviceCpu } from './service-cpu.js';
import { submit } from './submit.js';
import { tickLateness } from './tick-lateness.js';
import { workerThroughput } from './worker-throughput.js';

const benchmarks: Record<string, (redis: RedisServer) => Promise<void>> = {
  'single-submit': submit,
  'worker-throughput': workerThroughput,
  'batch-submit': batchSubmit,
  'health-under-batches': healthUnderBatches,
  'list-executions': listExecutions,
  'tick-lateness': tickLateness,
  'monitor-fanout': monitorFanout,
  'monitor-sockets': monitorSockets,
  footprint,
  'redis-budget': redisBudget,
  'redis-instructions': redisInstructions,
  'service-cpu': serviceCpu,
};

const only = process.env.BENCH_ONLY;
const chosen = Object.entries(benchmarks).filter(([name]) => !only || name.includes(only));
if (chosen.length === 0) throw new Error(`BENCH_ONLY=${only} matches no benchmark (${Object.keys(benchmarks).join(', ')})`);

const redis = await RedisServer.start();
try {
  for (const [, run] of chosen) await run(redis);
} finally {
  await redis.stop();
}
