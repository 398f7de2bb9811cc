// Many sockets on one monitor process: its memory per connected, subscribed socket, and whether
// progress still reaches every one of them — beside the minimal relay (./minimal-relay.ts) in the same
// run, each a process of its own on the same Redis.
//
// `sockets` socket.io clients (websocket transport, in `clientProcesses` processes of their own) each
// follow one of `streams` executions, as end users' pages do that watch the run they started: in
// Conveyor each handshakes with a browser token scoped to its execution (auth on, as off loopback) and
// subscribes with `{ execution: id }`; in the relay each joins the room of its stream. Memory: the
// server's RSS and used heap after a full GC (read over its inspector), subscribed minus idle (before
// the first connection), per socket. Progress: `progressRounds` events per stream, `eventsPerSecond`
// in all, each written the way a worker writes it (the relay's: PUBLISHed); every client must receive
// every event of its stream. Latency = receipt − the event's `ts`; deliveries/s = receipts / (last
// receipt − first send).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defaultTenant, demoSteps, eventEnvelope } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { hashKey, TokenSigner } from '@conveyor/identity';
import { startService, type ManagedProcess, type RedisServer } from '@conveyor/launcher';
import { createRedis } from '@conveyor/redis';
import { figure, paced, percentiles } from './common.js';
import { startMinimalRelay } from './minimal-relay.js';
import { inspectAnyPort, memoryAfterGc, type Memory } from './process-memory.js';
import { openClients, receiptsOf, type Subscription } from './socket-clients.js';

const sockets = 10_000;
const clientProcesses = 4;
const streams = 100;
const progressRounds = 10;
const eventsPerSecond = 100;
const prefix = 'conveyor-sockets';
const relayChannel = 'relay-sockets';

/** What one server showed: its memory idle and with every socket subscribed, then the progress's deliveries and latency. */
type Figures = ReturnType<typeof percentiles> & {
  idle: Memory;
  subscribed: Memory;
  /** Seconds to connect and subscribe every socket. */
  connectSeconds: number;
  received: number;
  /** The fewest progress events any one client received. */
  fewest: number;
  deliveriesPerSecond: number;
};

export async function monitorSockets(redis: RedisServer): Promise<void> {
  const publisher = createRedis({ url: redis.url, prefix }, 'worker');
  let plain: Figures;
  let ours: Figures;
  try {
    plain = await relayFigures(redis, publisher);
    ours = await conveyorFigures(redis, publisher);
  } finally {
    publisher.disconnect();
  }

  console.log(`\nmonitor sockets: ${sockets} socket.io clients (websocket), each following one of ${streams} executions (relay: rooms)`);
  console.log(`  memory per socket over idle, after a full GC: RSS, used heap; then ${progressRounds} progress events per stream, ${eventsPerSecond}/s in all`);
  console.log(`  minimal relay  ${line(plain)}`);
  console.log(`  Conveyor       ${line(ours)}`);
  for (const field of ['rss', 'heapUsed'] as const) {
    const [a, b] = [perSocket(ours, field), perSocket(plain, field)];
    figure(`monitor-sockets-${field === 'rss' ? 'rss' : 'heap'}`, a / b, 'minimal relay', `${kib(a)} KiB a socket`, `${kib(b)} KiB a socket`);
  }
  figure('monitor-sockets-deliveries', ours.deliveriesPerSecond / plain.deliveriesPerSecond, 'minimal relay', `${ours.deliveriesPerSecond.toFixed(0)}/s, p99 ${ours.p99} ms`, `${plain.deliveriesPerSecond.toFixed(0)}/s, p99 ${plain.p99} ms`);
}

/** Rooms `stream-<i>`; progress PUBLISHed as the envelope's JSON, the room as its `executionId`. */
async function relayFigures(redis: RedisServer, publisher: Redis): Promise<Figures> {
  const relay = await startMinimalRelay(redis.url, relayChannel, inspectAnyPort);
  try {
    const rooms = Array.from({ length: streams }, (_, i) => `stream-${i}`);
    return await measure(relay.process, relay.url, rooms.map((room) => ({ request: { room } })), (n) => {
      const step = stepOf(n);
      const event = eventEnvelope({ type: 'execution.progress', executionId: rooms[n % streams], queue: demoSteps.queue, task: demoSteps.name, tenant: defaultTenant, data: progressAt(step) }, step + 1);
      return publisher.publish(relayChannel, JSON.stringify(event));
    });
  } finally {
    await relay.process.stop();
  }
}

