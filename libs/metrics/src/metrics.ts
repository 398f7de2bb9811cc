import type { ExecutionEventType } from '@conveyor/contracts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, register, type GaugeConfiguration } from 'prom-client';

/**
 * Conveyor's Prometheus metrics, in prom-client's default registry. Counters and histograms live in
 * the memory of the process that saw the fact (no Redis round trip); Prometheus sums them across
 * services and replicas. Labels are bounded: queue, task, route template, status — never an
 * execution, schedule or tenant id.
 */
let on = false;

/** Turns metrics on for this process (`CONVEYOR_METRICS`); off, nothing is counted and `/metrics` is not served. */
export function startMetrics(enabled: boolean): void {
  if (on || !enabled) return;
  on = true;
  collectDefaultMetrics();
}

export function metricsOn(): boolean {
  return on;
}

/** The exposition text and its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: register.contentType, body: await register.metrics() };
}

/** A gauge read at each scrape; built again (a second module in one process), it replaces the first. */
function scrapedGauge<L extends string>(configuration: GaugeConfiguration<L>): void {
  register.removeSingleMetric(configuration.name);
  new Gauge(configuration);
}

const byTask = ['queue', 'task'] as const;

/** Seconds, from 1 ms to 10 min. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds, from 1 ms to 5 s: for what takes well under a second. */
const fastBuckets = durationBuckets.slice(0, 12);

const httpDuration = new Histogram({
  name: 'conveyor_http_request_duration_seconds',
  help: 'HTTP requests answered, by method, route template (never the raw path) and status',
  labelNames: ['method', 'route', 'status'],
  buckets: fastBuckets,
});

/** A request answered; `route` is its template, `null` when no route matched. */
export function observeHttpRequest(method: string, route: string | null, status: number, seconds: number): void {
  if (on) httpDuration.observe({ method, route: route ?? 'unmatched', status: String(status) }, seconds);
}


const submitted = new Counter({ name: 'conveyor_executions_submitted_total', help: 'Executions created (queued or scheduled), by whichever service submitted them', labelNames: byTask });

/** The events counted as they are written (`execution.queued` is not: it is written again when an execution goes back to its queue). */
const counted: Partial<Record<ExecutionEventType, Counter<(typeof byTask)[number]>>> = {
  'execution.started': new Counter({ name: 'conveyor_executions_started_total', help: 'Attempts started by workers', labelNames: byTask }),
  'execution.completed': new Counter({ name: 'conveyor_executions_completed_total', help: 'Executions completed', labelNames: byTask }),
  'execution.failed': new Counter({ name: 'conveyor_executions_failed_total', help: 'Executions failed for good (after their retries)', labelNames: byTask }),
  'execution.retrying': new Counter({ name: 'conveyor_executions_retried_total', help: 'Failed attempts that will be retried', labelNames: byTask }),
  'execution.cancelled': new Counter({ name: 'conveyor_executions_cancelled_total', help: 'Executions cancelled', labelNames: byTask }),
};

const runDuration = new Histogram({
  name: 'conveyor_execution_run_duration_seconds',
  help: "One attempt's run time: from its start until its handler returned or threw",
  labelNames: byTask,
  buckets: durationBuckets,
});

const queueWait = new Histogram({
  name: 'conveyor_execution_queue_wait_seconds',
  help: 'Time from when an execution was due (submitted, or its run-at) until its first attempt started',
  labelNames: byTask,
  buckets: durationBuckets,
});

const consuming = new Gauge({ name: 'conveyor_worker_concurrency', help: 'Executions this worker runs at once, per queue it consumes', labelNames: ['queue'] });

const stalled = new Counter({ name: 'conveyor_executions_stalled_total', help: 'Executions whose worker lost them (crashed or blocked past its lock), found by a worker', labelNames: ['queue'] });

const ticksFired = new Counter({ name: 'conveyor_schedule_ticks_fired_total', help: 'Schedule ticks that made a run (run-now included)', labelNames: ['manual'] });
const ticksSkipped = new Counter({ name: 'conveyor_schedule_ticks_skipped_total', help: 'Schedule ticks that made no run', labelNames: ['reason'] });
const tickLateness = new Histogram({
  name: 'conveyor_schedule_tick_lateness_seconds',
  help: "How long after its due time a schedule's tick fired",
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
});
const pausedAfterFailures = new Counter({ name: 'conveyor_schedules_paused_after_failures_total', help: 'Schedules paused because their runs failed pauseAfterFailures times in a row' });

type TaskLabels = { queue: string; task: string };

const taskLabels = ({ queue, task }: TaskLabels) => ({ queue, task });

export function countSubmitted(ref: TaskLabels): void {
  if (on) submitted.inc(taskLabels(ref));
}

