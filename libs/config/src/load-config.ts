import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { workerQueues } from '@conveyor/contracts';
import { parseAddressRules, parseHostRules, type AddressRule, type HostRule } from '@conveyor/egress';
import { GatewayEnv, MonitorEnv, RedisEnv, ServiceEnv, WorkerEnv } from './env.js';

export interface RedisConfig {
  url: string;
  prefix: string;
}

export interface ServiceConfig {
  http: { host: string; port: number };
  redis: RedisConfig;
  logLevel: ServiceEnv['LOG_LEVEL'];
}

export interface GatewayConfig extends ServiceConfig {
  idempotencyTtlMs: number;
  /** Whether the demo tasks are offered (listed and accepted). */
  demoTasks: boolean;
  /** Where browsers reach the monitor: a URL, or the monitor's port on the dashboard's own host. */
  monitor: { url: string } | { port: number };
}
export type MonitorConfig = ServiceConfig;

export interface WorkerConfig extends Omit<ServiceConfig, 'http'> {
  /** Where `/health` is served; `null` = no listener. */
  health: { host: string; port: number } | null;
  queues: string[];
  concurrency: number;
  shutdownGraceMs: number;
  cancelGraceMs: number;
  retention: { maxAgeMs: number; maxCount: number; intervalMs: number };
  httpTask: { allowedHosts: HostRule[] };
  /** Addresses outbound calls may reach although not public. */
  egress: { allowPrivate: AddressRule[] };
  /** Whether jobs of the demo tasks run (otherwise they fail for good). */
  demoTasks: boolean;
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
  // Keys already carry per-queue hash tags; the cluster connection itself is not built yet.
  if (env.REDIS_CLUSTER_NODES) {
    throw new InvalidEnvironmentError('Invalid environment: REDIS_CLUSTER_NODES: Redis Cluster is not supported yet; use REDIS_URL');
  }
  return { url: env.REDIS_URL, prefix: env.CONVEYOR_PREFIX };
}

function toServiceConfig(env: ServiceEnv, port: number): ServiceConfig {
  return { http: { host: env.HOST, port }, redis: toRedisConfig(env), logLevel: env.LOG_LEVEL };
}

const splitList = (list: string | undefined) => (list ?? '').split(',').map((item) => item.trim()).filter(Boolean);

export const loadGatewayConfig = (source?: NodeJS.ProcessEnv) =>
  loadConfig(
    GatewayEnv,
    (env): GatewayConfig => ({
      ...toServiceConfig(env, env.GATEWAY_PORT),
      idempotencyTtlMs: env.IDEMPOTENCY_TTL_MS,
      demoTasks: env.CONVEYOR_DEMO_TASKS === 'true',
      monitor: env.MONITOR_URL ? { url: env.MONITOR_URL } : { port: env.MONITOR_PORT },
    }),
    source,
  );

export const loadMonitorConfig = (source?: NodeJS.ProcessEnv) =>
  loadConfig(MonitorEnv, (env): MonitorConfig => toServiceConfig(env, env.MONITOR_PORT), source);

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
        health: env.WORKER_HEALTH_PORT === undefined ? null : { host: env.HOST, port: env.WORKER_HEALTH_PORT },
        queues,
        concurrency: env.WORKER_CONCURRENCY,
        shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
        cancelGraceMs: env.WORKER_CANCEL_GRACE_MS,
        retention: { maxAgeMs: env.RETENTION_MAX_AGE_MS, maxCount: env.RETENTION_MAX_COUNT, intervalMs: env.RETENTION_INTERVAL_MS },
        httpTask: { allowedHosts: parseHostRules(env.HTTP_TASK_ALLOWED_HOSTS).rules },
        egress: { allowPrivate: parseAddressRules(env.EGRESS_ALLOW_PRIVATE).rules },
        demoTasks: env.CONVEYOR_DEMO_TASKS === 'true',
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
