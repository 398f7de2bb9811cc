import type { Cluster, Redis } from 'ioredis';
import { RedisCluster, RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';

/**
 * The Redis a test runs on: a private redis-server on a free port, or — with
 * `CONVEYOR_TEST_REDIS=cluster` (`npm run test:cluster`) — a private Redis Cluster of three masters,
 * each with a replica.
 */
export class TestRedis {
  private constructor(readonly server: RedisServer | RedisCluster) {}

  static async start(): Promise<TestRedis> {
    return new TestRedis(onCluster() ? await RedisCluster.start() : await RedisServer.start());
  }

  /** What a service needs to reach it: `REDIS_URL`, or `REDIS_CLUSTER_NODES`. */
  get env(): Record<string, string> {
    return this.server instanceof RedisCluster ? { REDIS_CLUSTER_NODES: this.server.nodeList } : { REDIS_URL: this.server.url };
  }

  /** A connection for the test itself (a `Cluster` on a cluster); disconnect it when done. */
  connect(prefix = ''): Redis {
    return this.server instanceof RedisCluster
      ? createRedis({ url: 'redis://127.0.0.1', prefix, clusterNodes: this.server.nodes.map(({ port }) => ({ host: '127.0.0.1', port })) }, 'worker')
      : createRedis({ url: this.server.url, prefix }, 'worker');
  }

  /** Every key matching `pattern`, on every master of a cluster. */
  async keys(redis: Redis, pattern: string): Promise<string[]> {
    return (await Promise.all(this.masters(redis).map((node) => node.keys(pattern)))).flat();
  }

  /** How many times `command` ran (INFO commandstats), on every master of a cluster. */
  async calls(redis: Redis, command: string): Promise<number> {
    const stats = await Promise.all(this.masters(redis).map((node) => node.info('commandstats')));
    return stats.reduce((sum, info) => sum + Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0), 0);
  }

  private masters(redis: Redis): Redis[] {
    return this.server instanceof RedisCluster ? (redis as unknown as Cluster).nodes('master') : [redis];
  }

  /** The single redis-server, for a test that stops or restarts it (such a test does not run on a cluster). */
  get single(): RedisServer {
    if (this.server instanceof RedisServer) return this.server;
    throw new Error('this test needs a single Redis');
  }

  /** The cluster, for a test that fails one of its nodes over (such a test runs on a cluster only). */
  get cluster(): RedisCluster {
    if (this.server instanceof RedisCluster) return this.server;
    throw new Error('this test needs Redis Cluster (npm run test:cluster)');
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** Whether the tests run on Redis Cluster (`CONVEYOR_TEST_REDIS=cluster`). */
export function onCluster(): boolean {
  return process.env.CONVEYOR_TEST_REDIS === 'cluster';
}
