import type { Telemetry } from 'bullmq';
import type { TracingConfig } from '@conveyor/config';

// No OpenTelemetry import here: with tracing off, none of it is ever loaded (see `startTracing`).

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface SpanOptions {
  /** `server`: the span of an incoming request (default `internal`). */
  kind?: 'server' | 'internal';
  attributes?: SpanAttributes;
  /** A request's headers: when they carry a trace (`traceparent`), the span joins it. */
  headers?: Record<string, string | string[] | undefined>;
  /** Whether an error `work` throws is the span's failure (default: any); a refused request's is the caller's. */
  isFailure?: (error: unknown) => boolean;
}

export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
}

export interface Tracing {
  /** Whether spans are recorded: when not, callers skip the work of describing them. */
  readonly on: boolean;
  /** BullMQ's `telemetry` option: a queue's adds and a worker's runs join the active trace. */
  readonly bullmq: Telemetry | undefined;
  /** Runs `work` in a new span, a child of the active one, ended (with the failure, if any) once `work` settles. */
  inSpan<T>(name: string, options: SpanOptions, work: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** Sends the spans not sent yet, and stops. */
  shutdown(): Promise<void>;
}

/** What a tracing set-up may say: export failures are worth a warning. */
export interface TracingLogger {
  warn(fields: object, message: string): void;
}

const noSpan: TraceSpan = { setAttributes: () => undefined };

const off: Tracing = {
  on: false,
  bullmq: undefined,
  inSpan: (_name, _options, work) => work(noSpan),
  shutdown: async () => undefined,
};

let active: Tracing = off;

/** The process's tracing: a pass-through until `startTracing` turns it on. */
export function tracing(): Tracing {
  return active;
}

/**
 * Turns tracing on when configured — before the services create their queues and workers, which
 * take its BullMQ telemetry then. Only here is OpenTelemetry imported, and only when it is wanted.
 */
export async function startTracing(config: TracingConfig | null | undefined, logger: TracingLogger): Promise<void> {
  if (!config) return;
  const { startOpenTelemetry } = await import('./open-telemetry.js');
  active = startOpenTelemetry(config, logger);
}
