import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import type { ConveyorClient } from '@conveyor/client';
import { limits, tenantPattern, ulidAlphabet } from '@conveyor/contracts';
import {
  ExecutionWatcher,
  gatewayRoutes,
  hostileBody,
  hostileJson,
  hostileNumberText,
  hostileString,
  inspectJson,
  isTooDeep,
  jsonTree,
  Stack,
  submitAndWatch,
  type Route,
} from '@conveyor/testing';
import type { ServiceProcess } from '@conveyor/launcher';

// Property-based: generated hostile paths, bodies, queries and socket requests against the real
// services. Seeded: FUZZ_SEED=<n> replays a run (fast-check prints the failing case, shrunk);
// FUZZ_RUNS=<factor> scales the number of cases (default 1, about a minute in all).
const seed = Number(process.env.FUZZ_SEED ?? 20261130);
const runs = (n: number) => Math.max(1, Math.round(n * Number(process.env.FUZZ_RUNS ?? 1)));
const answerTimeoutMs = 10_000;
const ackTimeoutMs = 5_000;

const stackTrace = /\n\s+at |\bat [\w$.<>]+ \(|node:internal|node_modules\//;
const isWrite = (route: Route) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method);
const quote = (value: string) => JSON.stringify(value);
const short = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
/** Percent-encodes any string, lone surrogates too (as U+FFFD). */
const encode = (text: string) => encodeURIComponent(text.replace(/\p{Surrogate}/gu, '\ufffd'));
const decode = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

/** One generated request; `segments` fill the route's path parameters in order. */
interface HttpCase {
  route: Route;
  segments: string[];
  query: string;
  body?: string;
  contentType?: string;
  headers: Record<string, string>;
}

const pathOf = (c: HttpCase) => {
  let i = 0;
  return c.route.path.replace(/:\w+/g, () => c.segments[i++]) + c.query;
};

/** How a case reads in fast-check's report: the request, never a megabyte of body. */
const described = (c: HttpCase): HttpCase =>
  Object.assign(c, {
    [fc.toStringMethod]: () =>
      `${c.route.method} ${short(pathOf(c), 200)}${c.contentType ? ` [${c.contentType}]` : ''}${Object.keys(c.headers).length ? ` ${short(JSON.stringify(c.headers), 100)}` : ''}${c.body === undefined ? '' : ` body(${c.body.length} chars): ${short(c.body, 400)}`}`,
  });

/** What the contract demands of a request beyond "2xx, or 4xx with the error body". */
interface Demands {
  /** Why it must be refused; empty: a 2xx is fine too. */
  refuse: string[];
  /** The only statuses allowed, where the contract names them. */
  statuses?: number[];
  /** The only code allowed, where the contract names it. */
  code?: string;
}

/** Whether a path parameter's value names something: an existing id or name, or any well-formed tenant name (tenants need no creating). */
function names(parameter: string, value: string, known: Set<string>): boolean {
  return known.has(value) || (parameter === ':tenant' && tenantPattern.test(value));
}