/** An execution event written: counted when it is one of the counted kinds. */
export function countExecutionEvent(type: ExecutionEventType, ref: TaskLabels): void {
  if (on) counted[type]?.inc(taskLabels(ref));
}

export function observeRun(ref: TaskLabels, seconds: number): void {
  if (on) runDuration.observe(taskLabels(ref), seconds);
}

export function observeQueueWait(ref: TaskLabels, seconds: number): void {
  if (on) queueWait.observe(taskLabels(ref), Math.max(0, seconds));
}

/** This worker consumes the queue: a queue without this series has no worker. */
export function exportConsuming(queue: string, concurrency: number): void {
  if (on) consuming.set({ queue }, concurrency);
}

export function countStalled(queue: string): void {
  if (on) stalled.inc({ queue });
}

/** A tick fired; `latenessMs` for a timed tick (not run-now). */
export function countTickFired(manual: boolean, latenessMs: number | null): void {
  if (!on) return;
  ticksFired.inc({ manual: String(manual) });
  if (latenessMs !== null) tickLateness.observe(Math.max(0, latenessMs) / 1000);
}

export function countTickSkipped(reason: string): void {
  if (on) ticksSkipped.inc({ reason });
}

export function countPausedAfterFailures(): void {
  if (on) pausedAfterFailures.inc();
}

/**
 * `conveyor_queue_executions{queue,status}`, read from Conveyor's counters at each scrape. Only the
 * gateway exports it (replicas export the same values: dashboards and alerts take `max` across them).
 * Unreadable (Redis down): no series, rather than a failed scrape.
 */
export function exportQueueDepth(queues: readonly string[], read: (queue: string) => Promise<Record<string, number>>): void {
  scrapedGauge({
    name: 'conveyor_queue_executions',
    help: 'Executions per queue and status, from Conveyor’s own counters (exported by the gateway)',
    labelNames: ['queue', 'status'],
    async collect() {
      this.reset();
      const counted = await Promise.all(queues.map(async (queue) => ({ queue, counts: await read(queue) }))).catch(() => []);
      for (const { queue, counts } of counted) for (const [status, count] of Object.entries(counts)) this.set({ queue, status }, count);
    },
  });
}

const delivered = new Counter({ name: 'conveyor_monitor_events_delivered_total', help: 'Live events sent to sockets (one per socket reached)' });
const deliveryLag = new Histogram({
  name: 'conveyor_monitor_delivery_lag_seconds',
  help: 'From when an event was written until the monitor sent it on, once per event sent',
  buckets: fastBuckets,
});

/** A live event sent to `sockets` sockets at once; `writtenAt` its `ts`. */
export function countDelivered(sockets: number, writtenAt: string): void {
  if (!on) return;
  delivered.inc(sockets);
  deliveryLag.observe(Math.max(0, Date.now() - Date.parse(writtenAt)) / 1000);
}

/** The monitor's sockets and subscriptions, read at each scrape. */
export function exportMonitorGauges(sockets: () => number, subscriptions: () => number): void {
  scrapedGauge({
    name: 'conveyor_monitor_sockets',
    help: 'Sockets connected to this monitor',
    collect() {
      this.set(sockets());
    },
  });
  scrapedGauge({
    name: 'conveyor_monitor_subscriptions',
    help: "Subscriptions this monitor serves: executions and schedules followed, and rooms joined",
    collect() {
      this.set(subscriptions());
    },
  });
}

const redisTimeoutMs = 1000;

/**
 * `conveyor_redis_up` and the round trip of a `PING`, measured when Prometheus scrapes (one PING a
 * scrape, none per execution). Each service watches its own connection.
 */
export function watchRedis(redis: { ping(): Promise<unknown> }): void {
  // Both gauges are collected at once, in one scrape: they share its PING.
  let inflight: Promise<number | null> | null = null;
  const roundTrip = () =>
    (inflight ??= (async () => {
      const started = performance.now();
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), redisTimeoutMs).unref());
      return Promise.race([redis.ping(), timeout]).then(
        () => (performance.now() - started) / 1000,
        () => null,
      );
    })().finally(() => (inflight = null)));
  scrapedGauge({
    name: 'conveyor_redis_up',
    help: "1 when this service's Redis answered a PING within a second, else 0",
    async collect() {
      this.set((await roundTrip()) === null ? 0 : 1);
    },
  });
  scrapedGauge({
    name: 'conveyor_redis_ping_seconds',
    help: "Round trip of a PING to this service's Redis, at this scrape (NaN when it did not answer)",
    async collect() {
      this.set((await roundTrip()) ?? Number.NaN);
    },
  });
}
