import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { ConveyorClient } from '@conveyor/client';
import { demoSteps, httpRequest, terminalEventTypes, type DemoStepsInput, type Priority } from '@conveyor/contracts';
import { createExecutionsCore, type ExecutionsCore } from '@conveyor/executions';
import { RedisKeys } from '@conveyor/redis';
import { ExecutionWatcher, isTenantHold, poll, Stack } from '@conveyor/testing';

describe('tenant concurrency (maxRunning)', () => {
  let stack: Stack;
  let client: ConveyorClient;
  let redis: Redis;
  let core: ExecutionsCore;
  let watcher: ExecutionWatcher;
  /** Never responds: a call to it runs until its worker dies. */
  let hanging: Server;
  let hangingPort: number;

  /** `legacy`'s limit is written as an earlier gateway wrote it, in its test. */
  const limitOf: Record<string, number | undefined> = { default: 2, crash: 1, lifted: 1, other: undefined, legacy: 1 };
  const short: DemoStepsInput = { steps: 1, stepMs: 50 };
  /** Runs until cancelled. */
  const long: DemoStepsInput = { steps: 600, stepMs: 100 };

  before(async () => {
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingPort = (hanging.address() as AddressInfo).port;
    // Two workers of the demo queue only: the http queue is left to the worker the crash test kills.
    stack = await Stack.start({ workers: 2, env: { WORKER_QUEUES: 'demo', WORKER_CONCURRENCY: '5' } });
    client = stack.client();
    redis = stack.redis.connect();
    core = createExecutionsCore(redis, stack.prefix);
    for (const [tenant, maxRunning] of Object.entries(limitOf)) if (maxRunning && tenant !== 'legacy') await setMaxRunning(tenant, maxRunning);
    watcher = await ExecutionWatcher.connect(stack.monitorUrl);
    for (const tenant of Object.keys(limitOf)) assert.equal((await watcher.subscribeRoom({ tenant })).ok, true);
  });
  after(async () => {
    watcher?.close();
    client?.close();
    await core?.queues.close();
    redis?.disconnect();
    await stack?.stop();
    hanging?.closeAllConnections();
    hanging?.close();
  });

  const setMaxRunning = async (tenant: string, maxRunning: number | null) => {
    const reply = await stack.api.put(`/v1/tenants/${tenant}/limits`, { maxRunning });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
  };
  /** Through REST for the caller's tenant (`default`); in process for the others (auth is off: REST acts as `default`). */
  const submit = async (tenant: string, input: DemoStepsInput, priority?: Priority) =>
    tenant === 'default'
      ? client.submit('demo.steps', input, { priority })
      : core.submitter.submit({ task: demoSteps, input, options: { priority } }, tenant);
  const cancel = (id: string, tenant: string) => core.actions.cancel(id, tenant, null);
  const started = (id: string, timeoutMs?: number) => watcher.waitFor('execution.started', (e) => e.executionId === id, timeoutMs);
  const held = (id: string) => watcher.waitFor('execution.queued', (e) => e.executionId === id && isTenantHold(e));
  /** Submits an execution that the tenant's limit holds back, once held. */
  const submitHeld = async (tenant: string, input: DemoStepsInput, priority?: Priority) => {
    const { id } = await submit(tenant, input, priority);
    return { id, hold: await held(id) };
  };
  /** Takes every slot of the tenant with executions that run until cancelled; returns their ids. */
  const occupy = async (tenant: string) => {
    const blockers = await Promise.all(Array.from({ length: limitOf[tenant]! }, () => submit(tenant, long)));
    await Promise.all(blockers.map(({ id }) => started(id)));
    return blockers.map(({ id }) => id);
  };
  const cancelAndWait = async (tenant: string, ...ids: string[]) => {
    await Promise.all(ids.map((id) => cancel(id, tenant)));
    await Promise.all(ids.map((id) => watcher.waitForEnd(id)));
  };

  /** The most of the tenant's executions running at once, replaying the room's state events in their order. */
  const peakRunning = (tenant: string) => {
    const running = new Set<string>();
    let peak = 0;
    for (const { type, executionId, tenant: of } of watcher.events) {
      if (of !== tenant || !executionId) continue;
      if (type === 'execution.started' || type === 'execution.recovered') running.add(executionId);
      else if (type !== 'execution.progress') running.delete(executionId);
      peak = Math.max(peak, running.size);
    }
    return peak;
  };

  it('runs at most maxRunning of a tenant’s executions at once across workers, and all of them in the end', async () => {
    const { items } = await client.submitBatch(Array.from({ length: 10 }, () => ({ task: 'demo.steps' as const, input: { steps: 3, stepMs: 150 } })));
    const ends = await Promise.all(items.map(({ id }) => watcher.waitForEnd(id)));
    assert.deepEqual(new Set(ends.map((e) => e.type)), new Set(['execution.completed']));
    assert.equal(peakRunning('default'), 2);
    assert.ok(items.some(({ id }) => watcher.of(id).some(isTenantHold)), 'some executions were held');
    const final = await Promise.all(items.map(({ id }) => client.get(id)));
    assert.ok(final.every((e) => e.status === 'completed' && e.waitingFor === null));
  });

  it('holds the extra ones as queued, waiting for tenant_concurrency, out of the queue’s waiting list', async () => {
    const blockers = await occupy('default');
    const waiting = await submitHeld('default', short);

    const view = await client.get(waiting.id);
    assert.equal(view.status, 'queued');
    assert.equal(view.waitingFor, 'tenant_concurrency');
    const listed = (await client.list({ status: ['queued'] })).items.find((e) => e.id === waiting.id);
    assert.equal(listed?.waitingFor, 'tenant_concurrency');
    const { counts } = await client.queues.get('demo');
    assert.deepEqual([counts.queued, counts.running], [1, 2]);
    // What autoscalers read: BullMQ's waiting lists hold nothing; the held job is parked.
    const demo = core.queues.get('demo');
    assert.deepEqual(await demo.getJobCounts('wait', 'prioritized', 'delayed'), { wait: 0, prioritized: 0, delayed: 1 });

    await cancel(blockers[0], 'default');
    const ended = await client.watch(waiting.id).done;
    assert.equal(ended.status, 'completed');
    assert.equal(ended.waitingFor, null);
    await cancelAndWait('default', blockers[1]);
    assert.equal(peakRunning('default'), 2);
  });

  it('starts the highest priority held execution first when a slot frees, within a second', async () => {
    const blockers = await occupy('default');
    const queued: string[] = [];
    for (const priority of ['low', 'low', 'high'] as const) queued.push((await submitHeld('default', short, priority)).id);
    const [low1, low2, high] = queued;

    await cancel(blockers[0], 'default');
    const freed = await watcher.waitFor('execution.cancelled', (e) => e.executionId === blockers[0]);
    const first = await started(high);
    assert.ok(Date.parse(first.ts) - Date.parse(freed.ts) < 1_000, `started ${Date.parse(first.ts) - Date.parse(freed.ts)} ms after the slot freed`);
    await watcher.waitForEnd(low2);
    const starts = watcher.events.filter((e) => e.type === 'execution.started' && queued.includes(e.executionId!)).map((e) => e.executionId);
    assert.deepEqual(starts, [high, low1, low2]);

    await cancelAndWait('default', blockers[1]);
    assert.equal(peakRunning('default'), 2);
  });

  it('passes a held execution paused meanwhile over, and holds it again once resumed', async () => {
    const blockers = await occupy('default');
    const paused = await submitHeld('default', short, 'high');
    const next = await submitHeld('default', long, 'low');
    assert.equal((await client.pause(paused.id)).status, 'paused');

    await cancel(blockers[0], 'default');
    await started(next.id);
    assert.equal((await client.get(paused.id)).status, 'paused');
    await client.resume(paused.id);
    await watcher.waitFor('execution.queued', (e) => e.executionId === paused.id && isTenantHold(e) && e.seq! > paused.hold.seq!);
    assert.equal((await client.get(paused.id)).waitingFor, 'tenant_concurrency');

    await cancel(next.id, 'default');
    assert.equal((await client.watch(paused.id).done).status, 'completed');
    await cancelAndWait('default', blockers[1]);
    assert.equal(peakRunning('default'), 2);
  });

  it('does not hold back another tenant’s work on the same queue', async () => {
    const blockers = await occupy('default');
    const waiting = await submitHeld('default', short);

    const others = await Promise.all([1, 2, 3].map(() => submit('other', { steps: 2, stepMs: 50 })));
    const ends = await Promise.all(others.map(({ id }) => watcher.waitForEnd(id)));
    assert.deepEqual(new Set(ends.map((e) => e.type)), new Set(['execution.completed']));
    assert.ok(!others.some(({ id }) => watcher.of(id).some(isTenantHold)));
    assert.equal((await client.get(waiting.id)).waitingFor, 'tenant_concurrency');

    await cancelAndWait('default', ...blockers);
    await watcher.waitForEnd(waiting.id);
  });

  it('lets every held execution run once the tenant’s limit is removed', async () => {
    const [blocker] = await occupy('lifted');
    const waiting = await Promise.all([1, 2].map(() => submitHeld('lifted', short)));

    await setMaxRunning('lifted', null);
    await Promise.all(waiting.map(({ id }) => watcher.waitForEnd(id)));
    assert.ok(!watcher.of(blocker).some((e) => terminalEventTypes.has(e.type)), 'the blocker still runs');
    // A worker whose cache still had the limit did not hold them again once promoted.
    for (const { id } of waiting) assert.equal(watcher.of(id).filter(isTenantHold).length, 1, `${id} held once`);
    await cancelAndWait('lifted', blocker);
  });

  it('holds the executions of a limit written without its queues’ sets of limited tenants (by an earlier gateway)', async () => {
    // A worker's fetch records the start of an execution of a tenant not in its queue's set, without a slot.
    const keys = new RedisKeys(stack.prefix);
    await redis.hset(keys.tenantLimits(), 'legacy', JSON.stringify({ maxRunning: limitOf.legacy }));
    await poll(() => redis.sismember(keys.limitedTenants('demo'), 'legacy'), { until: (member) => member === 1, timeoutMs: 30_000, label: 'the workers bringing the sets in line' });
    const [blocker] = await occupy('legacy');
    const waiting = await submitHeld('legacy', short);
    await cancelAndWait('legacy', blocker);
    assert.equal((await watcher.waitForEnd(waiting.id)).type, 'execution.completed');
    assert.equal(peakRunning('legacy'), 1);
  });

  it('frees the slot of a SIGKILLed worker within 15 s', async () => {
    // The worker running the call is the only one of its queue: its execution is not picked up again.
    const doomed = await stack.startWorker({
      WORKER_QUEUES: 'http',
      HTTP_TASK_ALLOWED_HOSTS: `localhost:${hangingPort}`,
      EGRESS_ALLOW_PRIVATE: `127.0.0.0/8:${hangingPort}`,
    });
    const call = await core.submitter.submit({ task: httpRequest, input: { url: `http://localhost:${hangingPort}/` }, options: {} }, 'crash');
    await started(call.id);
    const next = await submitHeld('crash', short);

    await doomed.process.stop('SIGKILL');
    const killedAt = Date.now();
    const resumed = await started(next.id, 30_000);
    assert.ok(Date.parse(resumed.ts) - killedAt < 15_000, `started ${Date.parse(resumed.ts) - killedAt} ms after the crash`);
    assert.equal((await watcher.waitForEnd(next.id)).type, 'execution.completed');
  });
});
