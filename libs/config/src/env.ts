import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, ValidateBy } from 'class-validator';
import { parseAddressRules, parseHostRules, type ParsedList } from '@conveyor/egress';
import { parseOrigins } from './origins.js';

// The only place that names environment variables. Each process validates its own class once, at start-up.

const hostPortList = /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/;
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const otlpUrl = { protocols: ['http', 'https'], require_tld: false, require_protocol: true };
const otlpProtocols = ['http/json'];
const otlpProtocolMessage = 'must be http/json, the one OTLP protocol Conveyor sends (unset means it too)';

/** An optional whole number from `min` (to `max`). */
function OptionalInt(min: number, max?: number): PropertyDecorator {
  const decorators = [IsOptional(), IsInt(), Min(min), ...(max === undefined ? [] : [Max(max)])];
  return (target, property) => decorators.forEach((decorate) => decorate(target, property));
}

/** A comma list whose every entry `parse` accepts; the message quotes the entries it does not. */
function IsEntryList(parse: (list: string) => ParsedList<unknown>, expected: string) {
  return ValidateBy({
    name: 'isEntryList',
    validator: {
      validate: (value) => typeof value === 'string' && parse(value).invalid.length === 0,
      defaultMessage: (args) => `must list ${expected}; not: ${parse(String(args?.value)).invalid.map((entry) => JSON.stringify(entry)).join(', ')}`,
    },
  });
}

export class RedisEnv {
  @IsOptional()
  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsOptional()
  @Matches(hostPortList, { message: 'must be a comma-separated list of host:port' })
  REDIS_CLUSTER_NODES?: string;

  @IsOptional()
  @Matches(/^[a-z0-9-]{1,32}$/, { message: 'must be 1–32 characters of a-z, 0-9 and -' })
  CONVEYOR_PREFIX = 'conveyor';

  /** Replicas that must hold new executions before they are acknowledged (`WAIT`): survives a failover. */
  @OptionalInt(0, 16)
  REDIS_WAIT_REPLICAS: number = 0;

  /** How long a submission waits for those replicas before it answers 503 `not_replicated`. */
  @OptionalInt(1, 60_000)
  REDIS_WAIT_TIMEOUT_MS: number = 1_000;
}

export class ServiceEnv extends RedisEnv {
  @IsOptional()
  @IsString()
  HOST = '127.0.0.1';

  @IsOptional()
  @IsIn(logLevels)
  LOG_LEVEL: (typeof logLevels)[number] = 'info';

  /** Whether `demo.steps` / `demo.noop` are offered (gateway) and run (worker); deployments turn them off. */
  @IsOptional()
  @IsIn(['true', 'false'])
  CONVEYOR_DEMO_TASKS: 'true' | 'false' = 'true';

  // OpenTelemetry's own variables (the gateway and the worker trace): the exporter also reads the
  // OTEL_EXPORTER_OTLP_* headers, timeout, compression and certificates itself.

  /** Where traces go (OTLP over HTTP, `/v1/traces` appended); unset: no tracing, and none of its code loaded. */
  @IsOptional()
  @IsUrl(otlpUrl)
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** The same for traces alone, used as it is. */
  @IsOptional()
  @IsUrl(otlpUrl)
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  @IsOptional()
  @IsIn(otlpProtocols, { message: otlpProtocolMessage })
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;

  @IsOptional()
  @IsIn(otlpProtocols, { message: otlpProtocolMessage })
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;

  /** The resource's `service.name`; unset: `conveyor-gateway` or `conveyor-worker`. */
  @IsOptional()
  @IsString()
  OTEL_SERVICE_NAME?: string;

  /** How long finished spans wait to be sent together. */
  @OptionalInt(0, 3_600_000)
  OTEL_BSP_SCHEDULE_DELAY?: number;

  /** Whether the service counts Prometheus metrics and serves `/metrics`. */
  @IsOptional()
  @IsIn(['true', 'false'])
  CONVEYOR_METRICS: 'true' | 'false' = 'true';
}

export class WorkerEnv extends ServiceEnv {
  /** Comma-separated queue names; unset = every queue of the catalogue. */
  @IsOptional()
  @Matches(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, { message: 'must be a comma-separated list of queue names' })
  WORKER_QUEUES?: string;

  @OptionalInt(1, 1000)
  WORKER_CONCURRENCY: number = 10;

  /** How many schedule ticks a worker runs at once: a tick only waits on Redis, so many may. */
  @OptionalInt(1, 1000)
  WORKER_TICK_CONCURRENCY: number = 50;

  @OptionalInt(0, 65535)
  WORKER_HEALTH_PORT?: number;

