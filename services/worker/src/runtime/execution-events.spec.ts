import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionStore } from '@conveyor/executions';
import { createLogger } from '@conveyor/service';
import { ExecutionEvents } from './execution-events.js';

/** Records what would be written to Redis. */
function recordingStore() {
  const appended: { type: string; data: unknown }[] = [];
  const store = {
    append: async (_ref: unknown, type: string, data: unknown) => {
      appended.push({ type, data });
      return appended.length;
    },
  } as unknown as ExecutionStore;
  return { store, appended };
}

const ref = { id: 'exec_1', queue: 'demo', task: 'demo.steps', tenant: 'default' };
const logger = createLogger('test', 'silent');

describe('ExecutionEvents', () => {
  it('coalesces a burst of progress into the latest value', async () => {
    const { store, appended } = recordingStore();
    const events = new ExecutionEvents(store, ref, logger);
    for (let i = 1; i <= 10_000; i++) events.progress({ percent: i / 100 });
    await events.flush();
    assert.deepEqual(appended, [{ type: 'execution.progress', data: { percent: 100 } }]);
  });

  it('writes pending progress before the next state event', async () => {
    const { store, appended } = recordingStore();
    const events = new ExecutionEvents(store, ref, logger);
    events.progress({ percent: 40, step: 2 });
    await events.state('execution.completed', { result: null }, { status: 'completed' });
    assert.deepEqual(appended.map((a) => a.type), ['execution.progress', 'execution.completed']);
  });

  it('drops pending progress of an abandoned attempt', async () => {
    const { store, appended } = recordingStore();
    const events = new ExecutionEvents(store, ref, logger);
    events.progress({ percent: 10 });
    events.discard();
    await events.flush();
    assert.deepEqual(appended, []);
  });
});
