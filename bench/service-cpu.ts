// The services' own CPU per execution, the figure their throughput follows when a machine is busy:
// the gateway's per `POST /v1/executions` (the single submissions' load: 20,000 from 50 connections,
// after a warm-up) beside the plain node:http + `add` server's per request, each a process of its own
// whose CPU time (user and system, from /proc) is read before and after; and the worker process's
// per `demo.noop` executed (20,000 from a paused queue's resume, concurrency 10) beside a plain BullMQ
// `Worker`'s per job, a process of its own too (./plain-worker.ts); then the same with three workers
// of the queue on each side, their processes' CPU time together, where what every worker does for all
// the queue's jobs, not only its own, would show. Each side twice, in the order plain, Conveyor,
// Conveyor, plain, on the same Redis.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { demoNoop } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { startService, type ManagedProcess, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { figure, resumeUntilCompleted, submitNoops } from './common.js';
import { startPlainGateway } from './plain-gateway.js';
import { startPlainWorker } from './plain-worker.js';
import { load, loadRequests } from './submit.js';

const total = 20_000;
const concurrency = 10;
const input = { payload: { text: 'x'.repeat(64) } };
/** How many workers of one queue the scaled-out figure runs: what a worker does for jobs not its own shows there. */
const scaledOut = 3;

export async function serviceCpu(redis: RedisServer): Promise<void> {
  const submit = await inTurn((run) => plainGatewayCpu(redis, run), (run) => gatewayCpu(redis, run));
  const worker = await inTurn((run) => plainWorkerCpu(redis, run), (run) => workerCpu(redis, run));
  const workers = await inTurn((run) => plainWorkerCpu(redis, run, scaledOut), (run) => workerCpu(redis, run, scaledOut));
  console.log(`\nservices' CPU: ${total} demo.noop each, same Redis (µs of the process's CPU time, user and system)`);
  console.log(`  submit   plain node:http + add ${us(submit.plain)} a request   Conveyor's gateway ${us(submit.conveyor)} a submit`);
  console.log(`  process  plain BullMQ Worker   ${us(worker.plain)} a job       Conveyor's worker  ${us(worker.conveyor)} an execution`);
  console.log(`           ${scaledOut} plain Workers     ${us(workers.plain)} a job       ${scaledOut} Conveyor workers  ${us(workers.conveyor)} an execution`);
  figure('gateway-cpu', submit.conveyor / submit.plain, 'node:http + add', us(submit.conveyor), us(submit.plain));
  figure('worker-cpu', worker.conveyor / worker.plain, 'plain BullMQ Worker', us(worker.conveyor), us(worker.plain));
  figure('workers-cpu', workers.conveyor / workers.plain, `${scaledOut} plain BullMQ Workers`, us(workers.conveyor), us(workers.plain));
}

/** Each side's mean of two runs, in the order plain, Conveyor, Conveyor, plain. */
async function inTurn(plain: (run: number) => Promise<number>, conveyor: (run: number) => Promise<number>): Promise<{ plain: number; conveyor: number }> {
  const first = { plain: await plain(1), conveyor: await conveyor(1) };
  const second = { conveyor: await conveyor(2), plain: await plain(2) };
  return { plain: (first.plain + second.plain) / 2, conveyor: (first.conveyor + second.conveyor) / 2 };
}

async function plainGatewayCpu(redis: RedisServer, run: number): Promise<number> {
  const server = await startPlainGateway(redis.url, `plain-cpu-${run}`);
  try {
    return await perRequest(server.process.child.pid!, server.url, '/add');
  } finally {
    await server.process.stop();
  }
}

async function gatewayCpu(redis: RedisServer, run: number): Promise<number> {
  const gateway = await startService('gateway', { REDIS_URL: redis.url, CONVEYOR_PREFIX: `conveyor-cpu-${run}`, GATEWAY_PORT: '0', LOG_LEVEL: 'warn' });
  try {
    return await perRequest(gateway.process.child.pid!, gateway.url!, '/v1/executions');
  } finally {
    await gateway.process.stop();
  }
}

/** The server process's CPU time per request of the timed part of the single submissions' load (after its warm-up). */
async function perRequest(pid: number, url: string, path: string): Promise<number> {
  let spent = 0;
  await load(url, path, {}, async (timed) => {
    const before = processCpuUs(pid);
    await timed();
    spent = processCpuUs(pid) - before;
  });
  return spent / loadRequests;
}

/** `workers` plain BullMQ Workers of one queue, each a process of its own: their CPU time together. */
async function plainWorkerCpu(redis: RedisServer, run: number, workers = 1): Promise<number> {
  const name = `plain-worker-cpu-${run}-${workers}`;
  const connection = createRedis({ url: redis.url, prefix: name }, 'worker');
  const queue = new Queue(name, { connection, prefix: name });
  for (let i = 0; i < total; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, total - i) }, () => ({ name: demoNoop.name, data: input })));
  await queue.pause();
  const started = await Promise.all(Array.from({ length: workers }, () => startPlainWorker(redis.url, name, concurrency)));
  try {
    return await cpuPerExecution(started, () => resumeUntilCompleted(queue, total));
  } finally {
    await Promise.all(started.map((worker) => worker.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }
}

/** `workers` worker processes of the demo queue: their CPU time together. */
async function workerCpu(redis: RedisServer, run: number, workers = 1): Promise<number> {
  const config = { url: redis.url, prefix: `conveyor-worker-cpu-${run}-${workers}` };
  const connection = createRedis(config, 'worker');
  const { queues, submitter } = createExecutionsCore(connection, config.prefix);
  const queue = queues.get(demoNoop.queue);
  await queue.pause();
  await submitNoops(submitter, total, input);
  const env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: config.prefix, WORKER_QUEUES: demoNoop.queue, WORKER_CONCURRENCY: String(concurrency), LOG_LEVEL: 'warn' };
  const started = await Promise.all(Array.from({ length: workers }, () => startService('worker', env)));
  try {
    return await cpuPerExecution(started.map((worker) => worker.process), () => resumeUntilCompleted(queue, total));
  } finally {
    await Promise.all(started.map((worker) => worker.process.stop()));
    await queues.close();
    connection.disconnect();
  }
}

/** The CPU time of `processes` together while `work` runs, per execution. */
async function cpuPerExecution(processes: ManagedProcess[], work: () => Promise<void>): Promise<number> {
  const cpu = () => processes.reduce((sum, process) => sum + processCpuUs(process.child.pid!), 0);
  const before = cpu();
  await work();
  return (cpu() - before) / total;
}

/** Clock ticks per second of /proc's CPU times. */
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** A process's CPU time so far, user and system, in µs (Linux: /proc/<pid>/stat, fields 14 and 15). */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After the command's name, which may itself hold ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / clockTicks) * 1e6;
}

function us(value: number): string {
  return `${Math.round(value)} µs`;
}
