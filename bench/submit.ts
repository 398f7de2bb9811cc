// Single submissions: `POST /v1/executions` of demo.noop with a small input from 50 connections at once
// (HTTP, validation, record, first event and job before the `202`) beside the plain node:http + BullMQ
// `add` server (./plain-gateway.ts) answering the same requests, on the same Redis.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { startService, type RedisServer } from '@conveyor/launcher';
import { alternated, figure, percentiles } from './common.js';
import type { BaselineKind } from './event-log-floor.js';
import { metricsCallCost } from './metrics-calls.js';
import { startPlainGateway } from './plain-gateway.js';

const connections = 50;
const warmup = 2_000;
/** Requests timed per load, after the warm-up. */
export const loadRequests = 20_000;
const total = loadRequests;
const body = JSON.stringify({ task: 'demo.noop', input: { payload: { text: 'x'.repeat(64) } } });

export async function submit(redis: RedisServer): Promise<void> {
  const { plain, floor, fork } = await alternated((kind, run) => loadBaseline(redis, kind, `${kind}-submit-${run}`), both);
  const conveyor = await loadGateway(redis, 'conveyor-submit', { LOG_LEVEL: 'warn' });
  // Metrics on, off, off, on: the machine's drift over the run weighs on both sides alike.
  const off = { LOG_LEVEL: 'warn', CONVEYOR_METRICS: 'false' };
  const unmetered = both(await loadGateway(redis, 'conveyor-submit-unmetered', off), await loadGateway(redis, 'conveyor-submit-unmetered-2', off));
  const metered = both(conveyor, await loadGateway(redis, 'conveyor-submit-2', { LOG_LEVEL: 'warn' }));
  const logged = await loadGateway(redis, 'conveyor-submit-logged', { LOG_LEVEL: 'info' });
  const withKeys = await loadWithManagedKey(redis);
  console.log(`\nsingle submissions: ${total} demo.noop from ${connections} connections, same Redis`);
  console.log(`  plain node:http + add (2 runs) ${line(plain)}`);
  console.log(`  … + the least event log      ${line(floor)}   (${(floor.perSecond / plain.perSecond).toFixed(2)} × plain: the floor with separate event scripts)`);
  console.log(`  … + it in BullMQ's scripts   ${line(fork)}   (${(fork.perSecond / plain.perSecond).toFixed(2)} × plain: the floor of a fork of BullMQ's scripts)`);
  console.log(`  POST /v1/executions          ${line(conveyor)}   (${(conveyor.perSecond / plain.perSecond).toFixed(2)} × plain)`);
  console.log(`  … with a managed API key     ${line(withKeys)}   (${(withKeys.perSecond / plain.perSecond).toFixed(2)} × plain; auth costs ${costOf(conveyor, withKeys)} per submit)`);
  console.log(`  … with request logs (info)   ${line(logged)}   (${(logged.perSecond / plain.perSecond).toFixed(2)} × plain; a request's log line costs ${costOf(conveyor, logged)})`);
  console.log(`  … metrics on (2 runs)        ${line(metered)}   (${(metered.perSecond / plain.perSecond).toFixed(2)} × plain)`);
  console.log(`  … metrics off (2 runs)       ${line(unmetered)}   (${(unmetered.perSecond / plain.perSecond).toFixed(2)} × plain; metrics cost ${costOf(unmetered, metered)} per submit)`);
  console.log(`  … the metrics calls of a submit, timed alone: ${metricsCallCost().perSubmit.toFixed(2)} µs`);
  figure('single-submit', conveyor.perSecond / plain.perSecond, 'node:http + add', rate(conveyor), rate(plain));
  figure('single-submit-p99', conveyor.p99 / plain.p99, 'node:http + add', `p99 ${conveyor.p99.toFixed(0)} ms`, `p99 ${plain.p99.toFixed(0)} ms`);
  figure('single-submit-floor', floor.perSecond / plain.perSecond, 'node:http + add', rate(floor), rate(plain));
  figure('single-submit-fork', fork.perSecond / plain.perSecond, 'node:http + add', rate(fork), rate(plain));
  figure('single-submit-auth', withKeys.perSecond / plain.perSecond, 'node:http + add', rate(withKeys), rate(plain));
  figure('single-submit-logged', logged.perSecond / plain.perSecond, 'node:http + add', rate(logged), rate(plain));
  figure('single-submit-unmetered', unmetered.perSecond / plain.perSecond, 'node:http + add', rate(unmetered), rate(plain));
}

