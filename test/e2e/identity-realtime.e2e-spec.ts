import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@conveyor/launcher';
import { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent } from '@conveyor/contracts';
import { ApiClient, ExecutionWatcher, assertApiError, connectSocket, disconnection, poll, stackCredentials, Stack, type SocketOptions } from '@conveyor/testing';

// What a socket may follow, and which browsers may call at all, is the subject here: raw socket.io
// clients with each kind of credential (the SDK would hide acks and connect errors), raw HTTP for origins.
describe('identity and access on the monitor, and browser origins', () => {
  const credentials = stackCredentials(['acme', 'globex']);
  const appOrigin = 'https://app.example.com';
  const foreignOrigin = 'https://evil.example';
  let stack: Stack;
  let acme: ApiClient;
  let globex: ApiClient;
  const watchers: ExecutionWatcher[] = [];

  before(async () => {
    stack = await Stack.start({ env: { ...credentials.env, CONVEYOR_CORS_ORIGINS: appOrigin } });
    acme = stack.api.as(credentials.tenants.acme);
    globex = stack.api.as(credentials.tenants.globex);
  });
  after(async () => {
    watchers.forEach((watcher) => watcher.close());
    await stack?.stop();
  });

  /** A socket of this stack's monitor with a key or token (closed after the file). */
  async function connect(token: string, options: SocketOptions = {}): Promise<ExecutionWatcher> {
    const watcher = await ExecutionWatcher.connect(stack.monitorUrl, { token, ...options });
    watchers.push(watcher);
    return watcher;
  }

  async function submit(api: ApiClient, body: object = {}): Promise<string> {
    const reply = await api.post('/v1/executions', { task: 'demo.steps', input: { steps: 2, stepMs: 10 }, ...body });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    return reply.body.id;
  }

  /** Submits, follows the execution on the submitter's own socket, and resolves once it has ended. */
  async function runToEnd(api: ApiClient, key: string, body: object = {}): Promise<string> {
    const watcher = await connect(key);
    const id = await submit(api, body);
    assert.equal((await watcher.subscribe(id, 0)).ok, true);
    await watcher.waitForEnd(id);
    return id;
  }

  async function createToken(api: ApiClient, scope: object, ttlSeconds?: number): Promise<{ token: string; expiresAt: string }> {
    const reply = await api.post('/v1/tokens', { scope, ttlSeconds });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body;
  }

  async function createSchedule(api: ApiClient, name: string): Promise<string> {
    const reply = await api.post('/v1/schedules', { name, task: 'demo.noop', cron: '0 3 * * *', tz: 'UTC' });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body.id;
  }

  const refusal = (ack: { ok: boolean; code?: string }) => (ack.ok ? 'ok' : ack.code);

  describe('the handshake', () => {
    it('lets a socket in only with a valid key or browser token: connect_error unauthorized otherwise', async () => {
      const token = (await createToken(acme, { tenant: true })).token;
      const nearMiss = credentials.admin.slice(0, -1) + (credentials.admin.endsWith('a') ? 'b' : 'a');
      const [header, payload] = token.split('.');
      for (const [label, options] of [
        ['no token', {}],
        ['an empty token', { token: '' }],
        ['an unknown key', { token: `cvk_${'x'.repeat(43)}` }],
        ['a near miss of the admin key', { token: nearMiss }],
        ['a token with a forged signature', { token: `${header}.${payload}.${'A'.repeat(43)}` }],
      ] as const) {
        await assert.rejects(connectSocket(stack.monitorUrl, options), { message: 'unauthorized' }, label);
      }
      for (const credential of [credentials.admin, credentials.tenants.acme, token]) assert.ok((await connect(credential)).socket.connected);
    });
  });

  describe('tenants', () => {
    it("answers not_found for another tenant's execution or schedule, and sends none of its events", async () => {
      const nosy = await connect(credentials.tenants.globex);
      const schedule = await createSchedule(acme, 'socket-private');
      const id = await submit(acme, { input: { steps: 3, stepMs: 30 } });
      for (const ack of [await nosy.subscribe(id), await nosy.subscribe(id, 0), await nosy.subscribeSchedule(schedule, 0)]) assert.equal(refusal(ack), 'not_found');
      const adminWatch = await connect(credentials.admin);
      const ack = await adminWatch.subscribe(id, 0);
      assert.ok(ack.ok && ack.snapshot.tenant === 'acme', 'an admin follows any tenant’s id');
      assert.equal(refusal(await adminWatch.subscribeSchedule(schedule)), 'ok');
      await adminWatch.waitForEnd(id);
      assert.deepEqual(nosy.of(id), []);
    });

    it("sends a tenant's queue and tenant rooms only that tenant's events", async () => {
      const queueRoom = await connect(credentials.tenants.acme);
      const tenantRoom = await connect(credentials.tenants.acme);
      const queueAck = await queueRoom.subscribeRoom({ queue: 'demo' });
      assert.ok(queueAck.ok, JSON.stringify(queueAck));
      assert.deepEqual(Object.keys(queueAck.snapshot.counts).sort(), ['cancelled', 'completed', 'failed', 'paused', 'queued', 'running', 'scheduled']);
      assert.equal(refusal(await tenantRoom.subscribeRoom({ tenant: true })), 'ok');
      assert.equal(refusal(await tenantRoom.subscribeRoom({ tenant: 'acme' })), 'ok', 'naming its own tenant');
      const counts: ConveyorEvent<'queue.counts'>[] = [];
      queueRoom.socket.on('queue.counts', (event: ConveyorEvent<'queue.counts'>) => counts.push(event));

      // Globex's execution ends first; acme's, published after it on the same queue, marks the end of what could have leaked.
      const foreign = await runToEnd(globex, credentials.tenants.globex);
      const own = await submit(acme);
      for (const room of [queueRoom, tenantRoom]) {
        await room.waitForEnd(own);
        assert.deepEqual(room.of(foreign), [], 'none of globex’s events');
        assert.deepEqual([...new Set(room.events.map((event) => event.tenant))], ['acme']);
      }
      // Every execution of acme's has ended: the last counts the room gets are acme's own, as REST reads them.
      const expected = (await acme.get('/v1/queues/demo')).body.counts;
      await poll(async () => counts.at(-1)?.data.counts, { until: (last) => isDeepStrictEqual(last, expected), label: `acme's counts ${JSON.stringify(expected)} in its room` });
      assert.deepEqual([...new Set(counts.map((event) => event.tenant))], ['acme']);
    });

    it("makes an admin name a room's tenant, and refuses a tenant key another tenant's room", async () => {
      const adminSocket = await connect(credentials.admin);
      assert.equal(refusal(await adminSocket.subscribeRoom({ queue: 'demo' })), 'tenant_required');
      assert.equal(refusal(await adminSocket.subscribeRoom({ tenant: true })), 'tenant_required');
      const acmeQueue = await connect(credentials.admin);
      const globexRoom = await connect(credentials.admin);
      assert.equal(refusal(await acmeQueue.subscribeRoom({ queue: 'demo', tenant: 'acme' })), 'ok');
      assert.equal(refusal(await globexRoom.subscribeRoom({ tenant: 'globex' })), 'ok');

      const acmeSocket = await connect(credentials.tenants.acme);
      assert.equal(refusal(await acmeSocket.subscribeRoom({ tenant: 'globex' })), 'forbidden');
      assert.equal(refusal(await acmeSocket.subscribeRoom({ queue: 'demo', tenant: 'globex' })), 'forbidden');

      // Each room's own last execution ends after the other tenant's: what could leak has come by then.
      const globexRun = await runToEnd(globex, credentials.tenants.globex);
      const acmeRun = await runToEnd(acme, credentials.tenants.acme);
      const globexLast = await runToEnd(globex, credentials.tenants.globex);
      await acmeQueue.waitForEnd(acmeRun);
      await globexRoom.waitForEnd(globexLast);
      assert.deepEqual([...new Set(acmeQueue.events.map((event) => event.tenant))], ['acme']);
      assert.deepEqual(acmeQueue.of(globexRun), [], 'the acme room has none of globex’s events');
      assert.deepEqual([...new Set(globexRoom.events.map((event) => event.tenant))], ['globex']);
      assert.deepEqual(globexRoom.of(acmeRun), [], 'the globex room has none of acme’s events');
      assert.deepEqual(acmeSocket.events, []);
    });
  });

  describe('browser tokens', () => {
    it('lets a token follow exactly the execution it names, and no sibling, room or other tenant’s id', async () => {
      const target = await submit(acme, { input: { steps: 3, stepMs: 30 } });
      const sibling = await submit(acme);
      const foreign = await submit(globex);
      const schedule = await createSchedule(acme, 'not-in-the-token');
      const watcher = await connect((await createToken(acme, { executions: [target] })).token);
      const ack = await watcher.subscribe(target, 0);
      assert.ok(ack.ok && ack.snapshot.id === target);
      assert.equal(refusal(await watcher.subscribe(sibling, 0)), 'forbidden');
      assert.equal(refusal(await watcher.subscribeSchedule(schedule, 0)), 'forbidden');
      assert.equal(refusal(await watcher.subscribe(foreign, 0)), 'not_found');
      assert.equal(refusal(await watcher.subscribeRoom({ queue: 'demo' })), 'forbidden');
      assert.equal(refusal(await watcher.subscribeRoom({ tenant: true })), 'forbidden');
      const siblingWatcher = await connect(credentials.tenants.acme);
      assert.equal(refusal(await siblingWatcher.subscribe(sibling, 0)), 'ok');
      await Promise.all([watcher.waitForEnd(target), siblingWatcher.waitForEnd(sibling)]);
      assert.deepEqual([...new Set(watcher.events.map((event) => event.executionId))], [target], 'its events only');
    });

    it('lets a token follow the executions carrying its tag, its schedule and that schedule’s runs; a tenant token its tenant’s rooms', async () => {
      const tagged = await submit(acme, { tags: ['user:42'] });
      const untagged = await submit(acme, { tags: ['user:43'] });
      const tagWatcher = await connect((await createToken(acme, { tags: ['user:42'] })).token);
      assert.equal(refusal(await tagWatcher.subscribe(tagged, 0)), 'ok');
      assert.equal(refusal(await tagWatcher.subscribe(untagged, 0)), 'forbidden');

      const schedule = await createSchedule(acme, 'followed-by-token');
      const otherSchedule = await createSchedule(acme, 'not-followed');
      const scheduleWatcher = await connect((await createToken(acme, { schedules: [schedule] })).token);
      assert.equal(refusal(await scheduleWatcher.subscribeSchedule(schedule, 0)), 'ok');
      assert.equal(refusal(await scheduleWatcher.subscribeSchedule(otherSchedule, 0)), 'forbidden');
      assert.equal((await acme.post(`/v1/schedules/${schedule}/run-now`, {})).status, 200);
      const fired = await scheduleWatcher.waitFor('schedule.fired');
      assert.equal(refusal(await scheduleWatcher.subscribe(fired.data.executionId, 0)), 'ok', 'a run of its schedule');
      assert.equal(refusal(await scheduleWatcher.subscribe(tagged, 0)), 'forbidden');

      const tenantWatcher = await connect((await createToken(acme, { tenant: true })).token);
      assert.equal(refusal(await tenantWatcher.subscribeRoom({ tenant: true })), 'ok');
      assert.equal(refusal(await tenantWatcher.subscribeRoom({ queue: 'demo' })), 'ok');
      assert.equal(refusal(await tenantWatcher.subscribeRoom({ tenant: 'globex' })), 'forbidden');
      assert.equal(refusal(await tenantWatcher.subscribe(untagged, 0)), 'ok');
      assert.equal(refusal(await tenantWatcher.subscribe(await submit(globex), 0)), 'not_found');
    });

    it('disconnects a token’s socket when the token expires, and lets it in no more', async () => {
      const { token, expiresAt } = await createToken(acme, { tenant: true }, 2);
      const target = await submit(acme);
      const watcher = await connect(token);
      assert.equal(refusal(await watcher.subscribe(target)), 'ok');
      const reason = await disconnection(watcher.socket, 10_000);
      const late = Date.now() - Date.parse(expiresAt);
      assert.equal(reason, 'io server disconnect');
      assert.ok(late >= -50 && late <= 1_000, `disconnected ${late} ms after the expiry`);
      await assert.rejects(connectSocket(stack.monitorUrl, { token }), { message: 'unauthorized' });
      assertApiError(await stack.api.as(token).get(`/v1/executions/${target}`), 401, 'unauthorized');
    });

    it('lets the SDK renew an expiring token through getToken: a watch goes on across expiries, every event once and in order', async () => {
      const id = await submit(acme, { input: { steps: 12, stepMs: 500 } });
      let issued = 0;
      // What a page's backend does: a fresh two-second token for this execution, each time it is asked.
      const getToken = async () => {
        issued++;
        return (await createToken(acme, { executions: [id] }, 2)).token as string;
      };
      const client = new ConveyorClient({ apiUrl: stack.gatewayUrl, monitorUrl: stack.monitorUrl, getToken });
      try {
        const seqs: number[] = [];
        const watch = client.watch(id, { onEvent: (event) => event.seq !== undefined && seqs.push(event.seq) }, { since: 0 });
        const ended = await watch.done;
        assert.equal(ended.status, 'completed');
        assert.deepEqual(seqs, Array.from({ length: ended.seq }, (_, i) => i + 1), 'every numbered event once, in order');
        assert.ok(issued >= 3, `the socket was let in again with fresh tokens (${issued} issued over a 6 s run of 2 s tokens)`);
      } finally {
        client.close();
      }
    });
  });

  describe('origins', () => {
    it('refuses a request from a foreign origin (403), serves the allowed one with CORS, and a backend without an Origin', async () => {
      const count = async () => Object.values((await acme.get('/v1/executions')).body.totals as Record<string, number>).reduce((a, b) => a + b, 0);
      const before = await count();
      const foreign = { origin: foreignOrigin };
      assertApiError(await acme.request('GET', '/v1/executions', undefined, foreign), 403, 'forbidden');
      assertApiError(await acme.request('POST', '/v1/executions', { task: 'demo.noop', delayMs: 3_600_000 }, foreign), 403, 'forbidden');
      assert.equal(await count(), before, 'the refused submission made nothing');
      const allowed = await acme.request('GET', '/v1/executions', undefined, { origin: appOrigin });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.headers.get('access-control-allow-origin'), appOrigin);
      assert.equal((await acme.get('/v1/executions')).status, 200);
    });

    it('refuses a socket from a foreign origin on either transport, and lets in the allowed one', async () => {
      for (const transports of [['websocket'], ['polling']] as const) {
        await assert.rejects(connectSocket(stack.monitorUrl, { token: credentials.admin, origin: foreignOrigin, transports: [...transports] }), `${transports}: refused`);
        assert.ok((await connect(credentials.admin, { origin: appOrigin, transports: [...transports] })).socket.connected, `${transports}: allowed`);
      }
    });

    it('allows the dashboard’s own origins by default, on loopback and localhost at GATEWAY_PORT', async () => {
      const port = String(await freePort());
      const defaults = { GATEWAY_PORT: port, CONVEYOR_CORS_ORIGINS: '' };
      const [gateway, monitor] = await Promise.all([stack.startGateway(defaults), stack.startMonitor(defaults)]);
      try {
        const api = new ApiClient(gateway.url!).as(credentials.admin);
        for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
          assert.equal((await api.request('GET', '/v1/api-keys', undefined, { origin })).status, 200, origin);
          (await connectSocket(monitor.url!, { token: credentials.admin, origin })).close();
        }
        assertApiError(await api.request('GET', '/v1/api-keys', undefined, { origin: appOrigin }), 403, 'forbidden');
        await assert.rejects(connectSocket(monitor.url!, { token: credentials.admin, origin: appOrigin }));
      } finally {
        await Promise.all([gateway, monitor].map((service) => service.process.stop('SIGTERM')));
      }
    });
  });
});
