import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent } from '@conveyor/contracts';
import { ApiClient, ExecutionWatcher, connectSocket, disconnection, poll, stackCredentials, Stack, watchFromStart, type FullWatch } from '@conveyor/testing';

// Two gateways, three workers and two monitors on one Redis behave as one of each. Each worker runs
// one execution at a time: three running at once are one on each worker.
describe('many replicas: two gateways, three workers, two monitors', () => {
  const credentials = stackCredentials(['acme']);
  const key = credentials.tenants.acme;
  let stack: Stack;
  /** The SDK on gateway i and monitor i. */
  let clients: ConveyorClient[];
  const watchers: ExecutionWatcher[] = [];

  before(async () => {
    stack = await Stack.start({ workers: 3, monitors: 2, env: { ...credentials.env, WORKER_CONCURRENCY: '1' } });
    await stack.startGateway();
    clients = stack.gateways.map((gateway, i) => new ConveyorClient({ apiUrl: gateway.url!, monitorUrl: stack.monitors[i].url!, token: key }));
  });
  after(async () => {
    watchers.forEach((watcher) => watcher.close());
    clients?.forEach((client) => client.close());
    await stack?.stop();
  });

  /** A raw socket of monitor i with this credential (closed after the file). */
  async function connect(monitor: number, token: string): Promise<ExecutionWatcher> {
    const watcher = await ExecutionWatcher.connect(stack.monitors[monitor].url!, { token });
    watchers.push(watcher);
    return watcher;
  }

  /** Raw HTTP to gateway i: keys and tokens have no SDK call. */
  const gateway = (i: number, credential: string) => new ApiClient(stack.gateways[i].url!).as(credential);

  /** The numbered events' seqs and the state changes (neither progress nor log lines), in arrival order. */
  const seqsOf = (events: readonly ConveyorEvent[]) => events.flatMap((event) => (event.seq === undefined ? [] : [event.seq]));
  const statesOf = (events: readonly ConveyorEvent[]) => events.filter((event) => event.seq !== undefined && event.type !== 'execution.progress').map((event) => event.type);
  const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  /** Until both monitors refuse a handshake with this credential (a key's lookup is trusted for half a second). */
  async function refusedOnBothMonitors(token: string): Promise<void> {
    for (const monitor of stack.monitors) {
      const attempt = () =>
        connectSocket(monitor.url!, { token }).then(
          (socket) => {
            socket.close();
            return 'let in';
          },
          (error: Error) => error.message,
        );
      await poll(attempt, { until: (outcome) => outcome === 'unauthorized', timeoutMs: 15_000, intervalMs: 100, label: 'the handshake refused' });
    }
  }

  /** Three long executions, one on each worker: all three running at once. */
  async function oneOnEachWorker(): Promise<FullWatch[]> {
    const runs = await Promise.all(
      [0, 1, 2].map(async (i) => watchFromStart(clients[i % 2], (await clients[i % 2].submit('demo.steps', { steps: 40, stepMs: 250 })).id)),
    );
    await Promise.all(runs.map((run) => run.waitFor('execution.progress', () => true, 60_000)));
    const states = await Promise.all(runs.map((run) => clients[0].get(run.executionId)));
    assert.deepEqual(states.map((execution) => execution.status), ['running', 'running', 'running'], 'three running at once: one per worker');
    return runs;
  }

  it('cancels and pauses an execution on whichever worker holds it, through either gateway', async () => {
    const cancelled = await oneOnEachWorker();
    await Promise.all(cancelled.map((run, i) => clients[i % 2].cancel(run.executionId, `through gateway ${(i % 2) + 1}`)));
    for (const [i, run] of cancelled.entries()) {
      const final = await run.done;
      assert.equal(final.status, 'cancelled');
      assert.equal(final.cancelReason, `through gateway ${(i % 2) + 1}`);
      assert.deepEqual(statesOf(run.events), ['execution.queued', 'execution.started', 'execution.cancelled']);
      assert.deepEqual(seqsOf(run.events), oneToN(final.seq), 'every event once, in order');
      run.stop();
    }

    // Paused through one gateway, resumed through the other.
    const paused = await oneOnEachWorker();
    await Promise.all(paused.map((run, i) => clients[(i + 1) % 2].pause(run.executionId)));
    await Promise.all(paused.map((run) => run.waitFor('execution.paused', () => true, 60_000)));
    for (const run of paused) assert.equal((await clients[0].get(run.executionId)).status, 'paused');
    await Promise.all(paused.map((run, i) => clients[i % 2].resume(run.executionId)));
    for (const run of paused) {
      const final = await run.done;
      assert.equal(final.status, 'completed');
      assert.deepEqual(final.result, { steps: 40 });
      assert.deepEqual(statesOf(run.events), ['execution.queued', 'execution.started', 'execution.paused', 'execution.resumed', 'execution.started', 'execution.completed']);
      assert.deepEqual(seqsOf(run.events), oneToN(final.seq), 'every event once, in order');
      const steps = run.events.filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress').map((e) => Number(e.data.step));
      assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b), `each step once, in order: resumed from its checkpoint (${steps.join(',')})`);
      assert.equal(steps.at(-1), 40);
      run.stop();
    }
  });

  it('fires every tick of a schedule once with three workers', async () => {
    const ticks = 5;
    const schedule = await clients[1].schedules.create({ name: 'five ticks', task: 'demo.noop', every: 1000, limit: ticks, overlap: 'allow' });
    const followers = await Promise.all([connect(0, key), connect(1, key)]);
    for (const follower of followers) assert.equal((await follower.subscribeSchedule(schedule.id, 0)).ok, true);

    const finished = await poll(() => clients[0].schedules.get(schedule.id), { until: (s) => s.state === 'finished', label: 'all five ticks', timeoutMs: 60_000 });
    assert.equal(finished.runCount, ticks);
    const { items: runs } = await clients[0].schedules.runs(schedule.id);
    assert.equal(runs.length, ticks, 'one run per tick');
    assert.equal(new Set(runs.map((run) => run.scheduledFor)).size, ticks, 'each tick time once');
    await Promise.all(runs.map((run, i) => clients[i % 2].watch(run.id).done));

    for (const follower of followers) {
      await follower.waitFor('schedule.updated', (e) => e.data.schedule.state === 'finished', 60_000);
      const own = follower.events.filter((e) => e.scheduleId === schedule.id && e.type.startsWith('schedule.'));
      assert.deepEqual(own.map((e) => e.seq), oneToN(own.length), 'the schedule’s events, each once, in order');
      const fired = own.filter((e): e is ConveyorEvent<'schedule.fired'> => e.type === 'schedule.fired');
      assert.deepEqual(fired.map((e) => e.data.executionId).sort(), runs.map((run) => run.id).sort(), 'one schedule.fired per run');
      assert.deepEqual(fired.map((e) => e.data.scheduledFor).sort(), runs.map((run) => run.scheduledFor).sort());
    }
  });

  it('gives every client on either monitor every event of an execution and of its queue room once', async () => {
    const rooms = await Promise.all([connect(0, key), connect(1, key)]);
    for (const room of rooms) assert.equal((await room.subscribeRoom({ queue: 'demo' })).ok, true);
    const { id } = await clients[1].submit('demo.steps', { steps: 8, stepMs: 100 });
    const followers = await Promise.all([connect(0, key), connect(0, key), connect(1, key), connect(1, key)]);
    for (const follower of followers) assert.equal((await follower.subscribe(id, 0)).ok, true);

    const ends = await Promise.all([...followers, ...rooms].map((watcher) => watcher.waitForEnd(id)));
    const last = ends[0].seq!;
    assert.equal(ends[0].type, 'execution.completed');
    for (const watcher of [...followers, ...rooms]) assert.deepEqual(watcher.seqs(id), oneToN(last), 'seq 1..n, no gap, none twice');
  });

  describe('with keys and tokens', () => {
    it('disconnects a revoked key’s sockets on both monitors', async () => {
      const made = await gateway(0, credentials.admin).post('/v1/api-keys', { tenant: 'acme', name: 'replicas', role: 'tenant' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const sockets = await Promise.all([connect(0, made.body.key), connect(1, made.body.key)]);
      for (const socket of sockets) assert.equal((await socket.subscribeRoom({ tenant: true })).ok, true);
      const disconnected = sockets.map((socket) => disconnection(socket.socket, 30_000));

      assert.equal((await gateway(1, credentials.admin).delete(`/v1/api-keys/${made.body.id}`)).status, 204);
      assert.deepEqual(await Promise.all(disconnected), ['io server disconnect', 'io server disconnect']);
      await refusedOnBothMonitors(made.body.key);
    });

    it('disconnects a browser token’s sockets on both monitors at its expiry', async () => {
      const reply = await gateway(1, key).post('/v1/tokens', { scope: { tenant: true }, ttlSeconds: 3 });
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      const { token, expiresAt } = reply.body as { token: string; expiresAt: string };
      const sockets = await Promise.all([connect(0, token), connect(1, token)]);
      for (const socket of sockets) assert.equal((await socket.subscribeRoom({ tenant: true })).ok, true);

      const reasons = await Promise.all(sockets.map((socket) => disconnection(socket.socket, 30_000).then((reason) => ({ reason, at: Date.now() }))));
      for (const { reason, at } of reasons) {
        assert.equal(reason, 'io server disconnect');
        assert.ok(at >= Date.parse(expiresAt) - 50, `not before the expiry (${at - Date.parse(expiresAt)} ms)`);
      }
      await refusedOnBothMonitors(token);
    });
  });
});
