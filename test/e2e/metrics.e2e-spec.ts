import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, assertApiError, ExecutionWatcher, poll, stackCredentials, Stack } from '@conveyor/testing';
import { referencedMetrics } from '../deploy/referenced-metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One scrape, parsed: its families (`# TYPE`) and samples; throws on a duplicate HELP or TYPE, or a line it cannot read. */
interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
  text: string;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;

function parseExposition(text: string): Scrape {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (kind === 'HELP') {
        assert.ok(!helps.has(name), `a second HELP of ${name}`);
        helps.add(name);
      } else {
        assert.ok(!types.has(name), `a second TYPE of ${name}`);
        types.set(name, rest);
      }
      continue;
    }
    const sample = sampleLine.exec(line);
    assert.ok(sample, `not an exposition line: ${line}`);
    const [, name, labelText = '', value] = sample;
    const labels: Record<string, string> = {};
    let read = 0;
    labelPair.lastIndex = 0;
    for (let pair = labelPair.exec(labelText); pair; pair = labelPair.exec(labelText)) {
      labels[pair[1]] = pair[2];
      read = labelPair.lastIndex;
    }
    assert.equal(read, labelText.length, `unreadable labels: ${line}`);
    // As Prometheus reads it (Go's ParseFloat): NaN and infinities in any case.
    assert.ok(!Number.isNaN(Number(value)) || /^[+-]?(nan|inf)$/i.test(value), `not a number: ${line}`);
    assert.ok(types.has(familyOf(name, types)), `a sample of no declared family: ${line}`);
    samples.push({ name, labels, value: Number(value) });
  }
  return { types, samples, text };
}

/** A histogram's `_bucket`, `_sum` and `_count` belong to its family. */
function familyOf(name: string, types: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && types.get(base) === 'histogram' ? base : name;
}

