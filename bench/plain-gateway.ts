// The plain submit server Conveyor's gateway is measured against: node:http, JSON.parse, and BullMQ
// `add` (`POST /add`) or `addBulk` (`POST /batch`, `{ executions: [{ task, input }] }`), with a
// `GET /health`. No validation, no records, no events — but for the floor's server, whose jobs come
// with the least record and event log (./event-log-floor.ts). It runs as a process of its own, as the
// gateway does.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { startBaseline, type BaselineServer } from './common.js';
import { baseline, type BaselineKind } from './event-log-floor.js';
import { createRedis } from '@conveyor/redis';

const entry = fileURLToPath(import.meta.url);

/** Starts the plain server (or the floor's) as a child process on queue `queue`, and resolves once it listens. */
export function startPlainGateway(redisUrl: string, queue: string, kind: BaselineKind = 'plain'): Promise<BaselineServer> {
  return startBaseline(`${kind} gateway`, entry, { REDIS_URL: redisUrl, PLAIN_QUEUE: queue, PLAIN_BASELINE: kind });
}

async function serve(redisUrl: string, name: string, kind: BaselineKind): Promise<void> {
  const connection = createRedis({ url: redisUrl, prefix: name }, 'request');
  const queue = new Queue(name, { connection, prefix: name });
  const jobs = baseline(kind, connection);
  await queue.waitUntilReady();
  const http = createServer((request, response) => {
    const answer = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.method === 'GET' && request.url === '/health') return answer(200, { status: 'ok' });
    readJson(request)
      .then(async (body) => {
        if (request.url === '/add') return answer(202, { id: await jobs.add(queue, String(body.task), body.input) });
        const ids = await jobs.addBulk(queue, (body.executions as { task: string; input: unknown }[]).map((e) => ({ name: e.task, data: e.input })));
        answer(202, { items: ids.map((id) => ({ id })) });
      })
      .catch((error: Error) => answer(400, { message: error.message }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  console.log(JSON.stringify({ msg: 'ready', url: `http://127.0.0.1:${port}` }));
  process.once('SIGTERM', () => {
    http.close();
    jobs.close();
    void queue.close();
  });
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

if (process.argv[1] === entry) await serve(process.env.REDIS_URL!, process.env.PLAIN_QUEUE!, process.env.PLAIN_BASELINE as BaselineKind);
