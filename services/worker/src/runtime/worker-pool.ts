import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MetricsTime, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import type { ControlMessage } from '@conveyor/executions';
import { countStalled, exportConsuming } from '@conveyor/metrics';
import { createRedis, listenSharded, RedisKeys } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { tracing } from '@conveyor/tracing';
import { executionQueuesOf, WORKER_CONFIG } from '../worker-config.js';
import { JobMovesWithEvents } from './job-moves-with-events.js';
import { plannedRetryDelay, TaskRunner, type ExecutionJob } from './task-runner.js';

/**
 * Locks are short so that a crashed worker's executions run again within about 15 s (a lock of 5 s,
 * a stall check every 4 s). The cost: a handler that blocks the event loop for more than 5 s loses
 * its lock and its execution runs a second time elsewhere. Five stalls are forgiven before an
 * execution fails as stalled, so that a crash or two (or a rollout) is not a failure.
 */
export const lockDurationMs = 5_000;
export const stalledIntervalMs = 4_000;
export const maxStalledCount = 5;

/**
 * Test hook only: dies as BullMQ reports the end of a job (`complete`, `fail`), or hands the worker
 * its n-th job (`pick:<n>`), before the worker's own work after it (a crash there). Its setting is
 * read once: each read of `process.env` asks the process's environment again.
 */
const crashPointForTest = process.env.CONVEYOR_TEST_CRASH_AFTER;
const crashForTest = (after: 'complete' | 'fail' | `pick:${number}`) => crashPointForTest === after && process.kill(process.pid, 'SIGKILL');
/** Test hook only: how long a job BullMQ hands the worker waits before it runs (requests made meanwhile). */
const pickDelayForTest = Number(process.env.CONVEYOR_TEST_PICK_DELAY_MS ?? 0);

/** One BullMQ worker per consumed queue, all running jobs through the TaskRunner. */
@Injectable()
export class WorkerPool implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers = new Map<string, { worker: Worker; connection: Redis }>();
  private control: Redis | null = null;
  /** How many jobs BullMQ has handed this worker (for the test hook). */
  private picked = 0;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: RedisKeys,
    private readonly runner: TaskRunner,
    private readonly moves: JobMovesWithEvents,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const queue of executionQueuesOf(this.config)) this.workers.set(queue, this.startWorker(queue));
    await this.listenForControl();
  }

  /** Stops taking work, lets running handlers finish within the grace period, then parks the rest. */
  async onApplicationShutdown(): Promise<void> {
    this.control?.disconnect();
    const running = [...this.workers.values()];
    const closing = Promise.all(
      running.map(async ({ worker, connection }) => {
        await worker.close();
        // The worker was given its connection, so it does not close it.
        connection.disconnect();
      }),
    );
    const finishedInTime = await Promise.race([closing.then(() => true), delay(this.config.shutdownGraceMs).then(() => false)]);
    if (!finishedInTime) {
      this.logger.warn({ graceMs: this.config.shutdownGraceMs }, 'grace period over: queueing running executions again');
      running.forEach(({ worker }) => worker.cancelAllJobs('shutdown'));
      await closing;
    }
  }

  private startWorker(queue: string): { worker: Worker; connection: Redis } {
    const connection = createRedis(this.config.redis, 'worker');
    // Before the worker defines BullMQ's scripts on it, so that its ends of jobs record their executions' endings.
    this.moves.install(connection, queue);
    const worker = new Worker(
      this.keys.bullQueueName(queue),
      // Three parameters: BullMQ only passes an AbortSignal to processors that declare it.
      (job: ExecutionJob, token?: string, signal?: AbortSignal) => {
        crashForTest(`pick:${++this.picked}`);
        if (pickDelayForTest > 0) return delay(pickDelayForTest).then(() => this.runner.process(queue, job, token, signal));
        return this.runner.process(queue, job, token, signal);
      },
      {
        connection,
        prefix: this.keys.prefix,
        concurrency: this.config.concurrency,
        lockDuration: lockDurationMs,
        stalledInterval: stalledIntervalMs,
        maxStalledCount,
        // Per-minute completed/failed counts for `GET /v1/queues/:name` (and Bull Board).
        metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
        settings: { backoffStrategy: (_attempts, _type, error) => plannedRetryDelay(error) },
        // With tracing on, each run continues the trace of the request that submitted it.
        telemetry: tracing().bullmq,
      },
    );
    const report = (what: string, job?: ExecutionJob) => (err: unknown) => this.logger.error({ err, queue, executionId: job?.id, task: job?.name }, what);
    worker.on('completed', (job: ExecutionJob, result: unknown) => {
      crashForTest('complete');
      this.runner.completed(queue, job, result).catch(report('completion not recorded', job));
    });
    worker.on('failed', (job: ExecutionJob | undefined, error: Error) => {
      crashForTest('fail');
      if (job) this.runner.failed(queue, job, error).catch(report('failure not recorded', job));
    });
    worker.on('error', report('worker error'));
    worker.on('stalled', () => countStalled(queue));
    exportConsuming(queue, this.config.concurrency);
    return { worker, connection };
  }

  /** Every worker hears every request; only the one running the execution acts on it. */
  private async listenForControl(): Promise<void> {
    const control = createRedis(this.config.redis, 'subscriber');
    control.on('error', (err) => this.logger.warn({ err }, 'control channel connection error'));
    this.control = control;
    await listenSharded(control, [...this.workers.keys()].map((queue) => this.keys.controlChannel(queue)), (channel, message) => {
      const queue = [...this.workers.keys()].find((q) => this.keys.controlChannel(q) === channel);
      const { action, executionId } = parseControl(message) ?? {};
      if (!queue || !executionId) return;
      if (action === 'cancel' && !this.workers.get(queue)?.worker.cancelJob(executionId, 'cancel')) this.runner.noteRequestedAhead(executionId);
      if (action === 'pause') this.runner.notePauseRequested(executionId);
    });
  }
}

function parseControl(message: string): ControlMessage | null {
  try {
    return JSON.parse(message) as ControlMessage;
  } catch {
    return null;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
