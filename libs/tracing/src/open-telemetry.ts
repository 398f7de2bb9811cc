import { context, diag, DiagLogLevel, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, resourceAttributesEnvDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, SamplingDecision, TracerProvider, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { BullMQOtel } from 'bullmq-otel';
import type { TracingConfig } from '@conveyor/config';
import type { SpanAttributes, Tracing, TracingLogger } from './tracing.js';

// Loaded only when tracing is on (see `startTracing`).

const tracerName = 'conveyor';

/**
 * BullMQ's housekeeping, traced by every worker all day long (each poll for a job, lock renewal, the
 * stalled-job check): left out, so that traces are the work done.
 */
const backgroundOperations = new Set(['getNextJob', 'extendLocks', 'startStalledCheckTimer', 'moveStalledJobsToWait']);

const sampleByParent = new ParentBasedSampler({ root: new AlwaysOnSampler() });
const everyTraceButHousekeeping: Sampler = {
  shouldSample(parent, traceId, spanName, spanKind, attributes, links) {
    if (backgroundOperations.has(spanName.split(' ', 1)[0])) return { decision: SamplingDecision.NOT_RECORD };
    return sampleByParent.shouldSample(parent, traceId, spanName, spanKind, attributes, links);
  },
  toString: () => 'EveryTraceButBullMQHousekeeping',
};

/**
 * BullMQ adds each job's result, as JSON up to its size limit, to its `process` span (the `job
 * completed` event): a handler's result is the user's data, not telemetry, so it is left out before
 * any span is sent.
 */
const jobResultsLeftOut: SpanProcessor = {
  onStart: () => undefined,
  onEnding(span) {
    for (const event of span.events) delete event.attributes?.['bullmq.job.result'];
  },
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/** The OTLP/HTTP (JSON) exporter behind a batching processor; W3C trace context across processes. */
export function startOpenTelemetry(config: TracingConfig, logger: TracingLogger): Tracing {
  // OpenTelemetry's own diagnostics: export failures, dropped spans.
  const report = (message: string, ...args: unknown[]) => logger.warn({ reason: message, detail: args.length > 0 ? args.map(String) : undefined }, 'tracing problem');
  const quiet = () => undefined;
  diag.setLogger({ error: report, warn: report, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new TracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES adds to the resource; the service name is set already (OTEL_SERVICE_NAME honoured).
    resource: detectResources({ detectors: [resourceAttributesEnvDetector] }).merge(resourceFromAttributes({ 'service.name': config.serviceName })),
    sampler: everyTraceButHousekeeping,
    spanProcessors: [jobResultsLeftOut, new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: config.scheduleDelayMs ?? undefined })],
  });
  trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer(tracerName);

  return {
    on: true,
    bullmq: new BullMQOtel({ tracerName }),
    inSpan(name, options, work) {
      const parent: Context = options.headers ? propagation.extract(context.active(), options.headers) : context.active();
      const kind = options.kind === 'server' ? SpanKind.SERVER : SpanKind.INTERNAL;
      return tracer.startActiveSpan(name, { kind, attributes: defined(options.attributes) }, parent, async (span) => {
        try {
          return await work({ setAttributes: (attributes) => span.setAttributes(defined(attributes)) });
        } catch (error) {
          if (options.isFailure?.(error) ?? true) {
            span.recordException(error instanceof Error ? error : String(error));
            span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          }
          throw error;
        } finally {
          span.end();
        }
      });
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}

function defined(attributes: SpanAttributes | undefined): Attributes {
  return Object.fromEntries(Object.entries(attributes ?? {}).filter(([, value]) => value !== undefined));
}
