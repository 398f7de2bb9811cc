import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConveyorClient } from '@conveyor/client';
import { limits } from '@conveyor/contracts';
import { Stack, submitAndWatch } from '@conveyor/testing';

describe('the worker against oversize output, hand-made jobs and corrupted schedules', () => {
  let stack: Stack;
  let client: ConveyorClient;

  before(async () => {
    stack = await Stack.start();
    client = stack.client();
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  const overLimit = limits.payloadBytes + 1024;
  const types = (events: { type: string }[]) => events.map((e) => e.type);

  it('fails an attempt whose result is over the limit at once, as result_too_large, without retrying', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 1, stepMs: 0, resultBytes: overLimit }, { attempts: 3 });
    const final = await run.done;
    assert.equal(final.status, 'failed');
    assert.equal(final.error?.code, 'result_too_large');
    assert.equal(final.error?.retryable, false);
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    assert.ok(!types(run.events).includes('execution.retrying'));
  });

  it('rejects an oversize checkpoint: a handler that lets it through fails as checkpoint_too_large, without retrying', async () => {
    const run = await submitAndWatch(client, 'demo.steps', { steps: 2, stepMs: 0, checkpointBytes: overLimit }, { attempts: 3 });
    const final = await run.done;
    assert.equal(final.status, 'failed');
    assert.equal(final.error?.code, 'checkpoint_too_large');
    assert.match(final.error?.message ?? '', /over the 262144-byte limit/);
    assert.deepEqual(final.attempts, { made: 1, max: 3 });
    assert.ok(!types(run.events).includes('execution.retrying'));
  });
});
