import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobState } from 'bullmq';
import type { ExecutionRecord } from '@conveyor/executions';
import { settlement, type Settlement } from './tenant-concurrency.js';

describe('settlement of a slot given to an execution that has not started on it', () => {
  const held = { status: 'queued', waitingFor: 'tenant_concurrency' } as ExecutionRecord;
  const table: [JobState | 'unknown', ExecutionRecord | null, Settlement][] = [
    ['delayed', held, 'promote'],
    ['waiting', held, 'keep'],
    ['prioritized', held, 'keep'],
    ['active', held, 'keep'],
    // Paused while held, or waiting to retry: its slot goes to the next.
    ['delayed', { ...held, status: 'paused' }, 'release'],
    ['delayed', { ...held, status: 'scheduled', waitingFor: null }, 'release'],
    ['completed', held, 'release'],
    ['failed', held, 'release'],
    // Cancelled while held (the job removed), or forgotten.
    ['unknown', held, 'release'],
    ['delayed', null, 'release'],
  ];
  for (const [state, record, expected] of table) {
    it(`${state} with ${record ? `a ${record.status} record${record.waitingFor ? ' saying it is held' : ''}` : 'no record'}: ${expected}`, () => {
      assert.equal(settlement(state, record), expected);
    });
  }
});
