import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadedPackages, OtlpReceiver, poll, Stack, watchPackageLoads, type ReceivedSpan } from '@conveyor/testing';

const spanKind = { internal: 1, server: 2, producer: 4, consumer: 5 } as const;

/** `span` and its ancestors in `trace`, root first (as far as they have been received). */
function ancestry(trace: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const parent = trace.find((other) => other.spanId === span.parentSpanId);
  return parent ? [...ancestry(trace, parent), span] : [span];
}

/** Polls the execution until it reads `completed`. */
async function waitForCompletion(stack: Stack, id: string): Promise<void> {
  await poll(async () => (await stack.api.get(`/v1/executions/${id}`)).body?.status, { until: (status) => status === 'completed', label: `${id} completed` });
}

describe('traces', () => {
  describe('with an OTLP endpoint', () => {
    let receiver: OtlpReceiver;
    let stack: Stack;

    before(async () => {
      receiver = await OtlpReceiver.start();
      stack = await Stack.start({
        monitors: 0,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', ...watchPackageLoads() },
      });
    });
    after(async () => {
      await stack?.stop();
      await receiver?.stop();
    });

    /** The spans received so far of the trace that `member` is in, once there is one and `until` holds for them. */
    async function traceOf(member: (spans: ReceivedSpan[]) => ReceivedSpan | undefined, until: (trace: ReceivedSpan[]) => boolean, label: string) {
      return poll(
        async () => {
          const found = member(receiver.spans);
          return found ? receiver.spans.filter((span) => span.traceId === found.traceId) : [];
        },
        { until: (trace) => trace.length > 0 && until(trace), label },
      );
    }

    it("follows a submission from the gateway's request through BullMQ to the handler's run, in one trace", async () => {
      const reply = await stack.api.post('/v1/executions', { task: 'demo.noop', input: { payload: 'a-result-to-keep-out' } });
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      const id = reply.body.id as string;
      await waitForCompletion(stack, id);

      const isRun = (span: ReceivedSpan) => span.name === 'run demo.noop' && span.attributes['conveyor.execution.id'] === id;
      const chainOf = (spans: ReceivedSpan[]) => ancestry(spans, spans.find(isRun)!);
      const trace = await traceOf((spans) => spans.find(isRun), (spans) => chainOf(spans)[0].parentSpanId === null, `the trace of ${id}`);
      // request → add (gateway) → process (worker) → run, each the parent of the next
      const chain = chainOf(trace);
      assert.deepEqual(
        chain.map((span) => [span.service, span.name.split(' ', 1)[0], span.kind]),
        [
          ['conveyor-gateway', 'POST', spanKind.server],
          ['conveyor-gateway', 'add', spanKind.producer],
          ['conveyor-worker', 'process', spanKind.consumer],
          ['conveyor-worker', 'run', spanKind.internal],
        ],
      );
      const [request, , processed, run] = chain;
      assert.equal(request.name, 'POST /v1/executions');
      assert.deepEqual(
        [request.attributes['conveyor.execution.id'], request.attributes['conveyor.queue'], request.attributes['conveyor.task']],
        [id, reply.body.queue, 'demo.noop'],
      );
      assert.equal(processed.attributes['bullmq.job.id'], id);
      // The handler's result (demo.noop echoes its input) stays out of the telemetry.
      const completed = processed.events.find((event) => event.name === 'job completed');
      assert.ok(completed, `BullMQ's completion is on the span: ${JSON.stringify(processed.events)}`);
      assert.equal(JSON.stringify(trace).includes('a-result-to-keep-out'), false);
      assert.deepEqual([run.attributes['conveyor.execution.id'], run.attributes['conveyor.attempt']], [id, 1]);
    });

    it("joins the caller's trace, and traces a batch's executions under its request", async () => {
      const callerTrace = '0af7651916cd43dd8448eb211c80319c';
      const reply = await stack.api.request(
        'POST',
        '/v1/executions/batch',
        { executions: [{ task: 'demo.noop' }, { task: 'demo.noop' }] },
        { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` },
      );
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      const ids = (reply.body.items as { id: string }[]).map((item) => item.id);
      await Promise.all(ids.map((id) => waitForCompletion(stack, id)));

      const trace = await traceOf(
        (spans) => spans.find((span) => span.traceId === callerTrace),
        (spans) => spans.some((span) => span.name === 'POST /v1/executions/batch') && spans.filter((span) => span.name === 'run demo.noop').length === 2,
        'the runs of the batch in the caller’s trace',
      );
      const request = trace.find((span) => span.name === 'POST /v1/executions/batch');
      assert.ok(request, 'the batch request is in the trace');
      assert.equal(request.parentSpanId, 'b7ad6b7169203331', "under the caller's span");
      assert.equal(request.attributes['conveyor.execution.count'], 2);
      const runs = trace.filter((span) => span.name === 'run demo.noop');
      assert.deepEqual(runs.map((span) => span.attributes['conveyor.execution.id']).sort(), [...ids].sort());
    });

    it("puts every attempt's run in the submission's trace, a failed one marked as such", async () => {
      const body = { task: 'demo.steps', input: { steps: 1, stepMs: 1, failTimes: 1 }, backoff: { type: 'fixed', delayMs: 10 } };
      const reply = await stack.api.post('/v1/executions', body);
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      const id = reply.body.id as string;
      await waitForCompletion(stack, id);

      const isRun = (span: ReceivedSpan) => span.name === 'run demo.steps' && span.attributes['conveyor.execution.id'] === id;
      const rootOf = (spans: ReceivedSpan[], span: ReceivedSpan) => ancestry(spans, span)[0];
      const complete = (spans: ReceivedSpan[]) => spans.filter(isRun).length === 2 && spans.filter(isRun).every((run) => rootOf(spans, run).parentSpanId === null);
      const trace = await traceOf((spans) => spans.find(isRun), complete, `the runs of ${id}`);
      const runs = trace.filter(isRun).sort((a, b) => Number(a.attributes['conveyor.attempt']) - Number(b.attributes['conveyor.attempt']));
      assert.deepEqual(
        runs.map((run) => rootOf(trace, run).name),
        ['POST /v1/executions', 'POST /v1/executions'],
      );
      assert.deepEqual(
        runs.map((run) => [run.attributes['conveyor.attempt'], run.status]),
        [
          [1, 2],
          [2, 0],
        ],
      );
    });

    it("records a refused request's status, as the caller's error rather than the span's", async () => {
      const reply = await stack.api.request('POST', '/v1/executions', { task: 'demo.nothing' }, { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` });
      assert.equal(reply.status, 400);
      const [request] = await traceOf((spans) => spans.find((span) => span.traceId === '1'.repeat(32)), () => true, 'the refused request');
      assert.deepEqual([request.name, request.attributes['http.response.status_code'], request.status], ['POST /v1/executions', 400, 0]);
    });

    it("starts a trace at each schedule's tick, which the execution it fires continues", async () => {
      const created = await stack.api.post('/v1/schedules', { name: 'traced', task: 'demo.noop', every: 1000, limit: 1 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const runs = await poll(async () => (await stack.api.get(`/v1/schedules/${created.body.id}/runs`)).body.items as { id: string }[], {
        until: (items) => items.length === 1,
        label: 'the schedule fired',
      });
      const id = runs[0].id;
      await waitForCompletion(stack, id);

      const isRun = (span: ReceivedSpan) => span.name === 'run demo.noop' && span.attributes['conveyor.execution.id'] === id;
      const trace = await traceOf((spans) => spans.find(isRun), (spans) => ancestry(spans, spans.find(isRun)!)[0].parentSpanId === null, `the trace of ${id}`);
      const chain = ancestry(trace, trace.find(isRun)!);
      assert.deepEqual(
        chain.map((span) => [span.service, span.name.split(' ', 1)[0]]),
        [
          ['conveyor-worker', 'process'],
          ['conveyor-worker', 'add'],
          ['conveyor-worker', 'process'],
          ['conveyor-worker', 'run'],
        ],
      );
      assert.match(chain[0].name, /schedules/);
    });

    it("leaves out BullMQ's housekeeping (every poll for a job would be a trace)", () => {
      assert.ok(receiver.spans.some((span) => span.name.startsWith('process ')), 'the worker took jobs');
      const housekeeping = receiver.spans.filter((span) => /^(getNextJob|extendLocks|startStalledCheckTimer|moveStalledJobsToWait) /.test(span.name));
      assert.deepEqual(housekeeping.map((span) => span.name), []);
    });

    it('loads OpenTelemetry in the gateway and the worker (what the test without an endpoint relies on)', () => {
      for (const service of [stack.gateways[0], stack.workers[0]]) {
        assert.ok(loadedPackages(service).includes('@opentelemetry/sdk-trace'), service.process.name);
        assert.ok(loadedPackages(service).includes('open-telemetry'), service.process.name);
      }
    });
  });

  describe('without an endpoint', () => {
    let stack: Stack;

    before(async () => {
      stack = await Stack.start({ monitors: 0, env: watchPackageLoads() });
    });
    after(async () => {
      await stack?.stop();
    });

    it('loads none of OpenTelemetry, from start to shutdown', async () => {
      const reply = await stack.api.post('/v1/executions', { task: 'demo.noop' });
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      await waitForCompletion(stack, reply.body.id);
      const services = [stack.gateways[0], stack.workers[0]];
      await Promise.all(services.map((service) => service.process.stop('SIGTERM')));
      for (const service of services) assert.deepEqual(loadedPackages(service), [], service.process.name);
    });
  });
});
