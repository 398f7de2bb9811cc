import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePublished, decodeRoute, decodeStored, encodeNumbered, encodePublished, eventEnvelope } from './event-codec.js';

const completed = {
  type: 'execution.completed' as const,
  executionId: 'exec_01JABCDEFGHJKMNPQRSTVWXYZ0',
  queue: 'demo',
  task: 'demo.noop',
  tenant: 'default',
  // Data that looks like an envelope must stay data.
  data: { result: { executionId: 'exec_OTHER', scheduleId: 'sch_OTHER', '"seq":0': 1, tenant: 'x\n["a"]' } },
};

describe('event codec', () => {
  it('routes a published event by what the server set, whatever its data holds', () => {
    const message = encodePublished(eventEnvelope(completed, 3));
    assert.deepEqual(decodeRoute(message), {
      type: 'execution.completed',
      queue: 'demo',
      tenant: 'default',
      executionId: completed.executionId,
      scheduleId: null,
    });
    assert.deepEqual(decodePublished(message).data, completed.data);
  });

  it('cuts a numbered event where the script writes its seq, so that stored and published forms decode alike', () => {
    const ts = '2026-11-30T12:00:00.000Z';
    const { route, head, tail } = encodeNumbered(completed, ts);
    const stored = `${head}7${tail}`;
    assert.deepEqual(decodeStored(stored), JSON.parse(JSON.stringify(eventEnvelope(completed, 7, ts))));
    assert.deepEqual(Object.keys(decodeStored(stored)), ['v', 'type', 'executionId', 'queue', 'task', 'tenant', 'seq', 'ts', 'data']);
    assert.equal(decodeRoute(`${route}\n${stored}`)?.executionId, completed.executionId);
  });

  it('finds no route in a message that has none', () => {
    for (const message of ['{"type":"execution.completed","executionId":"exec_1"}', '["a"]\n{}', 'not json\n{}', '[1,2,3,4,5]\n{}']) {
      assert.equal(decodeRoute(message), null, message);
    }
  });
});
