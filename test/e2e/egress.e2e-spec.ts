import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import type { HttpRequestInput, HttpRequestOutput } from '@conveyor/contracts';
import type { ServiceProcess } from '@conveyor/launcher';
import { Stack, submitAndWatch } from '@conveyor/testing';

describe('egress guard of http.request', () => {
  const hugeBytes = 50 * 1024 * 1024;
  const keptBytes = 64 * 1024;
  const secrets = { authorization: 'Bearer tok-4f1c9e', cookie: 'sid=ck-77a0b2', proxy: 'Basic px-19d3e5', setCookie: 'sc-b81f06', password: 'pw-5e0a11' };
  /** The headers of every request the receiver got, in order. */
  const received: IncomingHttpHeaders[] = [];
  /** How each huge response ended: the bytes the receiver handed to its socket, and whether all were sent. */
  const hugeEnds: Promise<{ sent: number; complete: boolean }>[] = [];
  let receiver: Server;
  let port: number;
  let stack: Stack;
  let client: ConveyorClient;
  let worker: ServiceProcess;

  /** Streams `hugeBytes` as fast as the connection takes them, no faster. */
  const streamHuge = (response: ServerResponse) => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    hugeEnds.push(new Promise((resolve) => response.socket!.once('close', () => resolve({ sent, complete: response.writableFinished }))));
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(hugeBytes) });
    const pump = () => {
      while (sent < hugeBytes) {
        sent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    pump();
  };

  before(async () => {
    receiver = createServer((request, response) => {
      received.push(request.headers);
      if (request.url === '/huge') return streamHuge(response);
      response
        .writeHead(200, { 'content-type': 'application/json', 'set-cookie': [`session=${secrets.setCookie}; HttpOnly`, 'theme=dark'] })
        .end(JSON.stringify({ path: request.url }));
    });
    receiver.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
    // An allowed name that resolves to loopback: only an address entry may open it.
    stack = await Stack.start({ workers: 0, env: { HTTP_TASK_ALLOWED_HOSTS: `localhost:${port}` } });
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
  });

  const url = (path: string) => `http://localhost:${port}${path}`;
  /** Runs a request (three attempts allowed, quick retries) and returns its watch and the ended execution. */
  const run = async (input: HttpRequestInput) => {
    const watch = await submitAndWatch(client, 'http.request', input, { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } });
    return { watch, execution: await watch.done };
  };
  /** Everything the execution left behind but its input: the record, the stored and live events, its log, and the worker's output. */
  const traces = async (id: string, liveEvents: unknown[]) => {
    const { input: _input, ...record } = await client.get(id);
    return JSON.stringify([record, (await client.events(id)).items, liveEvents, (await client.logs(id)).items, worker.process.lines]);
  };

  it('refuses a loopback address behind an allowed host name, for good, without calling it', async () => {
    worker = await stack.startWorker({ WORKER_QUEUES: 'http' });
    const { execution } = await run({ url: url('/private') });
    assert.equal(execution.status, 'failed');
    assert.equal(execution.error?.code, 'address_not_allowed');
    assert.equal(execution.error?.retryable, false);
    // The tenant reads the rule, the operator's log the addresses.
    assert.equal(execution.error!.message, `Refused by the egress policy: localhost resolves only to addresses that are not public`);
    assert.ok(worker.process.lines.some((line) => line.includes('127.0.0.1 (loopback)')));
    assert.deepEqual(execution.attempts, { made: 1, max: 3 });
    assert.equal(received.length, 0, 'the receiver was never called');
    assert.equal(await worker.process.stop('SIGTERM'), 0);
  });

  it('calls it once EGRESS_ALLOW_PRIVATE lists its address (here a CIDR with the port)', async () => {
    worker = await stack.startWorker({ WORKER_QUEUES: 'http', EGRESS_ALLOW_PRIVATE: `127.0.0.0/8:${port}` });
    const { execution } = await run({ url: url('/private') });
    assert.equal(execution.status, 'completed');
    const result = execution.result as HttpRequestOutput;
    assert.deepEqual([result.status, result.body, result.truncated], [200, { path: '/private' }, false]);
    assert.equal(received.at(-1)?.host, `localhost:${port}`, 'the Host header keeps the name');
  });

  it('cuts a response far larger than the limit, closing the connection instead of reading the rest', async () => {
    const { execution } = await run({ url: url('/huge') });
    assert.equal(execution.status, 'completed');
    const result = execution.result as HttpRequestOutput;
    assert.equal(result.truncated, true);
    assert.equal(result.body, 'x'.repeat(keptBytes));
    const end = await hugeEnds.at(-1)!;
    assert.equal(end.complete, false, 'the receiver could not send it all');
    // What the two kernels' socket buffers take in is all that goes beyond the kept bytes.
    assert.ok(end.sent < hugeBytes / 5, `the receiver sent ${end.sent} of ${hugeBytes} bytes before the connection closed`);
  });

  it('keeps credentials out of the result, the events and the logs', async () => {
    const headers = { authorization: secrets.authorization, cookie: secrets.cookie, 'proxy-authorization': secrets.proxy };
    const { watch, execution } = await run({ url: url('/secret'), headers });
    assert.equal(execution.status, 'completed');
    assert.equal(received.at(-1)?.authorization, secrets.authorization, 'the credentials were sent');
    const result = execution.result as HttpRequestOutput;
    assert.equal(result.headers['set-cookie'], '[redacted]');
    assert.equal(result.headers['content-type'], 'application/json');
    const kept = await traces(execution.id, watch.events);
    for (const secret of Object.values(secrets)) assert.ok(!kept.includes(secret), `${secret} is kept somewhere`);
  });

  // Thunks: the receiver's port is known only once it listens.
  const refusals: [what: string, input: () => HttpRequestInput, code: string][] = [
    ['a header value that cannot be sent', () => ({ url: url('/bad'), headers: { authorization: `${secrets.authorization}\r\nX-Injected: 1` } }), 'invalid_header'],
    ['a Host header of its own', () => ({ url: url('/bad'), headers: { Host: 'internal.example' } }), 'invalid_header'],
    ['credentials in the URL', () => ({ url: `http://user:${secrets.password}@localhost:${port}/bad` }), 'url_credentials'],
    ['a port the host entry does not allow', () => ({ url: `http://localhost:${port + 1}/bad` }), 'port_not_allowed'],
  ];
  for (const [what, input, code] of refusals) {
    it(`fails ${what} at once (${code}), quoting no secret`, async () => {
      const calls = received.length;
      const { watch, execution } = await run(input());
      assert.equal(execution.status, 'failed');
      assert.equal(execution.error?.code, code);
      assert.deepEqual(execution.attempts, { made: 1, max: 3 });
      assert.equal(received.length, calls, 'nothing was sent');
      const kept = await traces(execution.id, watch.events);
      for (const secret of Object.values(secrets)) assert.ok(!kept.includes(secret), `${secret} is kept somewhere`);
    });
  }
});