/** The load against a plain server (or a floor's) of its own, on its own queue. */
async function loadBaseline(redis: RedisServer, kind: BaselineKind, queue: string): Promise<Loaded> {
  const server = await startPlainGateway(redis.url, queue, kind);
  return load(server.url, '/add').finally(() => server.process.stop());
}

/** The load against a gateway of its own, started with `env` (its log level and metrics switch among them). */
async function loadGateway(redis: RedisServer, prefix: string, env: Record<string, string>): Promise<Loaded> {
  const gateway = await startService('gateway', { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, GATEWAY_PORT: '0', ...env });
  return load(gateway.url!, '/v1/executions').finally(() => gateway.process.stop());
}

/** The same load with auth on, each request carrying a key made through the API (looked up in Redis at most twice a second). */
async function loadWithManagedKey(redis: RedisServer): Promise<Loaded> {
  const admin = randomBytes(24).toString('hex');
  const env = { CONVEYOR_ADMIN_KEY: admin, CONVEYOR_TOKEN_SECRET: randomBytes(32).toString('hex') };
  const gateway = await startService('gateway', { REDIS_URL: redis.url, CONVEYOR_PREFIX: 'conveyor-submit-auth', GATEWAY_PORT: '0', LOG_LEVEL: 'warn', ...env });
  try {
    const made = await fetch(new URL('/v1/api-keys', gateway.url!), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'bench', name: 'bench', role: 'tenant' }),
    });
    const { key } = (await made.json()) as { key: string };
    return await load(gateway.url!, '/v1/executions', { authorization: `Bearer ${key}` });
  } finally {
    await gateway.process.stop();
  }
}

/** Two runs as one: their rate over both, and their mean percentiles. */
function both(a: Loaded, b: Loaded): Loaded {
  return { perSecond: 2 / (1 / a.perSecond + 1 / b.perSecond), p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2 };
}

/** Microseconds of gateway time per request that `slower` spends beyond `faster`, from their rates. */
function costOf(faster: Loaded, slower: Loaded): string {
  return `≈ ${Math.round((1 / slower.perSecond - 1 / faster.perSecond) * 1e6)} µs`;
}

interface Loaded {
  perSecond: number;
  p50: number;
  p99: number;
}

function rate({ perSecond }: Loaded): string {
  return `${perSecond.toFixed(0)} req/s`;
}

function line({ perSecond, p50, p99 }: Loaded): string {
  return `${perSecond.toFixed(0).padStart(7)} req/s   p50 ${p50.toFixed(1).padStart(5)} ms   p99 ${p99.toFixed(1).padStart(5)} ms`;
}

/** Sends `warmup` then `total` submissions over `connections` kept-alive connections, each waiting for its reply; `around` runs the timed part. */
export async function load(url: string, path: string, headers: Record<string, string> = {}, around: (timed: () => Promise<unknown>) => Promise<unknown> = (timed) => timed()): Promise<Loaded> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const send = (count: number, latencies: number[]) => {
    let left = count;
    return Promise.all(
      Array.from({ length: connections }, async () => {
        while (left-- > 0) {
          const started = performance.now();
          await post(agent, new URL(path, url), headers);
          latencies.push(performance.now() - started);
        }
      }),
    );
  };
  await send(warmup, []);
  const latencies: number[] = [];
  const started = performance.now();
  await around(() => send(total, latencies));
  const perSecond = total / ((performance.now() - started) / 1000);
  agent.destroy();
  return { perSecond, ...percentiles(latencies) };
}

function post(agent: Agent, url: URL, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (response) => {
      response.resume();
      response.once('end', () => (response.statusCode === 202 ? resolve() : reject(new Error(`${url.pathname} answered ${response.statusCode}`))));
    });
    sent.once('error', reject);
    sent.end(body);
  });
}
