import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { catalogQueues } from '@conveyor/contracts';
import { RedisServer } from '@conveyor/launcher';
import { RedisKeys } from '@conveyor/redis';
import { TenantLimitsStore } from '@conveyor/tenants';

/** The queues' sets of tenants with `maxRunning`, which a worker's pick of a job reads, against a real Redis. */
describe('limited tenants’ sets', () => {
  let server: RedisServer;
  let redis: Redis;
  const keys = new RedisKeys('limited-test');
  const inSets = (tenant: string) => Promise.all(catalogQueues.map(async (queue) => (await redis.sismember(keys.limitedTenants(queue), tenant)) === 1));

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('follows each change of a limit, and the sync brings sets written by no one (an earlier gateway) in line', async () => {
    const store = new TenantLimitsStore(redis, keys);
    await store.update('changed', { maxRunning: 2 });
    assert.deepEqual(await inSets('changed'), catalogQueues.map(() => true));
    await store.update('changed', { maxRunning: null, executionsPerDay: 10 });
    assert.deepEqual(await inSets('changed'), catalogQueues.map(() => false));

    await redis.hset(keys.tenantLimits(), 'legacy', JSON.stringify({ maxRunning: 1 }));
    await redis.sadd(keys.limitedTenants(catalogQueues[0]), 'stale');
    await store.syncLimitedTenants();
    assert.deepEqual(await inSets('legacy'), catalogQueues.map(() => true));
    assert.deepEqual(await inSets('stale'), catalogQueues.map(() => false));
  });

  it('does not put back a tenant whose limit is removed while the sync runs', async () => {
    const gateway = new TenantLimitsStore(redis, keys);
    await gateway.update('lifted', { maxRunning: 1 });
    // The sync reads the limits; the removal lands (limit, then sets) before the sync writes the sets.
    let removed = false;
    const racing = new Proxy(redis, {
      get(target, property) {
        if (property === 'hgetall' && !removed) {
          return async (key: string) => {
            const limits = await target.hgetall(key);
            removed = true;
            await gateway.update('lifted', { maxRunning: null });
            return limits;
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await new TenantLimitsStore(racing, keys).syncLimitedTenants();
    assert.ok(removed, 'the removal raced the sync');
    assert.deepEqual(await inSets('lifted'), catalogQueues.map(() => false));
  });
});
