// The plain worker Conveyor's worker is measured against: one BullMQ `Worker` of a queue whose handler
// returns its job's data, as a process of its own, as a worker is.
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { spawnManaged, type ManagedProcess } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';

const entry = fileURLToPath(import.meta.url);

/** Starts a plain worker of queue `queue` as a child process, and resolves once its Worker is ready. */
export async function startPlainWorker(redisUrl: string, queue: string, concurrency: number): Promise<ManagedProcess> {
  const worker = spawnManaged('plain worker', process.execPath, [entry], {
    env: { ...process.env, REDIS_URL: redisUrl, PLAIN_QUEUE: queue, PLAIN_CONCURRENCY: String(concurrency) },
  });
  await worker.waitForLine((line) => line.includes('"msg":"ready"'), 10_000);
  return worker;
}

async function work(redisUrl: string, name: string, concurrency: number): Promise<void> {
  const connection = createRedis({ url: redisUrl, prefix: name }, 'worker');
  const worker = new Worker(name, async (job) => job.data, { connection, prefix: name, concurrency });
  await worker.waitUntilReady();
  console.log(JSON.stringify({ msg: 'ready' }));
  process.once('SIGTERM', () => {
    void worker.close().then(() => connection.disconnect());
  });
}

if (process.argv[1] === entry) await work(process.env.REDIS_URL!, process.env.PLAIN_QUEUE!, Number(process.env.PLAIN_CONCURRENCY));
