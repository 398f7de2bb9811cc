import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { onFreePorts } from './free-port.js';
import { spawnManaged, type ManagedProcess } from './child-process.js';

export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** With a directory, data persists there as an append-only file; without, nothing is kept. */
  dataDir?: string;
  onLine?: (line: string) => void;
  /** Runs the server under this command line (a profiler's, say: `['valgrind', '--tool=callgrind']`), which may slow its start. */
  wrapper?: string[];
}

/** A private `redis-server` process. */
export class RedisServer {
  private process: ManagedProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const started = async (port: number) => {
      const server = new RedisServer(port, options);
      await server.restart();
      return server;
    };
    return options.port === undefined ? onFreePorts(1, ([port]) => started(port)) : started(options.port);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) on the same port. */
  async restart(): Promise<void> {
    if (this.process?.running) return;
    const persistence = this.options.dataDir
      ? ['--dir', this.options.dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec']
      : ['--appendonly', 'no'];
    if (this.options.dataDir) mkdirSync(this.options.dataDir, { recursive: true });
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--maxmemory-policy', 'noeviction', ...persistence];
    const [command, ...wrapperArgs] = [...(this.options.wrapper ?? []), 'redis-server'];
    this.process = spawnManaged('redis-server', command, [...wrapperArgs, ...args], {}, this.options.onLine);
    await this.process.waitForLine((line) => line.includes('Ready to accept connections'), this.options.wrapper ? 120_000 : 10_000);
  }

  /** The server's process id (the wrapper's, which is the same process for an exec-ing wrapper such as valgrind). */
  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  /** Stops it (SIGTERM: an append-only file is flushed first). */
  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM');
  }

  /** Kills it outright, as a crash would. */
  async kill(): Promise<void> {
    await this.process?.stop('SIGKILL');
  }
}

/** Whether a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}
