import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent } from '@conveyor/contracts';
import { Stack, submitAndWatch } from '@conveyor/testing';

describe('crash recovery', () => {
  let stack: Stack;
  let client: ConveyorClient;
  before(async () => {
    stack = await Stack.start({ workers: 0 });
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  it('continues a SIGKILLed worker’s execution on another worker, from its checkpoint', async () => {
    const doomed = await stack.startWorker();
    // Long enough that the run is still going once the second worker is up, even on a busy machine.
    const run = await submitAndWatch(client, 'demo.steps', { steps: 60, stepMs: 250 });
    await run.waitFor('execution.progress', (e) => e.data.percent >= 10);
    await stack.startWorker();
    await doomed.process.stop('SIGKILL');
    const killedAt = Date.now();

    const recovered = await run.waitFor('execution.recovered', undefined, 30_000);
    assert.ok(Date.parse(recovered.ts) - killedAt < 15_000, `picked up again ${Date.parse(recovered.ts) - killedAt} ms after the crash`);
    assert.deepEqual(recovered.data, { attempt: 1 });
    const final = await run.done;
    assert.equal(run.events.at(-1)?.type, 'execution.completed');

    const seqs = run.events.flatMap((e) => (e.seq === undefined ? [] : [e.seq]));
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
    const steps = run.events.filter((e): e is ConveyorEvent<'execution.progress'> => e.type === 'execution.progress').map((e) => Number(e.data.step));
    assert.equal(new Set(steps).size, steps.length, `no checkpointed step ran twice: ${steps.join(',')}`);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
    assert.equal(run.events.some((e) => e.type === 'execution.failed' || e.type === 'execution.retrying'), false);
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    // Its log, recovery included, reads back byte for byte as the events were sent live.
    const replayed = (await client.events(run.executionId)).items;
    assert.equal(JSON.stringify(replayed), JSON.stringify(run.events.filter((e) => e.seq !== undefined)));
  });
});