/** Auth on (a tenant key), `demo.steps` executions left queued (no worker), progress written as a worker writes it. */
async function conveyorFigures(redis: RedisServer, publisher: Redis): Promise<Figures> {
  const tenantKey = randomBytes(24).toString('hex');
  const secret = randomBytes(32).toString('hex');
  const env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, LOG_LEVEL: 'warn', MONITOR_PORT: '0', CONVEYOR_API_KEYS: `${defaultTenant}:${tenantKey}`, CONVEYOR_TOKEN_SECRET: secret };
  const monitor = await startService('monitor', { ...env, ...inspectAnyPort });
  const { submitter, store, queues } = createExecutionsCore(publisher, prefix);
  try {
    const input = { steps: progressRounds, stepMs: 1000 };
    const executions = await Promise.all(Array.from({ length: streams }, () => submitter.submit({ task: demoSteps, input, options: {} }, defaultTenant)));
    const subscriptions = await tokensFor(executions.map((execution) => execution.id), tenantKey, secret);
    return await measure(monitor.process, monitor.url!, subscriptions, (n) => {
      const progress = progressAt(stepOf(n));
      // As the worker writes progress: a numbered event in the execution's log, published, its `ts` stamped now.
      return store.append({ ...executions[n % streams], scheduleId: null }, 'execution.progress', progress, { progress });
    });
  } finally {
    await monitor.process.stop();
    await queues.close();
  }
}

/** Event n goes to stream n % streams: each stream gets its step 1, then its step 2, … */
const stepOf = (n: number) => Math.floor(n / streams) + 1;

const progressAt = (step: number) => ({ percent: (step / progressRounds) * 100, step, message: `step ${step} of ${progressRounds}` });

/** Idle memory, then the clients connected and subscribed, their memory, then the progress; the clients are closed after. */
async function measure(server: ManagedProcess, url: string, subscriptions: Subscription[], send: (n: number) => Promise<unknown>): Promise<Figures> {
  const idle = await memoryAfterGc(server);
  const connecting = performance.now();
  const clients = await openClients(url, sockets, clientProcesses, subscriptions);
  try {
    const connectSeconds = (performance.now() - connecting) / 1000;
    const subscribed = await memoryAfterGc(server);
    const firstSent = Date.now();
    await paced(streams * progressRounds, eventsPerSecond, send);
    const expected = sockets * progressRounds;
    let receipts = await receiptsOf(clients);
    for (const until = Date.now() + 60_000; receipts.received < expected && Date.now() < until; receipts = await receiptsOf(clients)) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (receipts.fewest < progressRounds) throw new Error(`a client received ${receipts.fewest} of ${progressRounds} progress events (${receipts.received} of ${expected} in all)`);
    return {
      idle,
      subscribed,
      connectSeconds,
      received: receipts.received,
      fewest: receipts.fewest,
      deliveriesPerSecond: receipts.received / ((receipts.lastAt - firstSent) / 1000),
      ...percentiles(receipts.latencies),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** One browser token per execution, scoped to it and made from the tenant's key, as a backend hands them out. */
async function tokensFor(ids: string[], tenantKey: string, secret: string): Promise<Subscription[]> {
  const signer = new TokenSigner(secret);
  // The id the monitor gives a key set in its environment (see `Authenticator`).
  const keyId = `env_${hashKey(tenantKey).slice(0, 24)}`;
  return Promise.all(
    ids.map(async (id) => {
      const { token } = await signer.sign('browser', { keyId, tenant: defaultTenant, scope: { executions: [id] } }, 3600);
      return { request: { execution: id }, token };
    }),
  );
}

const perSocket = (figures: Figures, field: keyof Memory) => (figures.subscribed[field] - figures.idle[field]) / sockets;
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

function line(f: Figures): string {
  return (
    `RSS ${mib(f.idle.rss)} → ${mib(f.subscribed.rss)} MiB (${kib(perSocket(f, 'rss'))} KiB/socket), heap ${mib(f.idle.heapUsed)} → ${mib(f.subscribed.heapUsed)} MiB ` +
    `(${kib(perSocket(f, 'heapUsed'))} KiB/socket); connected in ${f.connectSeconds.toFixed(1)} s; ${f.received} deliveries (each client ≥ ${f.fewest}), ` +
    `${f.deliveriesPerSecond.toFixed(0)}/s, p50 ${f.p50} ms, p99 ${f.p99} ms`
  );
}
