import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limits, NonRetryableError } from '@conveyor/contracts';
import type { ExecutionStore } from '@conveyor/executions';
import { AttemptContext } from './execution-context.js';
import type { ExecutionEvents } from './execution-events.js';

describe('AttemptContext.checkpoint', () => {
  const ref = { id: 'exec_1', queue: 'demo', task: 'demo.steps', tenant: 'default' };
  const contextStoring = (saved: unknown[]) => {
    const store = {
      saveCheckpoint: async (_ref: unknown, state: unknown) => {
        saved.push(state);
        return null;
      },
    };
    return new AttemptContext<object>({ ref } as ExecutionEvents, store as unknown as ExecutionStore, 1, new AbortController().signal, undefined, () => {});
  };

  it('stores a state within the limit', async () => {
    const saved: unknown[] = [];
    await contextStoring(saved).checkpoint({ done: 1 });
    assert.deepEqual(saved, [{ done: 1 }]);
  });

  it('rejects a state over the limit without storing it, as a non-retryable checkpoint_too_large', async () => {
    const saved: unknown[] = [];
    await assert.rejects(contextStoring(saved).checkpoint({ padding: 'x'.repeat(limits.payloadBytes) }), (error) => {
      assert.ok(error instanceof NonRetryableError);
      assert.equal(error.code, 'checkpoint_too_large');
      assert.match(error.message, /^Checkpoint of 262158 bytes is over the 262144-byte limit$/);
      return true;
    });
    assert.deepEqual(saved, []);
  });
});
