import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobState } from 'bullmq';
import type { ExecutionStatus } from '@conveyor/contracts';
import { decodeRecord, encodeRecordFields, firstEventData, keptFirstEvent, type ExecutionRecord } from './execution-record.js';
import { deriveStatus, heldFor, toExecutionView } from './execution-view.js';

const record: ExecutionRecord = {
  id: 'exec_01M862CJRHAMBFM3S2NG72JCRG',
  task: 'demo.steps',
  queue: 'demo',
  tenant: 'default',
  seq: 4,
  status: 'running',
  priority: 100,
  tags: ['a'],
  scheduleId: null,
  scheduledFor: null,
  createdAt: 1_700_000_000_000,
  runAt: 1_700_000_000_000,
  startedAt: 1_700_000_000_100,
  finishedAt: null,
  attemptsMade: 1,
  attemptsMax: 3,
  progress: { percent: 50, step: 1, message: null },
  error: null,
  pendingAction: null,
  cancelReason: null,
  waitingFor: null,
  removedJob: null,
  firstEvent: null,
};

describe('execution records and views', () => {
  const hashOf = (fields: string[]) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]));

  it('round-trips a record through its Redis hash, its null fields stored empty or left out', () => {
    assert.deepEqual(decodeRecord(hashOf(encodeRecordFields(record)), record), record);
    const lean = hashOf(encodeRecordFields(record, { lean: true }));
    assert.equal('finishedAt' in lean, false);
    assert.deepEqual(decodeRecord(lean, record), record);
    assert.equal(decodeRecord({}, record), null);
  });

  it('leaves out of a new record the fields whose absence reads as their value', () => {
    const fresh: ExecutionRecord = { ...record, status: 'queued', tags: [], attemptsMade: 0, attemptsMax: 1, runAt: record.createdAt, startedAt: null, progress: null };
    const lean = hashOf(encodeRecordFields(fresh, { lean: true }));
    const impliedFields = ['id', 'queue', 'tenant', 'priority', 'tags', 'attemptsMade', 'attemptsMax', 'runAt', 'startedAt'];
    assert.deepEqual(Object.keys(lean).filter((name) => impliedFields.includes(name)), []);
    assert.deepEqual(decodeRecord(lean, fresh), fresh);
    const later = { ...fresh, tenant: 'acme', priority: 10, tags: ['a'], attemptsMade: 2, attemptsMax: 3, runAt: record.createdAt + 1 };
    assert.deepEqual(decodeRecord(hashOf(encodeRecordFields(later, { lean: true })), later), later);
  });

  it("keeps event 1's data in the record only when the record's fields do not imply it", () => {
    const queued = { status: 'queued' as const, runAt: new Date(record.createdAt).toISOString(), priority: record.priority };
    assert.equal(keptFirstEvent(record, queued), null);
    assert.deepEqual(firstEventData({ ...record, firstEvent: null }), queued);
    for (const data of [{ ...queued, status: 'scheduled' as const, runAt: new Date(record.createdAt + 60_000).toISOString() }, { ...queued, priority: 1 }]) {
      assert.deepEqual(keptFirstEvent(record, data), data);
      assert.deepEqual(firstEventData({ ...record, firstEvent: data }), data);
    }
  });

  const table: [JobState | 'unknown', ExecutionStatus, ExecutionStatus][] = [
    ['waiting', 'running', 'queued'],
    ['prioritized', 'queued', 'queued'],
    ['delayed', 'running', 'scheduled'],
    ['active', 'running', 'running'],
    ['active', 'scheduled', 'scheduled'],
    ['active', 'failed', 'running'],
    ['completed', 'running', 'completed'],
    ['failed', 'running', 'failed'],
    ['failed', 'cancelled', 'cancelled'],
    ['unknown', 'queued', 'queued'],
    ['unknown', 'completed', 'completed'],
  ];
  for (const [state, recorded, expected] of table) {
    it(`BullMQ ${state} with Conveyor's ${recorded} reads as ${expected}`, () => {
      assert.equal(deriveStatus(state, { ...record, status: recorded }), expected);
    });
  }

  it('reads a failed job whose running record was asked to cancel as cancelled (read as the cancellation is recorded)', () => {
    assert.equal(deriveStatus('failed', { ...record, status: 'running', pendingAction: 'cancel' }), 'cancelled');
    // A record that ended failed keeps its status, whatever was asked of it before.
    assert.equal(deriveStatus('failed', { ...record, status: 'failed', pendingAction: 'cancel' }), 'failed');
  });

  it('reads a job parked for its tenant’s maxRunning as queued, waiting for tenant_concurrency', () => {
    const held: ExecutionRecord = { ...record, status: 'queued', waitingFor: 'tenant_concurrency' };
    assert.equal(deriveStatus('delayed', held), 'queued');
    assert.equal(heldFor('delayed', held), 'tenant_concurrency');
    assert.equal(toExecutionView(held, 'queued', null, heldFor('delayed', held)).waitingFor, 'tenant_concurrency');
    // Promoted (a slot was reserved for it): it waits for a worker like any other.
    assert.equal(heldFor('prioritized', held), null);
    // Paused while held, or delayed for another reason: not held.
    assert.equal(deriveStatus('delayed', { ...held, status: 'paused' }), 'paused');
    assert.equal(heldFor('delayed', { ...held, status: 'paused' }), null);
    assert.equal(deriveStatus('delayed', { ...held, waitingFor: null, status: 'scheduled' }), 'scheduled');
    assert.equal(toExecutionView(record, 'running', null).waitingFor, null);
  });

  it('shows the result only when completed, and BullMQ’s finish time before Conveyor’s event', () => {
    const job = { input: { steps: 2 }, result: { steps: 2 }, failedReason: null, finishedOn: 1_700_000_001_000 };
    const completed = toExecutionView(record, 'completed', job);
    assert.deepEqual(completed.result, { steps: 2 });
    assert.equal(completed.finishedAt, '2023-11-14T22:13:21.000Z');
    const running = toExecutionView(record, 'running', job);
    assert.equal(running.result, null);
    assert.equal(running.finishedAt, null);
    assert.equal(running.startedAt, '2023-11-14T22:13:20.100Z');
  });

  it('falls back to BullMQ’s failed reason when Conveyor recorded no error', () => {
    const view = toExecutionView(record, 'failed', { input: {}, result: null, failedReason: 'job stalled more than allowable limit', finishedOn: null });
    assert.deepEqual(view.error, { message: 'job stalled more than allowable limit', name: 'Error', retryable: false });
  });
});
