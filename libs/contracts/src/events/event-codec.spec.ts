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
    const { route, head, tail, storedHead, storedTail } = encodeNumbered(completed, ts);
    const whole = `${head}7${tail}`;
    const published = JSON.stringify(eventEnvelope(completed, 7, ts));
    assert.equal(whole, published);
    assert.deepEqual(Object.keys(decodeStored(whole)), ['v', 'type', 'executionId', 'queue', 'task', 'tenant', 'seq', 'ts', 'data']);
    assert.equal(decodeRoute(`${route}\n${whole}`)?.executionId, completed.executionId);

    // A completion is stored without its result, which its job keeps.
    const compact = `${storedHead}7${storedTail}`;
    assert.deepEqual(JSON.parse(compact), { v: 1, type: 'execution.completed', seq: 7, ts, data: {} });
    const returnvalue = JSON.stringify(completed.data.result);
    const { executionId, queue, task, tenant } = completed;
    for (const subject of [{ executionId, queue, task, tenant }, { executionId, scheduleId: 'sch_01JABCDEFGHJKMNPQRSTVWXYZ0', queue, task, tenant }]) {
      const event = { ...completed, ...subject };
      const parts = encodeNumbered(event, ts);
      // Byte for byte the published event, from the compact entry, its subject and its job's result (or a whole entry, with or without one).
      assert.equal(JSON.stringify(decodeStored(`${parts.storedHead}7${parts.storedTail}`, subject, returnvalue)), JSON.stringify(eventEnvelope(event, 7, ts)));
      assert.equal(JSON.stringify(decodeStored(`${parts.storedHead}7${parts.tail}`, subject, '"not this"')), JSON.stringify(eventEnvelope(event, 7, ts)));
      assert.equal(JSON.stringify(decodeStored(`${parts.head}7${parts.tail}`, subject)), JSON.stringify(eventEnvelope(event, 7, ts)));
    }
    assert.equal(JSON.stringify(decodeStored(whole)), published);
    // Its job gone, or its result no JSON: the result reads null.
    for (const gone of [null, '', '{not json']) assert.deepEqual(decodeStored(compact, { executionId, queue, task, tenant }, gone).data, { result: null });
  });

  it('stores every other event of an execution with its data', () => {
    const started = { ...completed, type: 'execution.started' as const, data: { attempt: 2 } };
    const { tail, storedTail } = encodeNumbered(started);
    assert.equal(storedTail, tail);
  });

  it('finds no route in a message that has none', () => {
    for (const message of ['{"type":"execution.completed","executionId":"exec_1"}', '["a"]\n{}', 'not json\n{}', '[1,2,3,4,5]\n{}']) {
      assert.equal(decodeRoute(message), null, message);
    }
  });
});
