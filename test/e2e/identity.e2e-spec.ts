import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, ExecutionWatcher, assertApiError, disconnection, gatewayRoutes, poll, stackCredentials, Stack, type ApiReply, type Route } from '@conveyor/testing';

// Who may do what through the gateway is the subject here: raw HTTP with each kind of credential —
// the bootstrap keys of two tenants and the admin's, keys made through the API, browser tokens.
describe('identity and access on the gateway', () => {
  const credentials = stackCredentials(['acme', 'globex']);
  let stack: Stack;
  let routes: Route[];
  let admin: ApiClient;
  let acme: ApiClient;
  let globex: ApiClient;

  before(async () => {
    stack = await Stack.start({ workers: 0, env: credentials.env });
    routes = await gatewayRoutes({ ...stack.baseEnv, CONVEYOR_PREFIX: `${stack.prefix}-routes` });
    admin = stack.api.as(credentials.admin);
    acme = stack.api.as(credentials.tenants.acme);
    globex = stack.api.as(credentials.tenants.globex);
  });
  after(async () => {
    await stack?.stop();
  });

  /** The routes anyone may call, and what each answers a caller without credentials (the login, sent no key: its 400). */
  // An inbound hook's call takes no key (its token is the credential): a token that names no hook is 404.
  const publicAnswers: Record<string, number> = { 'GET /health': 200, 'GET /health/ready': 200, 'GET /ui/settings.json': 200, 'POST /ui/login': 400, 'POST /ui/logout': 204, 'POST /v1/hooks/:token': 404 };
  const publicRoutes = Object.keys(publicAnswers);
  const nameOf = (route: Route) => `${route.method} ${route.path}`;
  const isPublic = (route: Route) => publicRoutes.includes(nameOf(route));
  /** The routes a browser token may call (within its scope). */
  const tokenRoutes = ['GET /v1/executions/:id', 'GET /v1/executions/:id/events', 'GET /v1/executions/:id/logs', 'GET /v1/schedules/:id', 'GET /v1/schedules/:id/runs'];
  /** Routes that take a body but change nothing (a schedule's preview): any role may call them. */
  const readsWithBody = ['POST /v1/schedules/preview'];
  const isAdminOnly = (route: Route) =>
    route.path.startsWith('/v1/api-keys') || (route.path.startsWith('/v1/queues/') && route.method !== 'GET') || route.path === '/metrics';

  /** Calls a route with its parameters filled in: the ids given, `demo` for a queue, `acme` for a tenant. */
  function call(api: ApiClient, route: Route, ids: { execution: string; schedule: string; apiKey?: string; webhook?: string }): Promise<ApiReply> {
    const [, collection] = route.path.split('/').filter(Boolean);
    const value =
      {
        executions: ids.execution,
        schedules: ids.schedule,
        'api-keys': ids.apiKey ?? 'key_01JD0000000000000000000000',
        webhooks: ids.webhook ?? 'whk_01JD0000000000000000000000',
        tenants: 'acme',
      }[collection] ?? 'demo';
    return api.request(route.method, route.path.replace(/:\w+/g, value), route.method === 'GET' ? undefined : {});
  }

  /** Submits an execution that waits an hour (`scheduled`): it stays as it is unless someone acts on it. */
  async function submitWaiting(api: ApiClient, options: { tags?: string[]; query?: string } = {}): Promise<any> {
    const reply = await api.post(`/v1/executions${options.query ?? ''}`, { task: 'demo.noop', delayMs: 3_600_000, tags: options.tags });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    return reply.body;
  }

  async function createSchedule(api: ApiClient, name: string, query = ''): Promise<any> {
    const reply = await api.post(`/v1/schedules${query}`, { name, task: 'demo.noop', cron: '0 3 * * *', tz: 'UTC' });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body;
  }

  async function createKey(request: { tenant?: string; name: string; role: string }): Promise<any> {
    const reply = await admin.post('/v1/api-keys', request);
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body;
  }

  async function createToken(api: ApiClient, scope: object, options: { ttlSeconds?: number; query?: string } = {}): Promise<any> {
    const reply = await api.post(`/v1/tokens${options.query ?? ''}`, { scope, ttlSeconds: options.ttlSeconds });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body;
  }

  function ids(reply: ApiReply): string[] {
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body.items.map((item: { id: string }) => item.id);
  }

  describe('credentials', () => {
    it('answers 401 unauthorized, in the error body, on every route but the public ones when no key is sent', async () => {
      assert.ok(routes.length >= 25, `the routes were read from the app: ${routes.map(nameOf).join(', ')}`);
      for (const name of ['POST /v1/api-keys', 'DELETE /v1/api-keys/:id', 'POST /v1/tokens', ...tokenRoutes]) {
        assert.ok(routes.some((route) => nameOf(route) === name), `${name} is among the routes`);
      }
      const execution = await submitWaiting(acme);
      const schedule = await createSchedule(acme, 'no-key-target');
      const key = await createKey({ tenant: 'acme', name: 'no-key-target', role: 'read' });
      const targets = { execution: execution.id, schedule: schedule.id, apiKey: key.id };
      for (const route of routes) {
        const reply = await call(stack.api, route, targets);
        if (isPublic(route)) assert.equal(reply.status, publicAnswers[nameOf(route)], nameOf(route));
        else assertApiError(reply, 401, 'unauthorized', nameOf(route));
      }
      assert.deepEqual(routes.filter(isPublic).map(nameOf).sort(), [...publicRoutes].sort(), 'the public routes are served');
      assert.equal((await acme.get(`/v1/executions/${execution.id}`)).body.status, 'scheduled', 'nothing acted on the execution');
      assert.equal((await acme.get(`/v1/schedules/${schedule.id}`)).body.enabled, true);
      assert.ok(ids(await admin.get('/v1/api-keys')).includes(key.id), 'nor on the key');
    });

    it('answers 401 to an unknown key, a near miss of a real one, a forged token and other schemes', async () => {
      const targets = { execution: (await submitWaiting(acme)).id, schedule: (await createSchedule(acme, 'bad-key-target')).id };
      const unknown = stack.api.as(`cvk_${'x'.repeat(43)}`);
      for (const route of routes.filter((route) => !isPublic(route))) assertApiError(await call(unknown, route, targets), 401, 'unauthorized', nameOf(route));

      const realToken = (await createToken(acme, { tenant: true })).token as string;
      const [header, payload] = realToken.split('.');
      const nearMiss = credentials.tenants.acme.slice(0, -1) + (credentials.tenants.acme.endsWith('a') ? 'b' : 'a');
      for (const authorization of [
        `Bearer ${nearMiss}`,
        `Bearer ${credentials.tenants.acme} extra`,
        `Bearer ${header}.${payload}.${'A'.repeat(43)}`,
        `Bearer ${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), tenant: 'globex' })).toString('base64url')}.${realToken.split('.')[2]}`,
        'Bearer a.b.c',
        `Basic ${Buffer.from(`acme:${credentials.tenants.acme}`).toString('base64')}`,
        credentials.tenants.acme,
        'Bearer',
      ]) {
        assertApiError(await stack.api.request('GET', `/v1/executions/${targets.execution}`, undefined, { authorization }), 401, 'unauthorized', authorization.slice(0, 40));
      }
      assert.equal((await stack.api.as(realToken).get(`/v1/executions/${targets.execution}`)).status, 200, 'the real token itself works');
    });
  });

  describe('tenants', () => {
    it("answers 404 for another tenant's execution on every route that names it, and leaves it as it was", async () => {
      const waiting = await submitWaiting(acme);
      const ended = await submitWaiting(acme);
      assert.equal((await acme.post(`/v1/executions/${ended.id}/cancel`, {})).status, 200);
      const before = await Promise.all([waiting, ended].map(async ({ id }) => (await acme.get(`/v1/executions/${id}`)).body));

      for (const { id } of [waiting, ended]) {
        for (const [method, path] of [
          ['GET', ''],
          ['GET', '/events'],
          ['GET', '/logs'],
          ['POST', '/cancel'],
          ['POST', '/pause'],
          ['POST', '/resume'],
          ['POST', '/retry'],
          ['DELETE', ''],
        ]) {
          assertApiError(await globex.request(method, `/v1/executions/${id}${path}`, method === 'POST' ? {} : undefined), 404, 'not_found', `${method} ${path} of ${id}`);
        }
      }
      const afterwards = await Promise.all([waiting, ended].map(async ({ id }) => (await acme.get(`/v1/executions/${id}`)).body));
      assert.deepEqual(afterwards, before, 'status, seq and all the rest unchanged');
      assert.equal((await acme.get(`/v1/executions/${waiting.id}/events`)).body.items.length, before[0].seq);
      assertApiError(await globex.get(`/v1/executions/${waiting.id}?tenant=acme`), 403, 'forbidden', 'a tenant key naming another tenant');
    });

    it("answers 404 for another tenant's schedule on every route that names it, and leaves it as it was", async () => {
      const schedule = await createSchedule(acme, 'nightly');
      for (const [method, path] of [
        ['GET', ''],
        ['PATCH', ''],
        ['DELETE', ''],
        ['POST', '/enable'],
        ['POST', '/disable'],
        ['POST', '/run-now'],
        ['GET', '/runs'],
      ]) {
        const body = method === 'PATCH' ? { enabled: false } : method === 'POST' ? {} : undefined;
        assertApiError(await globex.request(method, `/v1/schedules/${schedule.id}${path}`, body), 404, 'not_found', `${method} ${path}`);
      }
      assert.deepEqual((await acme.get(`/v1/schedules/${schedule.id}`)).body, schedule, 'unchanged: enabled, never run, not updated');
      assert.deepEqual(ids(await acme.get(`/v1/schedules/${schedule.id}/runs`)), []);
      assert.ok(!ids(await globex.get('/v1/schedules')).includes(schedule.id));
      assert.equal((await createSchedule(globex, 'nightly')).name, 'nightly', 'names are unique per tenant only');
    });

    it('keeps idempotency keys per tenant: the same key in another tenant makes its own execution, never a conflict', async () => {
      const body = { task: 'demo.noop', delayMs: 3_600_000, idempotencyKey: 'order-1' };
      const first = await acme.post('/v1/executions', body);
      assert.equal(first.status, 202);
      const same = await globex.post('/v1/executions', body);
      assert.equal(same.status, 202, 'new, not acme’s first execution');
      assert.notEqual(same.body.id, first.body.id);
      assert.equal(same.body.tenant, 'globex');
      assert.equal((await globex.post('/v1/executions', { ...body, idempotencyKey: 'order-2' })).status, 202);
      const acmeDifferent = await acme.post('/v1/executions', { ...body, delayMs: 60_000, idempotencyKey: 'order-2' });
      assert.equal(acmeDifferent.status, 202, 'not 409: the key is globex’s, with another body');
      assert.equal((await acme.post('/v1/executions', body)).body.id, first.body.id, 'acme’s own replay still finds its first');
    });

    it("lists, totals and queue counts cover the caller's tenant only", async () => {
      // Tenants of their own, so that the counts are exact whatever else this file submitted.
      const initech = stack.api.as((await createKey({ tenant: 'initech', name: 'counts', role: 'tenant' })).key);
      const umbrella = stack.api.as((await createKey({ tenant: 'umbrella', name: 'counts', role: 'tenant' })).key);
      const initechIds = [(await submitWaiting(initech)).id, (await submitWaiting(initech)).id];
      const batch = await initech.post('/v1/executions/batch', { executions: [{ task: 'demo.noop', delayMs: 3_600_000 }, { task: 'demo.noop' }] });
      assert.equal(batch.status, 202);
      initechIds.push(...batch.body.items.map((item: { id: string }) => item.id));
      const umbrellaIds = [(await submitWaiting(umbrella)).id];
      await createSchedule(initech, 'initech-only');

      const initechList = await initech.get('/v1/executions');
      assert.deepEqual([...ids(initechList)].sort(), [...initechIds].sort());
      assert.deepEqual(initechList.body.totals, { queued: 1, scheduled: 3, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 });
      const umbrellaList = await umbrella.get('/v1/executions');
      assert.deepEqual(ids(umbrellaList), umbrellaIds);
      assert.deepEqual(umbrellaList.body.totals, { queued: 0, scheduled: 1, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 });
      assert.deepEqual((await umbrella.get('/v1/schedules')).body.items, []);

      const demo = (await initech.get('/v1/queues')).body.items.find((queue: { name: string }) => queue.name === 'demo');
      assert.deepEqual(demo.counts, initechList.body.totals, 'GET /v1/queues counts the tenant’s own executions');
      assert.deepEqual((await umbrella.get('/v1/queues/demo')).body.counts, umbrellaList.body.totals, 'and so does GET /v1/queues/:name');
      assert.ok((await admin.get('/v1/queues/demo')).body.counts.scheduled >= 3 + 1, 'the admin’s counts span every tenant');
      assert.equal(typeof (await admin.get('/v1/queues/demo')).body.runnable, 'number', 'the admin reads the runnable depth');
      assert.equal((await umbrella.get('/v1/queues/demo')).body.runnable, null, 'a tenant does not: it spans every tenant');
    });
  });

  describe('roles', () => {
    it('lets a read key GET its tenant’s work and refuses every other request 403', async () => {
      const reader = stack.api.as((await createKey({ tenant: 'acme', name: 'reader', role: 'read' })).key);
      const webhook = await acme.post('/v1/webhooks', { url: 'https://hooks.example.com/read-key-target', events: ['execution.completed'] });
      assert.equal(webhook.status, 201, JSON.stringify(webhook.body));
      const targets = { execution: (await submitWaiting(acme)).id, schedule: (await createSchedule(acme, 'read-key-target')).id, webhook: webhook.body.id };
      for (const route of routes.filter((route) => !isPublic(route))) {
        const reply = await call(reader, route, targets);
        if (readsWithBody.includes(nameOf(route))) assertApiError(reply, 400, 'validation_failed', `${nameOf(route)}: its empty body, not the role, is refused`);
        else if (route.method === 'GET' && !isAdminOnly(route)) assert.equal(reply.status, 200, `${nameOf(route)}: ${JSON.stringify(reply.body).slice(0, 200)}`);
        else assertApiError(reply, 403, 'forbidden', nameOf(route));
      }
      assert.equal((await acme.get(`/v1/executions/${targets.execution}`)).body.status, 'scheduled', 'its cancel did nothing');
      assert.equal((await acme.get(`/v1/schedules/${targets.schedule}`)).body.enabled, true, 'its disable did nothing');
      assertApiError(await reader.get(`/v1/executions/${(await submitWaiting(globex)).id}`), 404, 'not_found', 'another tenant’s execution');
    });

    it('refuses a tenant key the queue operations and the managed keys (403), and leaves the queue as it was', async () => {
      const adminOnly = routes.filter(isAdminOnly);
      assert.ok(adminOnly.length >= 8, adminOnly.map(nameOf).join(', '));
      const targets = { execution: (await submitWaiting(acme)).id, schedule: (await createSchedule(acme, 'tenant-key-target')).id };
      for (const route of adminOnly) assertApiError(await call(acme, route, targets), 403, 'forbidden', nameOf(route));
      assert.equal((await admin.get('/v1/queues/demo')).body.paused, false);
      assert.equal((await acme.get('/v1/queues')).status, 200, 'it reads the queues');
    });

    it('makes an admin name the tenant of new work (400 tenant_required) and puts it there when named', async () => {
      for (const [path, body] of [
        ['/v1/executions', { task: 'demo.noop' }],
        ['/v1/executions/batch', { executions: [{ task: 'demo.noop' }] }],
        ['/v1/schedules', { name: 'tenantless', task: 'demo.noop' }],
        ['/v1/tokens', { scope: { tenant: true } }],
      ] as const) {
        assertApiError(await admin.post(path, body), 400, 'tenant_required', path);
      }
      const forAcme = await submitWaiting(admin, { query: '?tenant=acme' });
      assert.equal(forAcme.tenant, 'acme');
      assert.equal((await acme.get(`/v1/executions/${forAcme.id}`)).status, 200, 'acme reads it');
      assertApiError(await globex.get(`/v1/executions/${forAcme.id}`), 404, 'not_found');
      const batch = await admin.post('/v1/executions/batch?tenant=globex', { executions: [{ task: 'demo.noop', delayMs: 3_600_000 }] });
      assert.deepEqual(batch.body.items.map((item: { tenant: string }) => item.tenant), ['globex']);
      assert.equal((await createSchedule(admin, 'made-by-admin', '?tenant=globex')).tenant, 'globex');
      assertApiError(await admin.get('/v1/executions?tenant=Not_A_Tenant'), 400, 'validation_failed');
    });

    it('lets an admin read every tenant’s work without ?tenant=, one tenant’s with it (on any route), and act on any id', async () => {
      const acmeWork = await submitWaiting(acme, { tags: ['admin-view'] });
      const globexWork = await submitWaiting(globex, { tags: ['admin-view'] });
      const acmeSchedule = await createSchedule(acme, 'admin-view');
      const globexSchedule = await createSchedule(globex, 'admin-view');

      assert.deepEqual(ids(await admin.get('/v1/executions?tag=admin-view')), [globexWork.id, acmeWork.id], 'newest first, across tenants');
      assert.deepEqual(ids(await admin.get('/v1/executions?tag=admin-view&tenant=globex')), [globexWork.id]);
      assert.deepEqual(ids(await acme.get('/v1/executions?tag=admin-view')), [acmeWork.id]);
      assert.deepEqual(ids(await acme.get('/v1/executions?tag=admin-view&tenant=acme')), [acmeWork.id], 'a tenant key may name its own tenant');
      assert.equal((await admin.get(`/v1/executions/${globexWork.id}/events?since=0&tenant=globex`)).body.items?.length, 1, 'the route’s own query still parses');
      assert.deepEqual(ids(await admin.get(`/v1/schedules/${globexSchedule.id}/runs?limit=5&tenant=globex`)), []);
      assertApiError(await admin.get(`/v1/executions/${globexWork.id}?tenant=acme`), 404, 'not_found', 'an id outside the tenant named');
      const schedules = ids(await admin.get('/v1/schedules'));
      assert.ok(schedules.includes(acmeSchedule.id) && schedules.includes(globexSchedule.id), 'schedules of both tenants');
      assert.ok(!ids(await admin.get('/v1/schedules?tenant=acme')).includes(globexSchedule.id));

      assert.equal((await admin.get(`/v1/executions/${globexWork.id}`)).body.tenant, 'globex');
      const cancelled = await admin.post(`/v1/executions/${acmeWork.id}/cancel`, {});
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.equal(cancelled.body.status, 'cancelled');
      assert.equal((await admin.post(`/v1/schedules/${globexSchedule.id}/disable`, {})).body.enabled, false);
    });
  });

  describe('Bull Board', () => {
    const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`admin:${key}`).toString('base64')}` });
    const board = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(new URL(path, stack.gatewayUrl), { method, headers });

    it('lets in the admin key as the password of HTTP Basic auth, and nobody else', async () => {
      const reader = (await createKey({ tenant: 'acme', name: 'board reader', role: 'read' })).key;
      const opsKey = (await createKey({ name: 'board ops', role: 'admin' })).key;
      const token = (await createToken(acme, { tenant: true })).token;
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        for (const headers of [{}, basic('not-the-key'), basic(''), { authorization: `Bearer ${credentials.tenants.acme}x` }]) {
          const refused = await board(path, headers);
          assert.equal(refused.status, 401, `${path} ${JSON.stringify(headers)}`);
          assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic realm=/, 'a browser asks for the key');
          assert.equal(((await refused.json()) as { code: string }).code, 'unauthorized');
        }
        for (const key of [credentials.tenants.acme, reader, token]) {
          const refused = await board(path, basic(key));
          assert.equal(refused.status, 403, path);
          assert.equal(((await refused.json()) as { code: string }).code, 'forbidden');
        }
        for (const key of [credentials.admin, opsKey]) assert.equal((await board(path, basic(key))).status, 200, path);
        assert.equal((await board(path, { authorization: `Bearer ${credentials.admin}` })).status, 200, `${path} with the admin key as a bearer`);
      }
      const queues = (await (await board('/admin/queues/api/queues', basic(credentials.admin))).json()) as { queues: { name: string; displayName: string }[] };
      const demo = queues.queues.find((queue) => queue.displayName === 'demo')!;
      assert.equal((await board(`/admin/queues/api/queues/${encodeURIComponent(demo.name)}/pause`, {}, 'PUT')).status, 401);
      assert.equal((await admin.get('/v1/queues/demo')).body.paused, false, 'the refused pause did nothing');
    });
  });

  describe('dashboard sessions', () => {
    /** Logs in with a key (and a tenant, for an admin); returns the `Cookie` header the answer set. */
    async function logIn(key: string, tenant?: string): Promise<string> {
      const reply = await stack.api.post('/ui/login', { key, ...(tenant ? { tenant } : {}) });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      const setCookie = reply.headers.get('set-cookie') ?? '';
      assert.match(setCookie, /^conveyor_session=[^;]+;/);
      for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(setCookie.includes(attribute), `${attribute} in ${setCookie}`);
      return setCookie.split(';')[0];
    }
    /** The gateway, called as a page holding the session cookie (`same`: a page of the site, which adds the header). */
    const page = (cookie: string, same = true) => new ApiClient(stack.gatewayUrl, { cookie, ...(same ? { 'x-conveyor-request': '1' } : {}) });

    it('turns a key into an HttpOnly, SameSite=Strict cookie that acts as the key, and refuses anything but a valid key', async () => {
      const cookie = await logIn(credentials.tenants.acme);
      const mine = await submitWaiting(acme);
      assert.ok(ids(await page(cookie).get('/v1/executions')).includes(mine.id));
      assertApiError(await page(cookie).get(`/v1/executions/${(await submitWaiting(globex)).id}`), 404, 'not_found', 'another tenant’s execution');
      const session = await page(cookie).get('/ui/session');
      assert.deepEqual([session.body.role, session.body.tenant], ['tenant', 'acme']);
      assert.equal((await stack.api.as(session.body.token).get(`/v1/executions/${mine.id}`)).status, 200, 'its socket token reads the tenant’s work');
      assertApiError(await stack.api.as(session.body.token).post('/v1/executions', { task: 'demo.noop' }), 403, 'forbidden', 'and only reads');

      for (const key of ['not-a-key', `cvk_${'x'.repeat(43)}`, (await createToken(acme, { tenant: true })).token]) {
        assertApiError(await stack.api.post('/ui/login', { key }), 401, 'unauthorized', key.slice(0, 12));
      }
      assertApiError(await page('conveyor_session=forged.session.cookie').get('/v1/executions'), 401, 'unauthorized', 'a forged cookie');
      assertApiError(await stack.api.post('/ui/login', {}), 400, 'validation_failed');
    });

    it('refuses a change made with the cookie without the page’s header, or from another origin', async () => {
      const cookie = await logIn(credentials.tenants.acme);
      const target = await submitWaiting(acme);
      // What a form or a fetch of another site's page can send: the cookie, without the header.
      assertApiError(await page(cookie, false).post(`/v1/executions/${target.id}/cancel`), 403, 'forbidden', 'a simple cross-site POST');
      assertApiError(await page(cookie, false).post('/v1/executions', { task: 'demo.noop' }), 403, 'forbidden', 'a JSON POST without the header');
      const foreign = await page(cookie).request('POST', `/v1/executions/${target.id}/cancel`, undefined, { origin: 'https://evil.example' });
      assertApiError(foreign, 403, 'forbidden', 'another origin');
      assert.equal((await acme.get(`/v1/executions/${target.id}`)).body.status, 'scheduled', 'nothing was cancelled');
      const made = await page(cookie).post('/v1/executions', { task: 'demo.noop', delayMs: 3_600_000 });
      assert.equal(made.status, 202);
      assert.equal(made.body.tenant, 'acme', 'a page of the site acts as the key');
    });

    it('lets an admin pick the tenant to show, and open Bull Board with the session', async () => {
      const cookie = await logIn(credentials.admin, 'globex');
      const session = await page(cookie).get('/ui/session');
      assert.deepEqual([session.body.role, session.body.tenant], ['admin', 'globex']);
      const made = await page(cookie).post('/v1/executions', { task: 'demo.noop', delayMs: 3_600_000 });
      assert.equal(made.body.tenant, 'globex', 'an admin’s session writes in the tenant it picked');
      assert.equal((await fetch(new URL('/admin/queues/api/queues', stack.gatewayUrl), { headers: { cookie } })).status, 200);
      const tenantCookie = await logIn(credentials.tenants.acme);
      assert.equal((await fetch(new URL('/admin/queues/api/queues', stack.gatewayUrl), { headers: { cookie: tenantCookie } })).status, 403);
    });

    it('ends with a log-out, and with its key’s revocation', async () => {
      const logout = await stack.api.post('/ui/logout');
      assert.equal(logout.status, 204);
      assert.match(logout.headers.get('set-cookie') ?? '', /^conveyor_session=;.*Max-Age=0/);
      const { id, key } = await createKey({ tenant: 'acme', name: 'dashboard user', role: 'read' });
      const cookie = await logIn(key);
      assert.equal((await page(cookie).get('/ui/session')).status, 200);
      assert.equal((await admin.delete(`/v1/api-keys/${id}`)).status, 204);
      await poll(() => page(cookie).get('/ui/session'), { until: (reply) => reply.status === 401, timeoutMs: 5_000, label: 'the session to end with its key' });
    });
  });

  describe('managed keys', () => {
    it('shows a new key once, lists keys without it, and checks the tenant against the role', async () => {
      const made = await admin.post('/v1/api-keys', { tenant: 'acme', name: 'ci', role: 'tenant' });
      assert.equal(made.status, 201);
      assert.deepEqual(Object.keys(made.body).sort(), ['createdAt', 'id', 'key', 'name', 'role', 'tenant']);
      assert.match(made.body.id, /^key_[0-9A-HJKMNP-TV-Z]{26}$/);
      assert.equal(typeof made.body.key, 'string');
      assert.ok(made.body.key.length >= 24);
      assert.deepEqual({ tenant: made.body.tenant, name: made.body.name, role: made.body.role }, { tenant: 'acme', name: 'ci', role: 'tenant' });
      assert.match(made.body.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const listed = await admin.get('/v1/api-keys');
      assert.equal(listed.status, 200);
      const { key, ...shown } = made.body;
      assert.deepEqual(listed.body.items.find((item: { id: string }) => item.id === made.body.id), shown);
      assert.ok(!JSON.stringify(listed.body).includes(key), 'the key is not in the list');
      for (const item of listed.body.items) assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'id', 'name', 'role', 'tenant']);

      const submitted = await submitWaiting(stack.api.as(key));
      assert.equal(submitted.tenant, 'acme', 'the key acts in its tenant');
      assert.equal((await acme.get(`/v1/executions/${submitted.id}`)).status, 200);

      const adminWithTenant = await admin.post('/v1/api-keys', { tenant: 'acme', name: 'ops', role: 'admin' });
      assertApiError(adminWithTenant, 400, 'validation_failed');
      assert.deepEqual(adminWithTenant.body.details.map((d: { path: string }) => d.path), ['tenant']);
      for (const request of [{ name: 'no tenant', role: 'tenant' }, { name: 'no tenant', role: 'read' }, { tenant: 'acme', name: 'x', role: 'root' }, { tenant: 'acme', role: 'read' }]) {
        assertApiError(await admin.post('/v1/api-keys', request), 400, 'validation_failed', JSON.stringify(request));
      }
      const opsKey = await createKey({ name: 'ops', role: 'admin' });
      assert.equal(opsKey.tenant, null);
      assert.equal((await stack.api.as(opsKey.key).get('/v1/api-keys')).status, 200, 'a managed admin key is an admin');
    });

    it('revokes a key within a second on every gateway, with its tokens and its sockets', async () => {
      const second = await stack.startGateway();
      const watchers: ExecutionWatcher[] = [];
      try {
        const { id, key } = await createKey({ tenant: 'acme', name: 'to revoke', role: 'tenant' });
        const token = (await createToken(stack.api.as(key), { tenant: true })).token as string;
        const target = (await submitWaiting(acme)).id;
        const [first, other] = [stack.api, new ApiClient(second.url!)];
        for (const credential of [key, token]) watchers.push(await ExecutionWatcher.connect(stack.monitorUrl, { token: credential }));
        // Used on both gateways just before: a cached answer must not outlive the revocation either.
        for (const api of [first, other]) {
          assert.equal((await api.as(key).get(`/v1/executions/${target}`)).status, 200);
          assert.equal((await api.as(token).get(`/v1/executions/${target}`)).status, 200);
        }
        const disconnected = watchers.map((watcher) => disconnection(watcher.socket, 10_000).then(() => Date.now()));

        assert.equal((await admin.delete(`/v1/api-keys/${id}`)).status, 204);
        const revokedAt = Date.now();
        for (const api of [other, first]) {
          for (const credential of [key, token]) {
            const refused = await poll(() => api.as(credential).get(`/v1/executions/${target}`), { until: (reply) => reply.status !== 200, timeoutMs: 10_000, label: 'the revocation' });
            assertApiError(refused, 401, 'unauthorized');
          }
        }
        const refusedWithin = Date.now() - revokedAt;
        assert.ok(refusedWithin <= 1_000, `refused on both gateways ${refusedWithin} ms after the revocation`);
        const ends = await Promise.all(disconnected);
        const socketsWithin = Math.max(...ends) - revokedAt;
        assert.ok(socketsWithin <= 1_500, `the key's and its token's sockets disconnected ${socketsWithin} ms after the revocation`);

        await assert.rejects(ExecutionWatcher.connect(stack.monitorUrl, { token: key }), { message: 'unauthorized' });
        assert.ok(!ids(await admin.get('/v1/api-keys')).includes(id));
        assertApiError(await admin.delete(`/v1/api-keys/${id}`), 404, 'not_found', 'revoked already');
        assertApiError(await admin.delete('/v1/api-keys/not-a-key'), 404, 'not_found', 'a malformed id');
        assertApiError(await admin.delete('/v1/api-keys/key_01JD0000000000000000000000'), 404, 'not_found', 'an unknown id');
      } finally {
        watchers.forEach((watcher) => watcher.close());
        await second.process.stop('SIGTERM');
      }
    });
  });

  describe('browser tokens', () => {
    it('answers 201 with the token, its expiry and its scope, and refuses an empty scope or a TTL past a day', async () => {
      const target = (await submitWaiting(acme)).id;
      const made = await acme.post('/v1/tokens', { scope: { executions: [target] } });
      assert.equal(made.status, 201);
      assert.deepEqual(Object.keys(made.body).sort(), ['expiresAt', 'scope', 'token']);
      assert.deepEqual(made.body.scope, { executions: [target] });
      const lifetime = Date.parse(made.body.expiresAt) - Date.now();
      assert.ok(lifetime > 880_000 && lifetime <= 900_000, `a quarter of an hour unless asked otherwise: ${lifetime} ms`);
      const short = await createToken(acme, { tenant: true }, { ttlSeconds: 60 });
      assert.ok(Date.parse(short.expiresAt) - Date.now() <= 60_000);

      for (const body of [{ scope: {} }, { scope: { executions: [] } }, { scope: { tags: [], schedules: [] } }, {}, { scope: { tenant: false } }]) {
        assertApiError(await acme.post('/v1/tokens', body), 400, 'validation_failed', JSON.stringify(body));
      }
      for (const ttlSeconds of [0, 86_401, 1.5]) assertApiError(await acme.post('/v1/tokens', { scope: { tenant: true }, ttlSeconds }), 400, 'validation_failed', `ttl ${ttlSeconds}`);
      assertApiError(await acme.post('/v1/tokens', { scope: { executions: ['not-an-id'] } }), 400, 'validation_failed');
      assert.equal((await createToken(acme, { tenant: true }, { ttlSeconds: 86_400 })).scope.tenant, true, 'a day at most');
    });

    it('lets a token read exactly the execution and schedule it names, and refuses it every other route (403)', async () => {
      const execution = (await submitWaiting(acme)).id;
      const sibling = (await submitWaiting(acme)).id;
      const schedule = (await createSchedule(acme, 'token-target')).id;
      const otherSchedule = (await createSchedule(acme, 'token-sibling')).id;
      const token = stack.api.as((await createToken(acme, { executions: [execution], schedules: [schedule] })).token);

      for (const route of routes) {
        const reply = await call(token, route, { execution, schedule });
        if (isPublic(route)) assert.equal(reply.status, publicAnswers[nameOf(route)], nameOf(route));
        else if (tokenRoutes.includes(nameOf(route))) assert.equal(reply.status, 200, `${nameOf(route)}: ${JSON.stringify(reply.body).slice(0, 200)}`);
        else assertApiError(reply, 403, 'forbidden', nameOf(route));
      }
      assert.deepEqual((await token.get(`/v1/executions/${execution}`)).body, (await acme.get(`/v1/executions/${execution}`)).body);
      for (const path of [`/v1/executions/${sibling}`, `/v1/executions/${sibling}/events`, `/v1/executions/${sibling}/logs`, `/v1/schedules/${otherSchedule}`, `/v1/schedules/${otherSchedule}/runs`]) {
        assertApiError(await token.get(path), 404, 'not_found', path);
      }
      assert.equal((await acme.get(`/v1/executions/${execution}`)).body.status, 'scheduled', 'its cancel did nothing');
    });

    it('lets a token scoped to a tag read exactly its tenant’s executions carrying it', async () => {
      const tagged = [(await submitWaiting(acme, { tags: ['user:42'] })).id, (await submitWaiting(acme, { tags: ['team:x', 'user:42'] })).id];
      const others = [(await submitWaiting(acme, { tags: ['user:43'] })).id, (await submitWaiting(acme, { tags: ['user:420'] })).id, (await submitWaiting(acme)).id];
      const foreign = (await submitWaiting(globex, { tags: ['user:42'] })).id;
      const token = stack.api.as((await createToken(acme, { tags: ['user:42'] })).token);
      for (const id of tagged) {
        assert.equal((await token.get(`/v1/executions/${id}`)).status, 200, id);
        assert.equal((await token.get(`/v1/executions/${id}/events`)).status, 200, id);
      }
      for (const id of [...others, foreign]) assertApiError(await token.get(`/v1/executions/${id}`), 404, 'not_found', id);
      assertApiError(await token.get('/v1/executions?tag=user:42'), 403, 'forbidden', 'no list');
    });

    it('lets a token scoped to a schedule read the schedule and its runs, and one scoped to the tenant all of it, none of another tenant', async () => {
      const schedule = (await createSchedule(acme, 'token-runs')).id;
      assert.equal((await acme.post(`/v1/schedules/${schedule}/run-now`, {})).status, 200);
      const [run] = ids(await acme.get(`/v1/schedules/${schedule}/runs`));
      assert.ok(run, 'run-now made an execution');
      const unrelated = (await submitWaiting(acme)).id;

      const scheduleToken = stack.api.as((await createToken(acme, { schedules: [schedule] })).token);
      assert.deepEqual(ids(await scheduleToken.get(`/v1/schedules/${schedule}/runs`)), [run]);
      assert.equal((await scheduleToken.get(`/v1/executions/${run}`)).body.scheduleId, schedule, 'a run of the schedule');
      assertApiError(await scheduleToken.get(`/v1/executions/${unrelated}`), 404, 'not_found');

      const globexWork = (await submitWaiting(globex)).id;
      const globexSchedule = (await createSchedule(globex, 'not-for-acme')).id;
      const tenantToken = stack.api.as((await createToken(acme, { tenant: true })).token);
      for (const path of [`/v1/executions/${unrelated}`, `/v1/executions/${run}/logs`, `/v1/schedules/${schedule}`]) assert.equal((await tenantToken.get(path)).status, 200, path);
      for (const path of [`/v1/executions/${globexWork}`, `/v1/schedules/${globexSchedule}`]) assertApiError(await tenantToken.get(path), 404, 'not_found', path);

      // An id of another tenant in the scope itself grants nothing: a token reads in its own tenant.
      const overreach = stack.api.as((await createToken(acme, { executions: [globexWork], schedules: [globexSchedule] })).token);
      assertApiError(await overreach.get(`/v1/executions/${globexWork}`), 404, 'not_found');
      assertApiError(await overreach.get(`/v1/schedules/${globexSchedule}`), 404, 'not_found');

      // An admin's token belongs to the tenant it names.
      const adminToken = stack.api.as((await createToken(admin, { tenant: true }, { query: '?tenant=globex' })).token);
      assert.equal((await adminToken.get(`/v1/executions/${globexWork}`)).status, 200);
      assertApiError(await adminToken.get(`/v1/executions/${unrelated}`), 404, 'not_found');
    });
  });

  describe('start-up', () => {
    const withoutKeys = { CONVEYOR_ADMIN_KEY: '', CONVEYOR_API_KEYS: '', CONVEYOR_TOKEN_SECRET: '' };

    it('refuses to start a gateway or monitor bound beyond loopback without keys, or with keys but no token secret, saying what to set', async () => {
      const [exposedGateway, exposedMonitor, unsignedGateway, unsignedMonitor] = await Promise.allSettled([
        stack.startGateway({ ...withoutKeys, HOST: '0.0.0.0' }),
        stack.startMonitor({ ...withoutKeys, HOST: '0.0.0.0' }),
        stack.startGateway({ CONVEYOR_TOKEN_SECRET: '' }),
        stack.startMonitor({ CONVEYOR_TOKEN_SECRET: '' }),
      ]);
      for (const [name, outcome, variable] of [
        ['gateway on 0.0.0.0', exposedGateway, 'CONVEYOR_ADMIN_KEY'],
        ['monitor on 0.0.0.0', exposedMonitor, 'CONVEYOR_ADMIN_KEY'],
        ['gateway without a token secret', unsignedGateway, 'CONVEYOR_TOKEN_SECRET'],
        ['monitor without a token secret', unsignedMonitor, 'CONVEYOR_TOKEN_SECRET'],
      ] as const) {
        assert.equal(outcome.status, 'rejected', `${name} started`);
        const { message } = (outcome as PromiseRejectedResult).reason as Error;
        assert.match(message, /exited with code [1-9]/, name);
        assert.match(message, new RegExp(`Invalid environment: .*${variable}`), name);
      }
    });

    it('turns auth off on loopback without keys: every caller is the admin of tenant default', async () => {
      const open = await stack.startGateway(withoutKeys);
      try {
        const api = new ApiClient(open.url!);
        const submitted = await submitWaiting(api);
        assert.equal(submitted.tenant, 'default');
        assert.equal((await api.get('/v1/api-keys')).status, 200, 'admin routes too');
        assertApiError(await acme.get(`/v1/executions/${submitted.id}`), 404, 'not_found', 'not in a tenant with keys');
      } finally {
        await open.process.stop('SIGTERM');
      }
    });
  });
});
