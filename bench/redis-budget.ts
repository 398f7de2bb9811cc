// Redis's own cost per execution: 2,000 demo.noop submitted through `POST /v1/executions` and then
// processed by one worker, beside 2,000 plain BullMQ jobs added with `add` and processed by a plain
// `Worker`, and the same again with the least event log beside BullMQ's scripts and inside them
// (./event-log-floor.ts), on the same Redis.
// Per execution: the Redis server's CPU time (INFO cpu: commands, scripts and networking), commands
// (those a script runs included) and script calls (INFO commandstats).
// `redis-instructions` does the same with 500 on a Redis of its own run under valgrind's callgrind,
// and counts the instructions Redis ran per execution: a figure that neither the machine's load nor
// its speed changes, so that two versions can be compared across runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { demoNoop } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { RedisServer, startService } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { ApiClient } from '@conveyor/testing';
import { figure, resumeUntilCompleted } from './common.js';
import { baseline, type BaselineKind } from './event-log-floor.js';

const inFlight = 20;
const input = { payload: { text: 'x'.repeat(64) } };

/** What Redis spent on a step, per execution. */
interface Cost {
  cpuUs: number;
  /** Instructions Redis ran, when counted (`redis-instructions`). */
  instructions?: number;
  commands: number;
  scripts: number;
  /** The commands that took most of the server's time, with calls and µs per execution (a script's time includes its commands'). */
  top: { name: string; calls: number; us: number }[];
}

/** Counts the instructions a Redis under callgrind runs between `zero` and `count`. */
class InstructionCounter {
  constructor(
    private readonly pid: number,
    private readonly dir: string,
  ) {}

  zero(): void {
    execFileSync('callgrind_control', ['--zero', String(this.pid)], { stdio: 'ignore' });
  }

  count(): number {
    execFileSync('callgrind_control', ['--dump', String(this.pid)], { stdio: 'ignore' });
    // Dumps are numbered in order: redis.<pid>.1, redis.<pid>.2, …
    const last = Math.max(...readdirSync(this.dir).map((file) => Number(/^redis\.\d+\.(\d+)$/.exec(file)?.[1] ?? 0)));
    return Number(/^totals: (\d+)/m.exec(readFileSync(join(this.dir, `redis.${this.pid}.${last}`), 'utf8'))?.[1]);
  }
}

export async function redisBudget(redis: RedisServer): Promise<void> {
  await budget(redis, 2000);
}