function demands(c: HttpCase, known: Set<string>): Demands {
  const values = c.segments.map(decode);
  const parameters = c.route.path.match(/:\w+/g) ?? [];
  const badPercent = values.includes(undefined);
  const unknownTarget = values.some((value, i) => value !== undefined && !names(parameters[i], value, known));
  // The router refuses a malformed path before the body is read.
  if (badPercent) return { statuses: [400], code: 'invalid_path', refuse: ['a bad percent-escape in the path'] };
  const json = c.body !== undefined && c.contentType === 'application/json' ? inspectJson(c.body) : undefined;
  if (json && json.bytes > limits.requestBodyBytes) return { statuses: [413], refuse: ['a body over 1 MiB'] };
  const deep = json !== undefined && isTooDeep(json.depth);
  const refuse = [
    ...(unknownTarget ? ['no such id or name'] : []),
    ...(deep ? [`JSON nested ${json.depth} deep`] : []),
    ...(json?.reservedKeys.length ? [`the reserved key(s) ${json.reservedKeys.join(', ')}`] : []),
    ...(json && /"idempotencyKey"\s*:\s*"sch:/.test(c.body!) ? ['an idempotency key in the reserved sch: space'] : []),
  ];
  // Too deep is 400 before any other work; a path naming nothing may be 404 first.
  return { refuse, statuses: deep && !unknownTarget ? [400] : undefined };
}

async function send(baseUrl: string, c: HttpCase): Promise<{ status: number; text: string }> {
  const headers = { ...(c.contentType ? { 'content-type': c.contentType } : {}), ...c.headers };
  try {
    const response = await fetch(baseUrl + pathOf(c), { method: c.route.method, headers, body: c.body, signal: AbortSignal.timeout(answerTimeoutMs) });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    const { name, message, cause } = error as Error & { cause?: Error };
    throw new Error(name === 'TimeoutError' ? `no answer within ${answerTimeoutMs} ms` : `no answer: ${message} (${cause?.message ?? 'no cause'})`);
  }
}

/** The last error a service logged (type and message, no stack): what a 500 or an `exception` hid. */
function lastLoggedError(service: ServiceProcess): string {
  const line = service.process.lines.findLast((l) => l.includes('"level":50'));
  if (!line) return 'nothing logged';
  const { msg, err } = JSON.parse(line) as { msg?: string; err?: { type?: string; message?: string } };
  return short(`${msg ?? ''} (${err?.type ?? ''}: ${err?.message ?? ''})`, 300);
}

/** 2xx, or 4xx with `{ statusCode, code, message, details? }`; never 5xx, never a stack. */
function assertContractAnswer(c: HttpCase, status: number, text: string, known: Set<string>, gateway: ServiceProcess): void {
  const answer = `answered ${status} ${short(text)}${status >= 500 ? `; the gateway logged: ${lastLoggedError(gateway)}` : ''}`;
  assert.ok((status >= 200 && status < 300) || (status >= 400 && status < 500), answer);
  assert.doesNotMatch(text, stackTrace, `a stack trace: ${answer}`);
  const { statuses, code, refuse } = demands(c, known);
  if (statuses) assert.ok(statuses.includes(status), `${statuses.join(' or ')} expected (${refuse.join('; ')}): ${answer}`);
  if (refuse.length) assert.ok(status >= 400, `refusal expected (${refuse.join('; ')}): ${answer}`);
  if (status < 400) return;
  let body: { statusCode?: unknown; code?: unknown; message?: unknown; details?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`not a JSON error body: ${answer}`);
  }
  assert.equal(body.statusCode, status, `statusCode: ${answer}`);
  assert.equal(typeof body.code, 'string', `code: ${answer}`);
  assert.ok(typeof body.message === 'string' && body.message.length > 0, `message: ${answer}`);
  if (code) assert.equal(body.code, code, `code: ${answer}`);
  if (body.details !== undefined) {
    assert.ok(Array.isArray(body.details), `details: ${answer}`);
    assert.ok(body.details.length <= 100, `at most 100 details, got ${body.details.length}: ${short(text)}`);
    for (const detail of body.details) assert.ok(typeof detail?.path === 'string' && typeof detail?.message === 'string', `detail: ${answer}`);
  }
}

/**
 * Asserts the property with a seed derived from FUZZ_SEED and the property's label (so that
 * routes do not all draw the same cases); a failure says how to replay it.
 */
async function check<T>(label: string, arbitrary: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => Promise<void>): Promise<void> {
  const derived = [...label].reduce((hash, char) => (Math.imul(hash, 31) + char.charCodeAt(0)) | 0, seed);
  try {
    await fc.assert(fc.asyncProperty(arbitrary, predicate), { seed: derived, numRuns });
  } catch (error) {
    (error as Error).message = `FUZZ_SEED=${seed} replays this run.\n${(error as Error).message}`;
    throw error;
  }
}

