import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { workerQueues } from '@conveyor/contracts';
import { parseAddressRules, parseHostRules, type AddressRule, type HostRule } from '@conveyor/egress';
import { GatewayEnv, MonitorEnv, RedisEnv, ServiceEnv, WorkerEnv } from './env.js';
import { parseOrigins } from './origins.js';

export interface RedisConfig {
  /** A single Redis; with `clusterNodes`, only its user, password and TLS apply (to every node). */
  url: string;
  prefix: string;
  /** Redis Cluster's seed nodes (`REDIS_CLUSTER_NODES`); `null` for a single Redis. */
  clusterNodes?: { host: string; port: number }[] | null;
  /** Replicas that must confirm new executions before they are acknowledged, and for how long to wait. */
  durability?: { replicas: number; timeoutMs: number };
}

export interface ServiceConfig {
  http: { host: string; port: number };
  redis: RedisConfig;
  logLevel: ServiceEnv['LOG_LEVEL'];
  /** Whether metrics are counted and `/metrics` served. */
  metrics: boolean;
}

/** Who may call: the bootstrap keys and the secret that signs browser tokens and sessions. */
export interface AuthConfig {
  adminKey: string | null;
  tenantKeys: { tenant: string; key: string }[];
  tokenSecret: string;
}

/** What the services browsers reach (gateway and monitor) share. */
export interface BrowserFacingConfig extends ServiceConfig {
  /** `null`: auth is off (no keys, loopback only), every caller is the admin of tenant `default`. */
  auth: AuthConfig | null;
  /** Origins allowed to call from a browser (CORS), as browsers send them. */
  corsOrigins: string[];
}

/** Traces, when an OTLP endpoint is set. */
export interface TracingConfig {
  /** The resource's `service.name`. */
  serviceName: string;
  /** How long finished spans wait to be sent together; `null`: the SDK's default (5 s). */
  scheduleDelayMs: number | null;
}

export interface GatewayConfig extends BrowserFacingConfig {
  idempotencyTtlMs: number;
  /** `null`: tracing off. */
  tracing: TracingConfig | null;
  /** Whether the demo tasks are offered (listed and accepted). */
  demoTasks: boolean;
  /** Where browsers reach the monitor: a URL, or the monitor's port on the dashboard's own host. */
  monitor: { url: string } | { port: number };
}
export type MonitorConfig = BrowserFacingConfig;

export interface WorkerConfig extends Omit<ServiceConfig, 'http'> {
  /** Where `/health` is served; `null` = no listener. */
  health: { host: string; port: number } | null;
  queues: string[];
  concurrency: number;
  /** How many schedule ticks run at once. */
  tickConcurrency: number;
  shutdownGraceMs: number;
  cancelGraceMs: number;
  retention: { maxAgeMs: number; maxCount: number; intervalMs: number };
  httpTask: { allowedHosts: HostRule[] };
  /** Addresses outbound calls may reach although not public. */
  egress: { allowPrivate: AddressRule[] };
  /** Whether jobs of the demo tasks run (otherwise they fail for good). */
  demoTasks: boolean;
  /** `null`: tracing off. */
  tracing: TracingConfig | null;
  webhooks: WebhookDeliveryConfig;
}

export interface WebhookDeliveryConfig {
  allowedHosts: HostRule[];
  retryBaseMs: number;
  retryHorizonMs: number;
}

/** Thrown when the environment is invalid; its message names every bad variable. */
export class InvalidEnvironmentError extends Error {}

/** Validates `source` against an env class and maps it to a frozen, typed config. */
export function loadConfig<E extends object, C>(envClass: new () => E, toConfig: (env: E) => C, source: NodeJS.ProcessEnv = process.env): Readonly<C> {
  // An empty variable counts as unset; variables the class does not declare are never read.
  const set = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const env = plainToInstance(envClass, set, { enableImplicitConversion: true, exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const reasons = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).map((m) => m.replace(`${e.property} `, '')).join(', ')}`);
    throw new InvalidEnvironmentError(`Invalid environment: ${reasons.join('; ')}`);
  }
  return deepFreeze(toConfig(env));
}

function toRedisConfig(env: RedisEnv): RedisConfig {
  const clusterNodes = env.REDIS_CLUSTER_NODES
    ? splitList(env.REDIS_CLUSTER_NODES).map((node) => {
        const at = node.lastIndexOf(':');
        return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
      })
    : null;
  return { url: env.REDIS_URL, prefix: env.CONVEYOR_PREFIX, clusterNodes, durability: { replicas: env.REDIS_WAIT_REPLICAS, timeoutMs: env.REDIS_WAIT_TIMEOUT_MS } };
}

function toServiceConfig(env: ServiceEnv, port: number): ServiceConfig {
  return { http: { host: env.HOST, port }, redis: toRedisConfig(env), logLevel: env.LOG_LEVEL, metrics: env.CONVEYOR_METRICS === 'true' };
}

/** Loopback host names and addresses: a service bound there is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

const howToSetKeys =
  'set CONVEYOR_ADMIN_KEY (and CONVEYOR_API_KEYS=tenant:key,… for tenants) and CONVEYOR_TOKEN_SECRET to random values, e.g. openssl rand -hex 32';

function toBrowserFacingConfig(env: MonitorEnv, port: number): BrowserFacingConfig {
  const service = toServiceConfig(env, port);
  const tenantKeys = splitList(env.CONVEYOR_API_KEYS).map((entry) => {
    const [tenant, key] = entry.split(':') as [string, string];
    return { tenant, key };
  });
  const adminKey = env.CONVEYOR_ADMIN_KEY ?? null;
  let auth: AuthConfig | null = null;
  if (adminKey === null && tenantKeys.length === 0) {
    if (!isLoopbackHost(env.HOST)) {
      throw new InvalidEnvironmentError(`Invalid environment: HOST=${env.HOST} is reachable from other machines, and no API keys are set: ${howToSetKeys}`);
    }
  } else if (!env.CONVEYOR_TOKEN_SECRET) {
    throw new InvalidEnvironmentError(`Invalid environment: CONVEYOR_TOKEN_SECRET: required when API keys are set (it signs browser tokens and dashboard sessions): ${howToSetKeys}`);
  } else {
    auth = { adminKey, tenantKeys, tokenSecret: env.CONVEYOR_TOKEN_SECRET };
  }
  const loopbackDashboard = [`http://localhost:${env.GATEWAY_PORT}`, `http://127.0.0.1:${env.GATEWAY_PORT}`];
  const corsOrigins = env.CONVEYOR_CORS_ORIGINS ? parseOrigins(env.CONVEYOR_CORS_ORIGINS).rules : loopbackDashboard;
  return { ...service, auth, corsOrigins };
}

