// Monitor fan-out, through Conveyor's monitor and through the minimal relay (./minimal-relay.ts: Redis
// PUBLISH → socket.io room emit), both processes of their own on the same Redis.
//
// Latency: `latencyClients` socket.io clients, each following one of `streams` progress streams that
// together send `eventsPerSecond` progress events. In Conveyor a stream is a demo.steps execution whose
// handler calls ctx.progress() once per step; a step lasts the worker's coalescing window, so no call is
// merged with another, and the executions start spread over one window (every event is still counted:
// the figure says how many came per second). In the relay a stream is a room, and a publisher PUBLISHes
// the same envelopes at the same rate. Latency = receipt − the event's `ts`, which the worker stamps as it
// writes the progress (the publisher, as it PUBLISHes). Every client receiving every event would be
// latencyClients × eventsPerSecond deliveries a second: the throughput below says what a machine carries.
//
// Throughput: `floodClients` clients in one room (Conveyor: the queue's room), `floodEvents` progress
// envelopes PUBLISHed at once onto the channel the monitor (or the relay) listens to, no worker involved;
// deliveries/s = receipts / (last receipt − first PUBLISH).
import type { Redis } from 'ioredis';
import { defaultTenant, demoSteps, encodePublished, eventEnvelope, type ConveyorEvent } from '@conveyor/contracts';
import { createExecutionsCore } from '@conveyor/executions';
import { startService, type RedisServer } from '@conveyor/launcher';
import { createRedis, RedisKeys } from '@conveyor/redis';
import { progressIntervalMs } from '../services/worker/src/runtime/execution-events.js';
import { figure, paced, percentiles, untilReceived, withClients } from './common.js';
import { startMinimalRelay } from './minimal-relay.js';

const latencyClients = 200;
const eventsPerSecond = 1000;
const latencySeconds = 10;
const floodClients = 1000;
const floodEvents = 200;

/** Streams (executions, relay rooms) each sending one progress event per coalescing window. */
const streams = (eventsPerSecond * progressIntervalMs) / 1000;
const stepsPerStream = (latencySeconds * 1000) / progressIntervalMs;
/** Time to connect and subscribe every client before the first execution starts. */
const leadMs = 3000;
const prefix = 'conveyor-fanout';
const relayChannel = 'relay-fanout';
const floodStream = 'flood';

interface Latency {
  p50: number;
  p99: number;
  /** Progress events per second over the run, from their `ts`. */
  rate: number;
}

export async function monitorFanout(redis: RedisServer): Promise<void> {
  const env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const [relay, monitor] = await Promise.all([startMinimalRelay(redis.url, relayChannel), startService('monitor', { ...env, MONITOR_PORT: '0' })]);
  const publisher = createRedis({ url: redis.url, prefix }, 'worker');
  try {
    const plainLatency = await relayProgressLatency(publisher, relay.url);
    const conveyorLatency = await conveyorProgressLatency(redis, monitor.url!, env);
    const plainFlood = await deliveriesPerSecond(relay.url, { room: floodStream }, (event) => publisher.publish(relayChannel, JSON.stringify(event)));
    const channel = new RedisKeys(prefix).eventsChannel(demoSteps.queue);
    const conveyorFlood = await deliveriesPerSecond(monitor.url!, { queue: demoSteps.queue }, (event) => publisher.spublish(channel, encodePublished(event)));

    const perStream = 1000 / progressIntervalMs;
    console.log(
      `\nmonitor fan-out latency: ${latencyClients} socket.io clients, ${eventsPerSecond} progress events/s in all ` +
        `(${streams} streams × ${perStream}/s, each client follows one; event ts → receipt)`,
    );
    console.log(`  minimal relay (PUBLISH → room emit)          ${latencyLine(plainLatency)}`);
    console.log(`  Conveyor (ctx.progress → worker → monitor)   ${latencyLine(conveyorLatency)}`);
    console.log(`\nmonitor fan-out throughput: ${floodClients} clients in one room, ${floodEvents} progress events published at once`);
    console.log(`  minimal relay (room broadcast)        ${plainFlood.toFixed(0).padStart(7)} deliveries/s`);
    console.log(`  Conveyor monitor (queue room)         ${conveyorFlood.toFixed(0).padStart(7)} deliveries/s   (${(conveyorFlood / plainFlood).toFixed(2)} × relay)`);
    figure('monitor-fanout-p99', conveyorLatency.p99 / plainLatency.p99, 'minimal relay', `p99 ${conveyorLatency.p99.toFixed(0)} ms`, `p99 ${plainLatency.p99.toFixed(0)} ms`);
    figure('monitor-fanout-deliveries', conveyorFlood / plainFlood, 'minimal relay', `${conveyorFlood.toFixed(0)}/s`, `${plainFlood.toFixed(0)}/s`);
  } finally {
    publisher.disconnect();
    await Promise.all([relay.process.stop(), monitor.process.stop()]);
  }
}

