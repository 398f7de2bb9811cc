// Many socket.io clients in a process of their own, for the benchmarks that need more sockets than one
// process holds comfortably: each opens its share (websocket transport), subscribes every client, and
// counts and times the progress events each receives. The parent drives it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';

const entry = fileURLToPath(import.meta.url);

/** What client `i` sends as its `subscribe`, and the token of its handshake (if any). */
export interface Subscription {
  request: object;
  token?: string;
}

/** Client `first + j` (j < count) takes `subscriptions[(first + j) % subscriptions.length]`. */
export interface ClientShare {
  url: string;
  first: number;
  count: number;
  subscriptions: Subscription[];
}

export interface Receipts {
  /** Progress events received, in all. */
  received: number;
  /** The fewest and the most any one client received. */
  fewest: number;
  most: number;
  /** Receipt − the event's `ts`, ms, one per receipt. */
  latencies: number[];
  /** `Date.now()` of the last receipt (0 without any). */
  lastAt: number;
}

type Request = { kind: 'report' } | { kind: 'close' };
type Answer = { kind: 'ready' } | { kind: 'failed'; message: string } | { kind: 'report'; receipts: Receipts };

/** A process of clients: `ready` resolves once all its clients are connected and subscribed. */
export class ClientProcess {
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  /** Who waits for the next answers, in order. */
  private readonly waiting: { resolve: (answer: Answer) => void; reject: (error: Error) => void }[] = [];

  constructor(share: ClientShare) {
    this.child = fork(entry, [], { env: { ...process.env, CLIENT_SHARE: JSON.stringify(share) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (answer: Answer) => this.waiting.shift()?.resolve(answer));
    this.child.once('exit', (code) => this.waiting.splice(0).forEach(({ reject }) => reject(new Error(`client process exited with code ${code}`))));
    this.ready = this.next().then((answer) => {
      if (answer.kind !== 'ready') throw new Error(`clients ${share.first}–${share.first + share.count - 1}: ${answer.kind === 'failed' ? answer.message : answer.kind}`);
    });
  }

  async report(): Promise<Receipts> {
    const answer = this.next();
    this.send({ kind: 'report' });
    const got = await answer;
    if (got.kind !== 'report') throw new Error(`clients answered ${got.kind} to a report`);
    return got.receipts;
  }

  /** Disconnects the clients and waits for the process to end. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ kind: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private next(): Promise<Answer> {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private send(request: Request): void {
    this.child.send(request);
  }
}

/** Starts `processes` client processes sharing `count` clients; resolves once every client is subscribed. */
export async function openClients(url: string, count: number, processes: number, subscriptions: Subscription[]): Promise<ClientProcess[]> {
  const per = Math.ceil(count / processes);
  const started = Array.from({ length: processes }, (_, p) => new ClientProcess({ url, first: p * per, count: Math.min(per, count - p * per), subscriptions }));
  try {
    await Promise.all(started.map((clients) => clients.ready));
    return started;
  } catch (error) {
    await Promise.all(started.map((clients) => clients.close()));
    throw error;
  }
}

/** The receipts of every process, merged. */
export async function receiptsOf(processes: ClientProcess[]): Promise<Receipts> {
  const all = await Promise.all(processes.map((clients) => clients.report()));
  return {
    received: all.reduce((sum, r) => sum + r.received, 0),
    fewest: Math.min(...all.map((r) => r.fewest)),
    most: Math.max(...all.map((r) => r.most)),
    latencies: all.flatMap((r) => r.latencies),
    lastAt: Math.max(...all.map((r) => r.lastAt)),
  };
}

/** How many clients of a process connect and subscribe at the same time. */
const connectBatch = 50;

async function runClients(share: ClientShare): Promise<void> {
  const clients: Socket[] = [];
  const counts: number[] = [];
  const latencies: number[] = [];
  let lastAt = 0;
  const answer = (message: Answer) => process.send!(message);
  process.on('message', (request: Request) => {
    if (request.kind === 'report') {
      answer({ kind: 'report', receipts: { received: latencies.length, fewest: Math.min(...counts), most: Math.max(...counts), latencies, lastAt } });
    } else {
      for (const client of clients) client.disconnect();
      process.disconnect();
    }
  });
  try {
    for (let j = 0; j < share.count; j += connectBatch) {
      const batch = Array.from({ length: Math.min(connectBatch, share.count - j) }, (_, k) => j + k);
      await Promise.all(
        batch.map(async (index) => {
          const { request, token } = share.subscriptions[(share.first + index) % share.subscriptions.length];
          const client = io(share.url, { transports: ['websocket'], forceNew: true, reconnection: false, ...(token && { auth: { token } }) });
          clients.push(client);
          counts[index] = 0;
          client.on('execution.progress', (event: { ts: string }) => {
            lastAt = Date.now();
            latencies.push(lastAt - Date.parse(event.ts));
            counts[index]++;
          });
          await new Promise<void>((resolve, reject) => {
            client.once('connect', resolve);
            client.once('connect_error', reject);
          });
          const ack = (await client.timeout(60_000).emitWithAck('subscribe', request)) as { ok: boolean; message?: string };
          if (!ack.ok) throw new Error(`subscribe ${JSON.stringify(request)} refused: ${ack.message}`);
        }),
      );
    }
    answer({ kind: 'ready' });
  } catch (error) {
    answer({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}

if (process.argv[1] === entry) await runClients(JSON.parse(process.env.CLIENT_SHARE!) as ClientShare);