describe('hostile input (property-based, seeded)', () => {
  let stack: Stack;
  let client: ConveyorClient;
  let routes: Route[];
  /** Ids and names that exist: a path naming anything else must be refused. */
  let known: Set<string>;
  let ids: string[];

  before(async () => {
    stack = await Stack.start();
    client = stack.client();
    routes = await gatewayRoutes({ ...stack.baseEnv, CONVEYOR_PREFIX: `${stack.prefix}-routes` });
    const done = await submitAndWatch(client, 'demo.noop', { payload: 'fuzz target' });
    await done.done;
    const later = await client.submit('demo.noop', {}, { delayMs: 3_600_000 });
    const schedule = await stack.api.post('/v1/schedules', { name: 'fuzz-target', task: 'demo.noop' });
    assert.equal(schedule.status, 201);
    const queues = (await stack.api.get('/v1/queues')).body.items.map((q: { name: string }) => q.name);
    ids = [done.executionId, later.id, schedule.body.id];
    known = new Set([...ids, ...queues]);
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  /** A path parameter as it goes into the URL: existing ids and names, then ever worse. */
  const segment = () =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...known), weight: 6 },
      { arbitrary: fc.tuple(fc.constantFrom(...ids), fc.constantFrom(':events', ':logs', ':seq', '%3Aevents', '%00', '%2F..')).map(([id, tail]) => id + tail), weight: 3 },
      { arbitrary: fc.tuple(fc.constantFrom('exec_', 'sch_', 'whk_', ''), fc.string({ unit: fc.constantFrom(...ulidAlphabet), minLength: 26, maxLength: 26 })).map(([kind, ulid]) => kind + ulid), weight: 2 },
      { arbitrary: hostileString.filter((s) => s.length < 2_000).map(encode), weight: 2 },
      { arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%ff', 'exec_%', '%%41'), weight: 2 },
      // Past 16 KiB the URL no longer fits Node's header limit: the answer must still be the contract's.
      { arbitrary: fc.integer({ min: 256, max: 24_000 }).map((n) => `exec_${'A'.repeat(n)}`), weight: 1 },
    );

  // An empty parameter makes another route's path (`/v1/executions/`), not a bad one.
  const segmentsFor = (route: Route) => fc.tuple(...(route.path.match(/:\w+/g) ?? []).map(() => segment().filter((s) => s.length > 0)));

  /** A query string of the API's parameter names and hostile values, repeated keys included. */
  const mixedQuery = fc
    .array(
      fc.tuple(
        fc.oneof(
          { arbitrary: fc.constantFrom('limit', 'cursor', 'since', 'status', 'task', 'queue', 'scheduleId', 'tag', 'include'), weight: 4 },
          fc.constantFrom('tenant', 'limit[]', 'since[a]', '__proto__', 'constructor[prototype]'),
          hostileString.filter((s) => s.length < 100).map(encode),
        ),
        fc.oneof(
          { arbitrary: hostileNumberText, weight: 3 },
          fc.constantFrom('NaN', 'Infinity', '501', '9'.repeat(400), 'queued,running', 'input,result', '%', '%zz', ''),
          hostileString.filter((s) => s.length < 4_000).map(encode),
        ),
      ),
      { maxLength: 6 },
    )
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
  // A numeric parameter alone, so that no other refusal hides what it does.
  const query = fc.oneof({ arbitrary: fc.tuple(fc.constantFrom('limit', 'since'), fc.oneof(hostileNumberText, fc.constantFrom('1e21', '1e300', '9007199254740993'))).map(([k, v]) => `?${k}=${encode(v)}`), weight: 3 }, mixedQuery);

  const writeCase = (route: Route) =>
    fc
      .record({
        segments: segmentsFor(route),
        body: fc.option(hostileBody, { freq: 12 }),
        contentType: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 12 }, fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded')),
        headers: fc.oneof({ arbitrary: fc.constant({}), weight: 6 }, fc.constantFrom('sch:sch_01M000000000000000000000ZZ:1', 'x'.repeat(5_000), '', '__proto__').map((key) => ({ 'idempotency-key': key }))),
      })
      .map(({ segments, body, contentType, headers }) => {
        // A URL past the header limit is answered before its body is read: a large body would only race the close.
        const sent = body !== null && !(segments.join('').length > 8_000 && body.length > 16_000) ? body : undefined;
        return described({ route, segments, query: '', body: sent, contentType: sent === undefined ? undefined : contentType, headers });
      });

  const readCase = (route: Route) =>
    fc.record({ segments: segmentsFor(route), query }).map(({ segments, query }) => described({ route, segments, query, headers: {} }));

  it('finds the write routes in the gateway’s router', () => {
    const writes = routes.filter(isWrite).map((r) => `${r.method} ${r.path}`);
    for (const expected of ['POST /v1/executions', 'POST /v1/executions/batch', 'PATCH /v1/schedules/:id', 'PUT /v1/queues/:name/concurrency']) {
      assert.ok(writes.includes(expected), `${expected} among ${writes.join(', ')}`);
    }
  });

  // Reads first: writes may delete the executions and schedules the paths name.
  describe('every read route answers hostile paths and queries with 2xx or a contract 4xx', () => {
    it('each read route', async (t) => {
      for (const route of routes.filter((r) => r.method === 'GET')) {
        const label = `GET ${route.path}`;
        await t.test(label, () =>
          check(label, readCase(route), runs(120), async (c) => {
            const { status, text } = await send(stack.gatewayUrl, c);
            assertContractAnswer(c, status, text, known, stack.gateways[0]);
          }),
        );
      }
    });
  });

  describe('every write route answers 2xx or a contract 4xx, never 5xx, never hangs', () => {
    it('each write route', async (t) => {
      for (const route of routes.filter(isWrite)) {
        const label = `${route.method} ${route.path}`;
        await t.test(label, () =>
          check(label, writeCase(route), runs(route.path.includes(':') ? 90 : 150), async (c) => {
            const { status, text } = await send(stack.gatewayUrl, c);
            assertContractAnswer(c, status, text, known, stack.gateways[0]);
          }),
        );
      }
    });
  });

  describe('the monitor acks every subscribe and unsubscribe, never with an exception', () => {
    let socket: Socket;
    const connect = async () => {
      socket = io(stack.monitorUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    };
    after(() => socket?.close());

    /** A subscription's fields, the hole filled with something hostile. */
    const requestTemplates: ((hole: string) => string)[] = [
      (h) => `{"execution":${h}}`,
      (h) => `{"schedule":${h}}`,
      (h) => `{"queue":${h}}`,
      (h) => `{"tenant":${h}}`,
      (h) => `{"execution":${quote(ids[0])},"since":${h}}`,
      (h) => `{"schedule":${quote(ids[2])},"since":${h}}`,
      (h) => `{"execution":${quote(ids[1])},"schedule":${quote(ids[2])},"queue":"demo","tenant":${h}}`,
    ];
    const payloadText = () =>
      fc
        .oneof(
          { arbitrary: fc.tuple(fc.constantFrom(...requestTemplates), fc.oneof(fc.constantFrom(...ids).map(quote), hostileNumberText, jsonTree)).map(([t, h]) => t(h)), weight: 4 },
          { arbitrary: fc.tuple(fc.constantFrom(...requestTemplates), hostileJson).map(([t, h]) => t(h)), weight: 2 },
          { arbitrary: hostileJson, weight: 2 },
        )
        // The monitor drops a socket whose message passes socket.io's 1 MB buffer: a transport limit, not this property.
        .filter((text) => text.length < 500_000 && inspectJson(text).depth < 3_000);

    /** The arguments of the emit: one payload, none, or several. */
    const socketCase = () =>
      fc.record({
        event: fc.constantFrom('subscribe', 'unsubscribe'),
        args: fc.oneof({ arbitrary: payloadText().map((text): string[] => [text]), weight: 8 }, fc.constant<string[]>([]), fc.array(payloadText(), { minLength: 2, maxLength: 3 })),
      });

    it('acks every request, refusing what the contract refuses', async () => {
      await connect();
      await check('socket', socketCase(), runs(600), async ({ event, args }) => {
        if (!socket.connected) await connect();
        const refuse = args.length === 0 ? ['no payload'] : refusalsOf(args[0]);
        let onException: (error: unknown) => void = () => undefined;
        const exception = new Promise<never>((_, reject) => {
          onException = (error) =>
            reject(new Error(`an exception event instead of an ack: ${short(JSON.stringify(error))}; the monitor logged: ${lastLoggedError(stack.monitors[0])}`));
          socket.once('exception', onException);
        });
        try {
          const ack = await Promise.race([socket.timeout(ackTimeoutMs).emitWithAck(event, ...args.map((text) => JSON.parse(text))), exception]);
          assertAck(event, ack, refuse);
        } finally {
          socket.off('exception', onException);
        }
        assert.ok(socket.connected, 'the monitor dropped the socket');
      });
    });
  });

  // Keys and tags name Redis keys and index entries: two different ones must never become one.
  describe('idempotency keys and tags keep their identity', () => {
    const text = (unit: string[]) => fc.string({ unit: fc.constantFrom(...unit), minLength: 1, maxLength: 4 });
    const awkward = ['a', 'A', ' ', ',', ':', '*', '\u0000', '\u202e', '\ud800', '\udbff', '\udfff', '\ufffd'];

    it('never answers two different idempotency keys with one execution', async () => {
      const submit = (key: string) => stack.api.post('/v1/executions', { task: 'demo.noop', delayMs: 3_600_000, idempotencyKey: key });
      // Two keys one character apart: the nearest a key can come to another without being it.
      const pair = fc
        .tuple(text(awkward), fc.nat(), fc.constantFrom(...awkward))
        .map(([a, at, char]): [string, string] => [a, a.slice(0, at % a.length) + char + a.slice((at % a.length) + 1)])
        .filter(([a, b]) => a !== b);
      await check('idempotency keys', pair, runs(60), async ([a, b]) => {
        const [first, second] = [await submit(a), await submit(b)];
        if (first.status === 400 || second.status === 400) return;
        assert.notEqual(second.body.id, first.body.id, `keys ${quote(a)} and ${quote(b)} share an execution (${first.status}, ${second.status})`);
      });
    });

    it('finds an execution by each tag it was accepted with', async () => {
      await check('tags', text(awkward), runs(60), async (tag) => {
        const submitted = await stack.api.post('/v1/executions', { task: 'demo.noop', delayMs: 3_600_000, tags: [tag] });
        if (submitted.status === 400) return;
        const listed = await stack.api.get(`/v1/executions?tag=${encode(tag)}&limit=500`);
        assert.equal(listed.status, 200, short(JSON.stringify(listed.body)));
        assert.ok(listed.body.items.some((e: { id: string }) => e.id === submitted.body.id), `tag ${quote(tag)} was accepted but ?tag= does not find it`);
      });
    });
  });

  it('stays healthy: /health answers, the monitor subscribes, a valid execution completes', async () => {
    for (const service of [...stack.gateways, ...stack.workers, ...stack.monitors]) assert.ok(service.process.running, `${service.name} still running`);
    assert.deepEqual((await stack.api.get('/health')).body, { status: 'ok' });
    // Valid fuzz cases may have paused queues or capped their concurrency: undo that first.
    for (const { name } of (await stack.api.get('/v1/queues')).body.items) {
      await stack.api.post(`/v1/queues/${name}/resume`);
      await stack.api.request('PUT', `/v1/queues/${name}/concurrency`, { concurrency: null });
    }
    const watch = await submitAndWatch(client, 'demo.noop', { payload: 'after the fuzz' });
    assert.equal((await watch.done).status, 'completed');
    const watcher = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      const ack = await watcher.subscribe(watch.executionId, 0);
      assert.ok(ack.ok);
      assert.equal(ack.snapshot.status, 'completed');
    } finally {
      watcher.close();
    }
  });
});