function latencyLine({ p50, p99, rate }: Latency): string {
  return `p50 ${p50.toFixed(0).padStart(5)} ms   p99 ${p99.toFixed(0).padStart(5)} ms   (${rate.toFixed(0)} events/s)`;
}

/** The stream client (or message) `i` belongs to. */
function streamId(i: number): string {
  return `stream-${i % streams}`;
}

/** A progress event as a worker publishes it, stamped now. */
function progressEvent(executionId: string, step: number): ConveyorEvent<'execution.progress'> {
  const data = { percent: (step / stepsPerStream) * 100, step, message: `step ${step} of ${stepsPerStream}` };
  return eventEnvelope({ type: 'execution.progress', executionId, queue: demoSteps.queue, task: demoSteps.name, tenant: defaultTenant, data }, step + 1);
}

/** Message n goes to stream n % streams, so each stream gets one per coalescing window, as an execution would. */
function relayProgressLatency(publisher: Redis, relayUrl: string): Promise<Latency> {
  return latencyOf(relayUrl, (i) => ({ room: streamId(i) }), () =>
    paced(streams * stepsPerStream, eventsPerSecond, (n) => publisher.publish(relayChannel, JSON.stringify(progressEvent(streamId(n), Math.floor(n / streams) + 1)))),
  );
}

/** The demo.steps executions are submitted first, to start after `leadMs`, one window's worth spread. */
async function conveyorProgressLatency(redis: RedisServer, monitorUrl: string, env: Record<string, string>): Promise<Latency> {
  const worker = await startService('worker', { ...env, WORKER_QUEUES: demoSteps.queue, WORKER_CONCURRENCY: String(streams) });
  const connection = createRedis({ url: redis.url, prefix }, 'worker');
  const { submitter, queues } = createExecutionsCore(connection, prefix);
  const firstStart = Date.now() + leadMs;
  try {
    const ids: string[] = [];
    for (let i = 0; i < streams; i++) {
      const options = { runAt: new Date(firstStart + (i * progressIntervalMs) / streams) };
      ids.push((await submitter.submit({ task: demoSteps, input: { steps: stepsPerStream, stepMs: progressIntervalMs }, options }, defaultTenant)).id);
    }
    return await latencyOf(monitorUrl, (i) => ({ execution: ids[i % streams] }), async () => {
      if (Date.now() >= firstStart) throw new Error(`subscribing took over ${leadMs} ms: raise leadMs`);
    });
  } finally {
    await worker.process.stop();
    await queues.close();
    connection.disconnect();
  }
}

/** Subscribes the clients, runs `drive`, and waits for every followed stream's progress at every client. */
function latencyOf(url: string, requestOf: (i: number) => object, drive: () => Promise<void>): Promise<Latency> {
  return withClients(url, latencyClients, requestOf, async (clients) => {
    const latencies: number[] = [];
    let firstSent = Infinity;
    let lastSent = 0;
    for (const client of clients) {
      client.on('execution.progress', (event: { ts: string }) => {
        const sent = Date.parse(event.ts);
        latencies.push(Date.now() - sent);
        firstSent = Math.min(firstSent, sent);
        lastSent = Math.max(lastSent, sent);
      });
    }
    await drive();
    await untilReceived(() => latencies.length, latencyClients * stepsPerStream, 'progress receipts', leadMs + latencySeconds * 1000 + 30_000);
    return { ...percentiles(latencies), rate: (streams * stepsPerStream - 1) / ((lastSent - firstSent) / 1000) };
  });
}

/**
 * `publish` sends an event as the listener expects it: the relay, the envelope's JSON on plain pub/sub;
 * the monitor, the published form on sharded pub/sub.
 */
function deliveriesPerSecond(url: string, request: object, publish: (event: ConveyorEvent) => Promise<unknown>): Promise<number> {
  return withClients(url, floodClients, () => request, async (clients) => {
    let received = 0;
    let lastReceived = 0;
    for (const client of clients) {
      client.on('execution.progress', () => {
        received++;
        lastReceived = performance.now();
      });
    }
    const started = performance.now();
    await Promise.all(Array.from({ length: floodEvents }, (_, i) => publish(progressEvent(floodStream, i + 1))));
    await untilReceived(() => received, floodEvents * floodClients, 'deliveries');
    return received / ((lastReceived - started) / 1000);
  });
}