export async function redisInstructions(): Promise<void> {
  if (spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('\nredis-instructions: skipped, valgrind is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-callgrind-'));
  // Only what commands cost is counted (the server's timers run by the clock, which a loaded machine slows),
  // and no command is slow enough for the slow log, whatever the machine's load.
  const redis = await RedisServer.start({
    wrapper: ['valgrind', '--tool=callgrind', '--toggle-collect=readQueryFromClient', `--callgrind-out-file=${join(dir, 'redis.%p')}`],
  });
  try {
    // Fewer: callgrind runs Redis many times slower, and an instruction count needs no large sample.
    await budget(redis, 500, new InstructionCounter(redis.pid!, dir));
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures `total` executions of each kind. */
async function budget(redis: RedisServer, total: number, counter?: InstructionCounter): Promise<void> {
  const admin = createRedis({ url: redis.url, prefix: 'budget' }, 'request');
  const measure = (step: () => Promise<void>) => measureStep(admin, total, step, counter);
  try {
    if (admin.status !== 'ready') await once(admin, 'ready');
    if (counter) await admin.config('SET', 'slowlog-log-slower-than', '-1');
    const plain = await baselineBudget(redis, total, measure, 'plain');
    const floor = await baselineBudget(redis, total, measure, 'floor');
    const fork = await baselineBudget(redis, total, measure, 'fork');
    const conveyor = await conveyorBudget(redis, total, measure);
    console.log(`\nRedis per execution: ${total} demo.noop, ${inFlight} submissions in flight, then one worker (concurrency 10), same Redis`);
    console.log(`  plain BullMQ   submit ${line(plain.submit)}`);
    console.log(`                 process ${line(plain.process)}`);
    console.log(`  + event log    submit ${line(floor.submit)}`);
    console.log(`   (the least)   process ${line(floor.process)}`);
    console.log(`  + it in        submit ${line(fork.submit)}`);
    console.log(`   BullMQ's      process ${line(fork.process)}`);
    console.log(`  Conveyor       submit ${line(conveyor.submit)}`);
    console.log(`                 process ${line(conveyor.process)}`);
    // Each side against plain, per step: Redis's instructions when counted, else its CPU time.
    const [prefix, value, show] = counter ? ['redis-instructions', (cost: Cost) => cost.instructions!, instructions] : ['redis', (cost: Cost) => cost.cpuUs, us];
    for (const [suffix, side] of [['', conveyor], ['-floor', floor], ['-fork', fork]] as const) {
      for (const [step, against] of [['submit', 'plain BullMQ add'], ['process', 'plain BullMQ worker']] as const) {
        figure(`${prefix}-${step}${suffix}`, value(side[step]) / value(plain[step]), against, show(side[step]), show(plain[step]));
      }
    }
  } finally {
    admin.disconnect();
  }
}

type Measure = (step: () => Promise<void>) => Promise<Cost>;

/** Plain BullMQ's cost, or a floor's (with the least event log, ./event-log-floor.ts). */
async function baselineBudget(redis: RedisServer, total: number, measure: Measure, kind: BaselineKind): Promise<{ submit: Cost; process: Cost }> {
  const name = `${kind}-budget`;
  const connection = createRedis({ url: redis.url, prefix: name }, 'worker');
  const queue = new Queue(name, { connection, prefix: name });
  const jobs = baseline(kind, connection);
  await queue.waitUntilReady();
  const submit = await measure(() => inParallel(total, () => jobs.add(queue, demoNoop.name, input)));
  const workerConnection = connection.duplicate();
  // The worker starts on a paused queue, so that its start is not counted as processing.
  await queue.pause();
  const worker = jobs.worker(name, async () => null, { connection: workerConnection, prefix: name, concurrency: 10 });
  await worker.waitUntilReady();
  const processing = await measure(() => resumeUntilCompleted(queue, total, 50));
  await worker.close();
  await jobs.checkEvents(queue, 3 * total);
  jobs.close();
  workerConnection.disconnect();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { submit, process: processing };
}

async function conveyorBudget(redis: RedisServer, total: number, measure: Measure): Promise<{ submit: Cost; process: Cost }> {
  const prefix = 'conveyor-budget';
  const env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const gateway = await startService('gateway', { ...env, GATEWAY_PORT: '0' });
  const api = new ApiClient(gateway.url!, {}, false);
  const connection = createRedis({ url: redis.url, prefix }, 'request');
  const { queues } = createExecutionsCore(connection, prefix);
  try {
    const submit = await measure(() => inParallel(total, () => api.post('/v1/executions', { task: demoNoop.name, input })));
    await queues.get(demoNoop.queue).pause();
    const worker = await startService('worker', { ...env, WORKER_QUEUES: demoNoop.queue, WORKER_CONCURRENCY: '10' });
    const processing = await measure(() => resumeUntilCompleted(queues.get(demoNoop.queue), total, 50));
    await worker.process.stop();
    return { submit, process: processing };
  } finally {
    await gateway.process.stop();
    await queues.close();
    connection.disconnect();
  }
}

/** Runs `step` `total` times, `inFlight` at once. */
async function inParallel(total: number, step: () => Promise<unknown>): Promise<void> {
  let started = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (started++ < total) await step();
  }));
}

/** Redis's cost of `step`, per execution (what else runs meanwhile, a service's timers, counts too). */
async function measureStep(redis: Redis, total: number, step: () => Promise<void>, counter?: InstructionCounter): Promise<Cost> {
  await redis.config('RESETSTAT');
  const cpuBefore = await cpuSeconds(redis);
  counter?.zero();
  await step();
  const counted = counter?.count();
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
    instructions: counted === undefined ? undefined : counted / total,
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

function instructions({ instructions = 0 }: Cost): string {
  return `${Math.round(instructions / 1000)}k instructions`;
}

function line(cost: Cost): string {
  if (cost.instructions !== undefined) return `${instructions(cost).padStart(18)}   ${cost.commands.toFixed(1).padStart(5)} commands   ${cost.scripts.toFixed(1).padStart(4)} scripts`;
  const top = cost.top.map(({ name, calls, us }) => `${name} ${calls.toFixed(1)}× ${us.toFixed(0)} µs`).join(', ');
  return `${us(cost).padStart(7)} of Redis CPU   ${cost.commands.toFixed(1).padStart(5)} commands   ${cost.scripts.toFixed(1).padStart(4)} scripts   (most: ${top})`;
}