/** What a subscribe or unsubscribe must refuse: not an object, nested too deep, reserved keys. */
function refusalsOf(text: string): string[] {
  const { depth, reservedKeys } = inspectJson(text);
  const reasons = reservedKeys.map((key) => `the reserved key ${key}`);
  if (isTooDeep(depth)) reasons.push(`JSON nested ${depth} deep`);
  if (!text.startsWith('{')) reasons.push('not an object');
  return reasons;
}

/** `{ ok: true, … }` or `{ ok: false, code, message }`; Redis is up, so never `redis_unavailable`. */
function assertAck(event: string, ack: unknown, refuse: string[]): void {
  const answer = `ack ${short(JSON.stringify(ack) ?? String(ack))}`;
  assert.ok(typeof ack === 'object' && ack !== null && typeof (ack as { ok?: unknown }).ok === 'boolean', answer);
  const { ok, code, message, snapshot } = ack as { ok: boolean; code?: unknown; message?: unknown; snapshot?: unknown };
  if (refuse.length) assert.equal(ok, false, `refusal expected (${refuse.join('; ')}): ${answer}`);
  if (ok) {
    if (event === 'subscribe') assert.ok(snapshot !== undefined, `a snapshot: ${answer}`);
    return;
  }
  assert.equal(typeof code, 'string', answer);
  assert.ok(typeof message === 'string' && message.length > 0, answer);
  assert.notEqual(code, 'redis_unavailable', `Redis is up: ${answer}`);
  assert.doesNotMatch(message as string, stackTrace, answer);
}
