import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ulid } from 'ulid';
import { RedisServer } from '@conveyor/launcher';
import { RedisKeys } from '@conveyor/redis';
import { reservationCheckMs, slotLeaseMs, slotMember, TenantSlots } from '@conveyor/tenants';

/** The slot scripts on their own, against a real Redis, with a clock the test moves. */
describe('tenant slots', () => {
  let server: RedisServer;
  let redis: Redis;
  let slots: TenantSlots;
  let now = 1_700_000_000_000;
  let tenants = 0;
  const keys = new RedisKeys('slots-test');
  /** A fresh tenant per test. */
  const newTenant = () => `tenant-${++tenants}`;
  /** The n-th execution: a higher n is younger. */
  const execution = (n: number) => slotMember({ id: `exec_${ulid(1_700_000_000_000 + n)}`, queue: 'demo' });
  const [a, b, c, d, e] = [1, 2, 3, 4, 5].map(execution);

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    slots = new TenantSlots(redis, keys, () => now);
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('admits up to the limit and holds the rest; a release reserves the slot for the best held, by priority then age', async () => {
    const tenant = newTenant();
    assert.deepEqual(await slots.admit(tenant, a, 100, 2), { admitted: true, promote: [] });
    assert.deepEqual(await slots.admit(tenant, b, 100, 2), { admitted: true, promote: [] });
    for (const [member, priority] of [[c, 100], [e, 10], [d, 10]] as const) {
      assert.deepEqual(await slots.admit(tenant, member, priority, 2), { admitted: false, promote: [] });
    }
    assert.deepEqual(await slots.release(tenant, a, 2), [d]);
    assert.equal(await slots.isReserved(tenant, d), true);
    assert.deepEqual(await slots.release(tenant, b, 2), [e]);
    // Each starts on the slot reserved for it, and nothing more is given out.
    assert.deepEqual(await slots.admit(tenant, d, 10, 2), { admitted: true, promote: [] });
    assert.deepEqual(await slots.admit(tenant, e, 10, 2), { admitted: true, promote: [] });
    assert.deepEqual(await slots.release(tenant, d, 2), [c]);
  });

  it('gives a free slot to a newcomer only when no held execution comes before it', async () => {
    const tenant = newTenant();
    await slots.admit(tenant, a, 100, 1);
    await slots.admit(tenant, b, 10, 1);
    // The limit was raised: the free slot goes to the held b, not to the newcomer c.
    assert.deepEqual(await slots.admit(tenant, c, 100, 2), { admitted: false, promote: [b] });
    // Raised again: d comes before c, so it takes the slot itself.
    assert.deepEqual(await slots.admit(tenant, d, 1, 3), { admitted: true, promote: [] });
  });

  it('frees a lapsed lease at the next reconciliation, never a renewed one, and lets an execution started again keep its own', async () => {
    const tenant = newTenant();
    await slots.admit(tenant, a, 100, 1);
    await slots.admit(tenant, b, 100, 1);
    now += slotLeaseMs - 1;
    await slots.renew(tenant, [a]);
    now += slotLeaseMs - 1;
    assert.deepEqual(await slots.reconcile(tenant, 1), []);
    // Its worker died, and BullMQ started it again elsewhere before the lease lapsed: still its slot.
    assert.deepEqual(await slots.admit(tenant, a, 100, 1), { admitted: true, promote: [] });
    now += slotLeaseMs + 1;
    assert.deepEqual(await slots.reconcile(tenant, 1), [b]);
  });

  it('hands a reservation back for a check every few seconds until its execution starts', async () => {
    const tenant = newTenant();
    await slots.admit(tenant, a, 100, 1);
    await slots.admit(tenant, b, 100, 1);
    assert.deepEqual(await slots.release(tenant, a, 1), [b]);
    assert.deepEqual(await slots.reconcile(tenant, 1), []);
    now += reservationCheckMs;
    assert.deepEqual(await slots.reconcile(tenant, 1), [b]);
    assert.deepEqual(await slots.reconcile(tenant, 1), []);
    // A reservation does not lapse like a lease: only its execution, or a release, ends it.
    now += slotLeaseMs;
    assert.deepEqual(await slots.reconcile(tenant, 1), [b]);
    assert.deepEqual(await slots.admit(tenant, b, 100, 1), { admitted: true, promote: [] });
    now += reservationCheckMs;
    assert.deepEqual(await slots.reconcile(tenant, 1), []);
  });

  it('takes a released execution off the held, whatever it had', async () => {
    const tenant = newTenant();
    await slots.admit(tenant, a, 100, 1);
    await slots.admit(tenant, b, 1, 1);
    await slots.admit(tenant, c, 100, 1);
    assert.deepEqual(await slots.release(tenant, b, 1), []);
    assert.deepEqual(await slots.release(tenant, a, 1), [c]);
  });

  it('lets every held execution and reservation go once the tenant has no limit', async () => {
    const tenant = newTenant();
    await slots.admit(tenant, a, 100, 1);
    for (const member of [b, c, d]) await slots.admit(tenant, member, 100, 1);
    assert.deepEqual(await slots.release(tenant, a, 1), [b]);
    // Handed back each time until let go, so that a promote that failed is tried again.
    assert.deepEqual((await slots.reconcile(tenant, undefined)).sort(), [b, c, d]);
    assert.deepEqual((await slots.reconcile(tenant, undefined)).sort(), [b, c, d]);
    for (const member of [b, c, d]) assert.deepEqual(await slots.release(tenant, member, undefined), []);
    assert.deepEqual(await slots.reconcile(tenant, undefined), []);
    assert.equal(await slots.isReserved(tenant, b), false);
  });

  it('keeps tenants apart, and lists the registered ones', async () => {
    const [one, two] = [newTenant(), newTenant()];
    await slots.admit(one, a, 100, 1);
    assert.deepEqual(await slots.admit(two, b, 100, 1), { admitted: true, promote: [] });
    await Promise.all([slots.register(one), slots.register(two), slots.register(one)]);
    assert.deepEqual((await slots.tenants()).sort(), [one, two]);
  });
});
