import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorEvent } from '@conveyor/contracts';
import { ExecutionWatcher, Stack } from '@conveyor/testing';

describe('crash recovery', () => {
  let stack: Stack;
  before(async () => {
    stack = await Stack.start({ workers: 0 });
  });
  after(() => stack?.stop());

  it('continues a SIGKILLed worker’s execution on another worker, from its checkpoint', async () => {
    const doomed = await stack.startWorker();
    const watcher = await ExecutionWatcher.connect(stack.monitorUrl);
    try {
      // Long enough that the run is still going once the second worker is up, even on a busy machine.
      const reply = await stack.api.post('/v1/executions', { task: 'demo.steps', input: { steps: 40, stepMs: 250 } });
      await watcher.subscribe(reply.body.id, 0);
      await watcher.waitFor((e) => e.type === 'execution.progress' && (e as ConveyorEvent<'execution.progress'>).data.percent >= 10, 'four steps');
      await stack.startWorker();
      await doomed.process.stop('SIGKILL');
      const killedAt = Date.now();

      const recovered = await watcher.waitFor((e) => e.type === 'execution.recovered', 'the recovery', 30_000);
      assert.ok(Date.parse(recovered.ts) - killedAt < 15_000, `picked up again ${Date.parse(recovered.ts) - killedAt} ms after the crash`);
      assert.deepEqual(recovered.data, { attempt: 1 });
      const end = await watcher.waitForEnd(reply.body.id, 60_000);
      assert.equal(end.type, 'execution.completed');

      const events = watcher.of(reply.body.id);
      const seqs = watcher.seqs(reply.body.id);
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
      const steps = events.filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress').map((e) => Number(e.data.step));
      assert.equal(new Set(steps).size, steps.length, `no checkpointed step ran twice: ${steps.join(',')}`);
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
      assert.equal(events.some((e) => e.type === 'execution.failed' || e.type === 'execution.retrying'), false);
      const final = (await stack.api.get(`/v1/executions/${reply.body.id}`)).body;
      assert.equal(final.status, 'completed');
      assert.deepEqual(final.attempts, { made: 1, max: 3 });
    } finally {
      watcher.close();
    }
  });
});
