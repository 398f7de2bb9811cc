import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { onFreePorts } from './free-port.js';
import { spawnManaged, type ManagedProcess } from './child-process.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** How long a master may be unreachable before its replica takes over (Redis's `cluster-node-timeout`). */
  nodeTimeoutMs?: number;
}

/** One `redis-server` of a cluster: its client port, and its cluster bus port (chosen free too). */
export interface ClusterNode {
  port: number;
  busPort: number;
  process: ManagedProcess;
}

/**
 * A private Redis Cluster on free ports: masters with replicas, made with `redis-cli --cluster create`,
 * with a short node timeout so a failover takes seconds. Nothing is kept on disk beyond its life.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly options: Required<RedisClusterOptions>,
    private readonly dir: string,
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const settings = { masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 2_000, ...options };
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-cluster-'));
    const count = settings.masters * (1 + settings.replicasPerMaster);
    const cluster = new RedisCluster([], settings, dir);
    try {
      for (let i = 0; i < count; i++) cluster.nodes.push(await onFreePorts(2, ([port, busPort]) => cluster.startNode(port, busPort)));
      const addresses = cluster.nodes.map(({ port }) => `127.0.0.1:${port}`);
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(settings.replicasPerMaster), '--cluster-yes']);
      await cluster.untilHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** `REDIS_CLUSTER_NODES`: every node's address. */
  get nodeList(): string {
    return this.nodes.map(({ port }) => `127.0.0.1:${port}`).join(',');
  }

  /** The node serving `slot` as master now, as a running node sees it. */
  async masterOf(slot: number): Promise<ClusterNode> {
    for (const node of this.running()) {
      const client = new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        // Each entry: [first slot, last slot, [host, port, id] of the master, …replicas].
        const ranges = await client.cluster('SLOTS');
        const range = ranges.find(([first, last]) => slot >= first && slot <= last);
        const master = range && this.nodes.find(({ port }) => port === range[2][1]);
        if (master) return master;
      } catch {
        // Not answering: ask the next one.
      } finally {
        client.disconnect();
      }
    }
    throw new Error(`No master serves slot ${slot}`);
  }

  /**
   * Kills the master of `slot` outright, as a crash would, and resolves once a replica serves its slots
   * (after `nodeTimeoutMs` and an election). Returns the dead node, to `restart` it.
   */
  async failOver(slot: number): Promise<ClusterNode> {
    const master = await this.masterOf(slot);
    await master.process.stop('SIGKILL');
    await this.until(async () => (await this.masterOf(slot).catch(() => master)) !== master, 'a replica to take over');
    return master;
  }

  /** Starts a stopped node again on its ports, as an orchestrator would; resolves once it follows its master again. */
  async restart(node: ClusterNode): Promise<void> {
    const restarted = await this.startNode(node.port, node.busPort);
    this.nodes[this.nodes.indexOf(node)] = restarted;
    await this.untilHealthy();
  }

  /** Resolves once every running node sees every slot served (`cluster_state:ok`) and every master has its replicas in sync. */
  async untilHealthy(): Promise<void> {
    await this.until(async () => {
      const nodes = await Promise.all(this.running().map(async ({ port }) => (await this.ask(port, 'cluster', 'info')) + (await this.ask(port, 'info', 'replication'))));
      const masters = nodes.filter((info) => info.includes('role:master'));
      return (
        nodes.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384')) &&
        masters.length === this.options.masters &&
        masters.every((info) => (info.match(/state=online/g) ?? []).length >= this.options.replicasPerMaster)
      );
    }, 'the cluster to be whole');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map(({ process }) => process.stop('SIGTERM')));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async until(done: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; !(await done()); ) {
      if (Date.now() > deadline) throw new Error(`Redis cluster: no ${what} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async ask(port: number, ...command: string[]): Promise<string> {
    return (await run('redis-cli', ['-p', String(port), ...command]).catch(() => ({ stdout: '' }))).stdout;
  }

  private running(): ClusterNode[] {
    return this.nodes.filter(({ process }) => process.running);
  }

  private async startNode(port: number, busPort: number): Promise<ClusterNode> {
    const args = [
      '--port', String(port),
      '--cluster-port', String(busPort),
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(this.dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', String(this.options.nodeTimeoutMs),
      '--dir', this.dir,
      '--save', '',
      '--appendonly', 'no',
      '--maxmemory-policy', 'noeviction',
    ];
    const process = spawnManaged(`redis-cluster-${port}`, 'redis-server', args, {});
    await process.waitForLine((line) => line.includes('Ready to accept connections'), 10_000);
    return { port, busPort, process };
  }
}