  /** How long running handlers may go on after SIGTERM. */
  @OptionalInt(0, 3_600_000)
  WORKER_SHUTDOWN_GRACE_MS: number = 10_000;

  /** How long a cancelled handler may take to stop before it is written off (its late result discarded). */
  @OptionalInt(0, 600_000)
  WORKER_CANCEL_GRACE_MS: number = 5_000;

  /** Terminal executions older than this are removed (job, record, events and logs together). */
  @OptionalInt(0)
  RETENTION_MAX_AGE_MS: number = 7 * 24 * 60 * 60 * 1000;

  /** At most this many terminal executions are kept per queue (the oldest go first). */
  @OptionalInt(0)
  RETENTION_MAX_COUNT: number = 10_000;

  /** How often retention runs (once per interval across all workers). */
  @OptionalInt(100)
  RETENTION_INTERVAL_MS: number = 60_000;

  /** Comma-separated host names the `http.request` task may call (`*.example.com` for subdomains), each with an optional `:port`. */
  @IsOptional()
  @IsEntryList(parseHostRules, 'host names (`*.domain` for subdomains) with an optional :port')
  HTTP_TASK_ALLOWED_HOSTS = '';

  /** Comma-separated IPs or CIDRs (optional `:port`, IPv6 in brackets then) that outbound calls may reach although not public. */
  @IsOptional()
  @IsEntryList(parseAddressRules, 'IPs or CIDRs with an optional :port (IPv6 in brackets then)')
  EGRESS_ALLOW_PRIVATE = '';

  /** Comma-separated host names webhooks may call, as `HTTP_TASK_ALLOWED_HOSTS` (`*`: any public host on 80 and 443). */
  @IsOptional()
  @IsEntryList(parseHostRules, 'host names (`*.domain` for subdomains, `*` for any) with an optional :port')
  WEBHOOK_ALLOWED_HOSTS = '*';

  /** The first wait before a failed delivery is tried again (doubling, at most an hour). */
  @OptionalInt(1)
  WEBHOOK_RETRY_BASE_MS: number = 10_000;

  /** How long a delivery is retried; an endpoint whose delivery failed that long is disabled. */
  @OptionalInt(1)
  WEBHOOK_RETRY_HORIZON_MS: number = 24 * 60 * 60 * 1000;
}

const tenantKeyList = /^[a-z0-9-]{1,32}:[^\s,:]{24,}(,[a-z0-9-]{1,32}:[^\s,:]{24,})*$/;

/** What the services browsers talk to (gateway and monitor) share: their ports, credentials and allowed origins. */
export class MonitorEnv extends ServiceEnv {
  @OptionalInt(0, 65535)
  MONITOR_PORT: number = 3001;

  /** The monitor reads it too: the dashboard's own origin is allowed by default. */
  @OptionalInt(0, 65535)
  GATEWAY_PORT: number = 3000;

  /** The admin's API key: every tenant, queue operations, keys, limits, Bull Board. */
  @IsOptional()
  @IsString()
  @Matches(/^\S{24,}$/, { message: 'must be at least 24 characters without spaces (use a random value: openssl rand -hex 32)' })
  CONVEYOR_ADMIN_KEY?: string;

  /** Bootstrap tenant keys, `tenant:key,tenant:key`. */
  @IsOptional()
  @Matches(tenantKeyList, { message: 'must be a comma-separated list of tenant:key (tenant: a-z, 0-9 and -; key: at least 24 characters, no spaces, commas or colons)' })
  CONVEYOR_API_KEYS?: string;

  /** Signs browser tokens and dashboard sessions. */
  @IsOptional()
  @Matches(/^\S{32,}$/, { message: 'must be at least 32 characters without spaces (use a random value: openssl rand -hex 32)' })
  CONVEYOR_TOKEN_SECRET?: string;

  /** Origins browsers may call the gateway and the monitor from; unset: the dashboard's own on loopback. */
  @IsOptional()
  @IsEntryList(parseOrigins, 'origins such as https://app.example.com (scheme, host and optional port; no path, no *)')
  CONVEYOR_CORS_ORIGINS?: string;
}

/** The gateway knows the monitor's port too: its dashboard connects there unless `MONITOR_URL` says otherwise. */
export class GatewayEnv extends MonitorEnv {
  /** Where browsers reach the monitor; unset: the dashboard's own host name, on `MONITOR_PORT`. */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  MONITOR_URL?: string;

  /** How long an idempotency key holds. */
  @OptionalInt(1000)
  IDEMPOTENCY_TTL_MS: number = 24 * 60 * 60 * 1000;
}
