import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { ConveyorClient } from '@conveyor/client';
import { startService, type ManagedProcess, type ServiceName, type ServiceProcess } from '@conveyor/launcher';
import { ApiClient } from './api-client.js';
import { TestRedis } from './test-redis.js';

export interface StackOptions {
  /** How many workers to start now (more can be added later). Default 1. */
  workers?: number;
  /** How many monitors. Default 1. */
  monitors?: number;
  /** Extra environment for every service (e.g. WORKER_CONCURRENCY). */
  env?: Record<string, string>;
}

/**
 * A complete Conveyor for one test file: a private Redis (a redis-server on a free port, or a cluster:
 * see `TestRedis`), and the real gateway, workers and monitors as processes listening on free ports,
 * under a unique key prefix.
 */
export class Stack {
  readonly workers: ServiceProcess[] = [];
  readonly monitors: ServiceProcess[] = [];
  readonly gateways: ServiceProcess[] = [];
  readonly prefix = `t${randomUUID().slice(0, 8)}`;
  /** Every service process spawned, ready or still starting: `stop` ends them all, so none outlives the test. */
  private readonly processes = new Set<ManagedProcess>();

  private constructor(
    readonly redis: TestRedis,
    private readonly env: Record<string, string>,
  ) {}

  static async start(options: StackOptions = {}): Promise<Stack> {
    const redis = await TestRedis.start();
    const stack = new Stack(redis, options.env ?? {});
    // Settled, not raced: when one service fails, the others have finished starting before all are stopped (none is left behind).
    const started = await Promise.allSettled([
      stack.startGateway(),
      ...Array.from({ length: options.monitors ?? 1 }, () => stack.startMonitor()),
      ...Array.from({ length: options.workers ?? 1 }, () => stack.startWorker()),
    ]);
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      await stack.stop();
      throw failure.reason;
    }
    return stack;
  }

  /** The environment every service of this stack gets. */
  get baseEnv(): Record<string, string> {
    return { ...this.redis.env, CONVEYOR_PREFIX: this.prefix, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...this.env };
  }

  /** The client SDK on the first gateway still running and the first monitor, if any (close it when done). */
  client(): ConveyorClient {
    return new ConveyorClient({ apiUrl: this.gatewayUrl, monitorUrl: this.monitors[0]?.url ?? undefined });
  }

  /** Raw HTTP to the first gateway still running. */
  get api(): ApiClient {
    const gateway = this.gateways.find((g) => g.process.running);
    if (!gateway?.url) throw new Error('no gateway');
    return new ApiClient(gateway.url);
  }

  get gatewayUrl(): string {
    return this.api.baseUrl;
  }

  get monitorUrl(): string {
    const url = this.monitors[0]?.url;
    if (!url) throw new Error('no monitor');
    return url;
  }

  async startWorker(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const worker = await this.startService('worker', { ...this.baseEnv, ...env }, `worker-${this.workers.length + 1}`);
    this.workers.push(worker);
    return worker;
  }

  /** A monitor on a free port, or on `env.MONITOR_PORT` (to replace one that stopped). */
  async startMonitor(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const monitor = await this.startService('monitor', { ...this.baseEnv, MONITOR_PORT: '0', ...env });
    this.monitors.push(monitor);
    return monitor;
  }

  async startGateway(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const gateway = await this.startService('gateway', { ...this.baseEnv, GATEWAY_PORT: '0', ...env }, `gateway-${this.gateways.length + 1}`);
    this.gateways.push(gateway);
    return gateway;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes].map((process) => process.stop('SIGTERM')));
    await this.redis.stop();
  }

  private startService(name: ServiceName, env: Record<string, string>, label?: string): Promise<ServiceProcess> {
    return startService(name, env, { label, onSpawn: (process) => this.processes.add(process) });
  }
}

/** A suite's stack and its client, readable from the suite's first test on. */
export interface SuiteStack {
  readonly stack: Stack;
  readonly client: ConveyorClient;
}

/** Starts a stack and its client before the suite's tests and stops both after them (call it inside `describe`). */
export function stackPerSuite(options: StackOptions = {}): SuiteStack {
  let started: SuiteStack | undefined;
  before(async () => {
    const stack = await Stack.start(options);
    started = { stack, client: stack.client() };
  });
  after(async () => {
    started?.client.close();
    await started?.stack.stop();
  });
  const ready = () => {
    if (!started) throw new Error("the stack starts before the suite's first test");
    return started;
  };
  return {
    get stack() {
      return ready().stack;
    },
    get client() {
      return ready().client;
    },
  };
}