/** The sum of the samples named `name` whose labels include `labels`. */
function total(scrapes: Scrape[], name: string, labels: Record<string, string> = {}): number {
  return scrapes
    .flatMap((scrape) => scrape.samples)
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe('metrics', () => {
  const credentials = stackCredentials(['acme']);
  let stack: Stack;
  let acme: ApiClient;
  let workerMetricsUrl: string;
  let watcher: ExecutionWatcher;

  before(async () => {
    stack = await Stack.start({ env: credentials.env, workers: 0 });
    const worker = await stack.startWorker({ WORKER_HEALTH_PORT: '0' });
    const line = await worker.process.waitForLine((l) => l.includes('"msg":"health listening"'), 10_000);
    workerMetricsUrl = (JSON.parse(line) as { url: string }).url.replace(/\/health$/, '/metrics');
    acme = stack.api.as(credentials.tenants.acme);
    watcher = await ExecutionWatcher.connect(stack.monitorUrl, { token: credentials.tenants.acme });
    assert.equal((await watcher.subscribeRoom({ queue: 'demo' })).ok, true);
  });
  after(async () => {
    watcher?.close();
    await stack?.stop();
  });

  /** `/metrics` of the gateway and the monitor (with the admin key), and of the worker's health port (open, like its `/health`). */
  async function scrapeAll(): Promise<Scrape[]> {
    const admin = { authorization: `Bearer ${credentials.admin}` };
    const targets = [
      { url: new URL('/metrics', stack.gatewayUrl), headers: admin },
      { url: new URL('/metrics', stack.monitorUrl), headers: admin },
      { url: new URL(workerMetricsUrl), headers: {} },
    ];
    return Promise.all(
      targets.map(async ({ url, headers }) => {
        const response = await fetch(url, { headers });
        assert.equal(response.status, 200, `${url}`);
        assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        return parseExposition(await response.text());
      }),
    );
  }

  /** Scrapes until `ready` holds (counters are added just after the event they count is published). */
  const scrapeUntil = (ready: (scrapes: Scrape[]) => boolean, label: string) => poll(scrapeAll, { until: ready, label, timeoutMs: 10_000, intervalMs: 50 });

  it('counts an execution once, from submission to completion, by queue and task, and never names it', async () => {
    const task = { queue: 'demo', task: 'demo.noop' };
    const before = await scrapeAll();
    const reply = await acme.post('/v1/executions', { task: 'demo.noop' });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const id: string = reply.body.id;
    await watcher.waitForEnd(id);
    const delta = (scrapes: Scrape[], name: string, labels = task) => total(scrapes, name, labels) - total(before, name, labels);
    const after = await scrapeUntil((s) => delta(s, 'conveyor_executions_completed_total') >= 1, 'the completion counted');
    assert.deepEqual(
      ['submitted', 'started', 'completed', 'failed', 'retried', 'cancelled'].map((what) => delta(after, `conveyor_executions_${what}_total`)),
      [1, 1, 1, 0, 0, 0],
    );
    assert.equal(delta(after, 'conveyor_execution_run_duration_seconds_count'), 1);
    assert.equal(delta(after, 'conveyor_execution_queue_wait_seconds_count'), 1);
    const [gateway, monitor, worker] = after;
    // Queue depth comes from the gateway alone.
    assert.ok(total([gateway], 'conveyor_queue_executions', { queue: 'demo', status: 'completed' }) >= 1);
    assert.ok(!monitor.types.has('conveyor_queue_executions') && !worker.types.has('conveyor_queue_executions'));
    assert.ok(total([gateway], 'conveyor_http_request_duration_seconds_count', { method: 'POST', route: '/v1/executions', status: '202' }) >= 1);
    assert.equal(total([worker], 'conveyor_worker_concurrency', { queue: 'demo' }), 10);
    // The watcher: one socket, in one room.
    assert.equal(total([monitor], 'conveyor_monitor_sockets'), 1);
    assert.equal(total([monitor], 'conveyor_monitor_subscriptions'), 1);
    assert.ok(total([monitor], 'conveyor_monitor_events_delivered_total') - total(before, 'conveyor_monitor_events_delivered_total') >= 1);
    assert.ok(total([monitor], 'conveyor_monitor_delivery_lag_seconds_count') >= 1);
    for (const scrape of after) {
      assert.equal(total([scrape], 'conveyor_redis_up'), 1);
      assert.ok(!scrape.text.includes(id), 'no label names the execution');
      assert.ok(!scrape.text.includes('acme'), 'no label names the tenant');
    }
  });

  it('counts a schedule tick fired and how late it was', async () => {
    const before = await scrapeAll();
    const created = await acme.post('/v1/schedules', { name: 'metrics', task: 'demo.noop', every: 1000, limit: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const fired = await watcher.waitFor('execution.completed', (event) => event.scheduleId === created.body.id);
    assert.ok(fired);
    const delta = (scrapes: Scrape[], name: string) => total(scrapes, name) - total(before, name);
    const after = await scrapeUntil((s) => delta(s, 'conveyor_schedule_ticks_fired_total') >= 1, 'the tick counted');
    assert.equal(delta(after, 'conveyor_schedule_ticks_fired_total'), 1);
    assert.equal(total(after, 'conveyor_schedule_ticks_fired_total', { manual: 'false' }) - total(before, 'conveyor_schedule_ticks_fired_total', { manual: 'false' }), 1);
    assert.equal(delta(after, 'conveyor_schedule_tick_lateness_seconds_count'), 1);
    assert.equal(delta(after, 'conveyor_schedule_ticks_skipped_total'), 0);
  });

  it('exports every metric the alert rules and the Grafana dashboard read', async () => {
    const scrapes = await scrapeAll();
    const types = new Map(scrapes.flatMap((scrape) => [...scrape.types]));
    const missing = [...referencedMetrics()].filter((name) => !types.has(familyOf(name, types)));
    assert.deepEqual(missing, []);
  });

  it('answers /metrics on the gateway and the monitor to the admin key only', async () => {
    for (const url of [stack.gatewayUrl, stack.monitorUrl]) {
      // The monitor serves no OpenAPI document to check its answers against.
      const service = new ApiClient(url, {}, url === stack.gatewayUrl);
      assertApiError(await service.get('/metrics'), 401, 'unauthorized', `${url} without a key`);
      assertApiError(await service.as('not-a-key').get('/metrics'), 401, 'unauthorized', `${url} with an unknown key`);
      assertApiError(await service.as(credentials.tenants.acme).get('/metrics'), 403, 'forbidden', `${url} with a tenant key`);
      assert.equal((await service.as(credentials.admin).get('/metrics')).status, 200);
    }
  });

  it('serves no /metrics with CONVEYOR_METRICS=false', async () => {
    const gateway = await stack.startGateway({ CONVEYOR_METRICS: 'false' });
    const reply = await new ApiClient(gateway.url!).as(credentials.admin).get('/metrics');
    assert.equal(reply.status, 404);
    assert.equal(reply.body.code, 'not_found');
  });
});
