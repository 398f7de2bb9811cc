import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConveyorEvent } from '@conveyor/contracts';
import { assertApiError, poll, stackPerSuite, submitAndWatch, watchFromStart } from '@conveyor/testing';

describe('custom retry delays', () => {
  const suite = stackPerSuite();

  /** For each retry: the wait `execution.retrying` announced, and the time from it to the next start. */
  function waits(events: ConveyorEvent[]): { announced: number; waited: number }[] {
    const retrying = events.filter((e): e is ConveyorEvent<'execution.retrying'> => e.type === 'execution.retrying');
    const started = events.filter((e): e is ConveyorEvent<'execution.started'> => e.type === 'execution.started');
    return retrying.map((retry, i) => ({
      announced: Date.parse(retry.data.retryAt!) - Date.parse(retry.ts),
      waited: Date.parse(started[i + 1].ts) - Date.parse(retry.ts),
    }));
  }

  /** Within a generous margin: never early, at most 600 ms late (the machine may be busy). */
  function assertWaits(observed: { announced: number; waited: number }[], delays: number[]): void {
    assert.equal(observed.length, delays.length, JSON.stringify(observed));
    observed.forEach(({ announced, waited }, i) => {
      assert.ok(Math.abs(announced - delays[i]) <= 20, `retry ${i + 1} announced ≈ ${delays[i]} ms, was ${announced}`);
      assert.ok(waited >= delays[i] - 20 && waited <= delays[i] + 600, `retry ${i + 1} waited ≈ ${delays[i]} ms, was ${waited}`);
    });
  }

  it('waits the n-th delay before the n-th retry, the last one repeating, as the timeline shows', async () => {
    const watch = await submitAndWatch(suite.client, 'demo.steps', { steps: 1, stepMs: 0, failTimes: 3 }, { attempts: 4, backoff: { type: 'custom', delaysMs: [300, 900] } });
    const final = await watch.done;
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.attempts, { made: 4, max: 4 });
    assertWaits(waits(watch.events), [300, 900, 900]);
  });

  it("is taken by a schedule's definition, and its runs retry by it", async () => {
    const schedule = await suite.stack.api.post('/v1/schedules', {
      name: 'custom-backoff',
      task: 'demo.steps',
      input: { steps: 1, stepMs: 0, failTimes: 2 },
      attempts: 3,
      backoff: { type: 'custom', delaysMs: [900, 300] },
    });
    assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
    assert.deepEqual(schedule.body.backoff, { type: 'custom', delaysMs: [900, 300] });
    await suite.stack.api.post(`/v1/schedules/${schedule.body.id}/run-now`, {});
    const runs = await poll(() => suite.stack.api.get(`/v1/schedules/${schedule.body.id}/runs`), { until: (reply) => reply.body.items.length === 1, label: 'the run' });
    const watch = watchFromStart(suite.client, runs.body.items[0].id);
    assert.equal((await watch.done).status, 'completed');
    assertWaits(waits(watch.events), [900, 300]);
  });

  it('refuses a custom backoff without delays, with too many, with one over a day, or mixed with delayMs, naming the field', async () => {
    const api = suite.stack.api;
    const cases: [unknown, string, RegExp][] = [
      [{ type: 'custom' }, 'backoff.delaysMs', /is required/],
      [{ type: 'custom', delaysMs: [] }, 'backoff.delaysMs', /at least 1/],
      [{ type: 'custom', delaysMs: Array(21).fill(100) }, 'backoff.delaysMs', /no more than 20/],
      [{ type: 'custom', delaysMs: [100, 86_400_001] }, 'backoff.delaysMs', /must not be greater than 86400000/],
      [{ type: 'custom', delaysMs: [100, -1] }, 'backoff.delaysMs', /must not be less than 0/],
      [{ type: 'custom', delaysMs: [100, 1.5] }, 'backoff.delaysMs', /integer/],
      [{ type: 'custom', delaysMs: [100], delayMs: 100 }, 'backoff.delayMs', /not used by a custom backoff/],
      [{ type: 'fixed', delayMs: 100, delaysMs: [100] }, 'backoff.delaysMs', /not used by a fixed backoff/],
      [{ type: 'steps', delaysMs: [100] }, 'backoff.type', /exponential, fixed, custom/],
    ];
    for (const [backoff, path, message] of cases) {
      const reply = await api.post('/v1/executions', { task: 'demo.noop', backoff });
      assertApiError(reply, 400, 'validation_failed', JSON.stringify(backoff));
      const detail = reply.body.details.find((d: { path: string }) => d.path === path);
      assert.match(detail?.message ?? '', message, `${JSON.stringify(backoff)}: ${JSON.stringify(reply.body.details)}`);
    }
    const batch = await api.post('/v1/executions/batch', { executions: [{ task: 'demo.noop' }, { task: 'demo.noop', backoff: { type: 'custom', delaysMs: [] } }] });
    assertApiError(batch, 400, 'validation_failed');
    assert.deepEqual(batch.body.details.map((d: { path: string }) => d.path), ['executions[1].backoff.delaysMs']);
    const schedule = await api.post('/v1/schedules', { name: 'bad-backoff', task: 'demo.noop', backoff: { type: 'custom', delaysMs: ['1s'] } });
    assertApiError(schedule, 400, 'validation_failed');
    assert.deepEqual(schedule.body.details.map((d: { path: string }) => d.path), ['backoff.delaysMs']);
  });
});