/**
 * Where the dashboard sends browsers for the monitor. Only a loopback set-up may leave it to the page's
 * own host name: elsewhere a reflected `Host` header could point a page, and its token, anywhere.
 */
function monitorFor(env: GatewayEnv): GatewayConfig['monitor'] {
  if (env.MONITOR_URL) return { url: env.MONITOR_URL };
  if (!isLoopbackHost(env.HOST)) {
    throw new InvalidEnvironmentError(`Invalid environment: MONITOR_URL: required when HOST=${env.HOST} (where browsers reach the monitor, e.g. https://monitor.example.com)`);
  }
  return { port: env.MONITOR_PORT };
}

/** Tracing is on when an OTLP endpoint is set, for traces or for every signal. */
function toTracingConfig(env: ServiceEnv, service: 'gateway' | 'worker'): TracingConfig | null {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return null;
  return { serviceName: env.OTEL_SERVICE_NAME ?? `conveyor-${service}`, scheduleDelayMs: env.OTEL_BSP_SCHEDULE_DELAY ?? null };
}

const splitList = (list: string | undefined) => (list ?? '').split(',').map((item) => item.trim()).filter(Boolean);

export const loadGatewayConfig = (source?: NodeJS.ProcessEnv) =>
  loadConfig(
    GatewayEnv,
    (env): GatewayConfig => ({
      ...toBrowserFacingConfig(env, env.GATEWAY_PORT),
      idempotencyTtlMs: env.IDEMPOTENCY_TTL_MS,
      demoTasks: env.CONVEYOR_DEMO_TASKS === 'true',
      monitor: monitorFor(env),
      tracing: toTracingConfig(env, 'gateway'),
    }),
    source,
  );

export const loadMonitorConfig = (source?: NodeJS.ProcessEnv) =>
  loadConfig(MonitorEnv, (env): MonitorConfig => toBrowserFacingConfig(env, env.MONITOR_PORT), source);

export const loadWorkerConfig = (source?: NodeJS.ProcessEnv) =>
  loadConfig(
    WorkerEnv,
    (env): WorkerConfig => {
      const queues = env.WORKER_QUEUES ? splitList(env.WORKER_QUEUES) : [...workerQueues];
      const unknown = queues.filter((queue) => !workerQueues.includes(queue));
      if (unknown.length > 0) {
        throw new InvalidEnvironmentError(
          `Invalid environment: WORKER_QUEUES: no task uses queue ${unknown.join(', ')} (known: ${workerQueues.join(', ')})`,
        );
      }
      return {
        redis: toRedisConfig(env),
        logLevel: env.LOG_LEVEL,
        metrics: env.CONVEYOR_METRICS === 'true',
        health: env.WORKER_HEALTH_PORT === undefined ? null : { host: env.HOST, port: env.WORKER_HEALTH_PORT },
        queues,
        concurrency: env.WORKER_CONCURRENCY,
        tickConcurrency: env.WORKER_TICK_CONCURRENCY,
        shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
        cancelGraceMs: env.WORKER_CANCEL_GRACE_MS,
        retention: { maxAgeMs: env.RETENTION_MAX_AGE_MS, maxCount: env.RETENTION_MAX_COUNT, intervalMs: env.RETENTION_INTERVAL_MS },
        httpTask: { allowedHosts: parseHostRules(env.HTTP_TASK_ALLOWED_HOSTS).rules },
        egress: { allowPrivate: parseAddressRules(env.EGRESS_ALLOW_PRIVATE).rules },
        demoTasks: env.CONVEYOR_DEMO_TASKS === 'true',
        tracing: toTracingConfig(env, 'worker'),
        webhooks: { allowedHosts: parseHostRules(env.WEBHOOK_ALLOWED_HOSTS).rules, retryBaseMs: env.WEBHOOK_RETRY_BASE_MS, retryHorizonMs: env.WEBHOOK_RETRY_HORIZON_MS },
      };
    },
    source,
  );

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
