// Small helpers shared by the benchmarks: percentiles, pacing, many socket.io clients at once, and
// queues filled and drained.
import type { Queue } from 'bullmq';
import { io, type Socket } from 'socket.io-client';
import { demoNoop, type TaskInput } from '@conveyor/contracts';
import type { ExecutionSubmitter } from '@conveyor/executions';
import { spawnManaged, type ManagedProcess } from '@conveyor/launcher';
import { poll } from '@conveyor/testing';
import type { BaselineKind } from './event-log-floor.js';

/** Submits `total` demo.noop executions with `input` through the submitter, 100 at a time. */
export async function submitNoops(submitter: ExecutionSubmitter, total: number, input: TaskInput<typeof demoNoop>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next++ < total) await submitter.submit({ task: demoNoop, input, options: {} }, 'default');
    }),
  );
}

/** Resolves once the queue has completed `total` jobs, looking every `intervalMs`. */
export async function untilCompleted(queue: Queue, total: number, intervalMs = 20): Promise<void> {
  await poll(() => queue.getCompletedCount(), { until: (n) => n >= total, label: `${total} completed`, timeoutMs: 600_000, intervalMs });
}

/** Resumes the paused queue, then waits for `total` completed jobs. */
export async function resumeUntilCompleted(queue: Queue, total: number, intervalMs?: number): Promise<void> {
  await queue.resume();
  await untilCompleted(queue, total, intervalMs);
}

/** p50 and p99 of the samples (nearest rank). */
export function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Calls `send(i)` for i in [0, total) at `perSecond`, each at its own due time (at once when behind); then waits for all. */
export async function paced(total: number, perSecond: number, send: (i: number) => Promise<unknown>): Promise<void> {
  const sent: Promise<unknown>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const ahead = started + (i * 1000) / perSecond - performance.now();
    if (ahead >= 1) await sleep(ahead);
    sent.push(send(i));
  }
  await Promise.all(sent);
}

/** How many clients connect at the same time. */
const connectBatch = 100;

/**
 * Runs `use` with `count` socket.io clients of `url` (each its own websocket connection), client i
 * subscribed with `requestOf(i)` and acknowledged `ok`; closes them all afterwards, whatever happens.
 */
export async function withClients<T>(url: string, count: number, requestOf: (i: number) => object, use: (clients: Socket[]) => Promise<T>): Promise<T> {
  const clients: Socket[] = [];
  try {
    for (let i = 0; i < count; i += connectBatch) {
      const batch = Array.from({ length: Math.min(connectBatch, count - i) }, () => io(url, { transports: ['websocket'], forceNew: true, reconnection: false }));
      clients.push(...batch);
      await Promise.all(batch.map(connected));
    }
    await Promise.all(clients.map((client, i) => subscribe(client, requestOf(i))));
    return await use(clients);
  } finally {
    for (const client of clients) client.disconnect();
  }
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
}

async function subscribe(client: Socket, request: object): Promise<void> {
  const ack = (await client.timeout(30_000).emitWithAck('subscribe', request)) as { ok: boolean; message?: string };
  if (!ack.ok) throw new Error(`subscribe ${JSON.stringify(request)} refused: ${ack.message}`);
}

/** Resolves once `received()` reaches `expected`; fails after `timeoutMs` saying how many came. */
export async function untilReceived(received: () => number, expected: number, label: string, timeoutMs = 60_000): Promise<void> {
  await poll(async () => received(), { until: (n) => n >= expected, label: `${expected} ${label}`, timeoutMs, intervalMs: 20 });
}

/** A baseline server of a benchmark, running as a process of its own. */
export interface BaselineServer {
  url: string;
  process: ManagedProcess;
}

/** Runs the module at `entry` as a process and resolves once it logs `ready` with its URL. */
export async function startBaseline(label: string, entry: string, env: Record<string, string>): Promise<BaselineServer> {
  const server = spawnManaged(label, process.execPath, [entry], { env: { ...process.env, ...env } });
  const ready = await server.waitForLine((line) => line.includes('"msg":"ready"'), 10_000);
  return { url: (JSON.parse(ready) as { url: string }).url, process: server };
}

/** The rate of two runs of the same work, taken together. */
export function meanRate(a: number, b: number): number {
  return 2 / (1 / a + 1 / b);
}

/**
 * Measures each baseline twice, plain, floor, fork, then fork, floor, plain, so that the machine's drift
 * over the run weighs on all alike (`run` is 1 or 2); returns each one's two runs combined.
 */
export async function alternated<T>(measure: (kind: BaselineKind, run: number) => Promise<T>, combine: (a: T, b: T) => T): Promise<Record<BaselineKind, T>> {
  const kinds: BaselineKind[] = ['plain', 'floor', 'fork'];
  const first: T[] = [];
  for (const kind of kinds) first.push(await measure(kind, 1));
  const second: T[] = [];
  for (const kind of [...kinds].reverse()) second.unshift(await measure(kind, 2));
  return Object.fromEntries(kinds.map((kind, i) => [kind, combine(first[i], second[i])])) as Record<BaselineKind, T>;
}

/** The one summary line of a figure: `<name>: <ratio>x <baseline> (<ours> vs <theirs>)`. */
export function figure(name: string, ratio: number, baseline: string, ours: string, theirs: string): void {
  console.log(`${name}: ${ratio.toFixed(2)}x ${baseline} (${ours} vs ${theirs})`);
}
