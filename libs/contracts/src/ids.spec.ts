import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isId } from './ids.js';

describe('isId', () => {
  const cases: { kind: 'execution' | 'schedule'; value: unknown; ok: boolean }[] = [
    { kind: 'execution', value: 'exec_01JD0000000000000000000000', ok: true },
    { kind: 'execution', value: 'exec_01jd0000000000000000000000', ok: false },
    { kind: 'execution', value: 'exec_01JD000000000000000000000I', ok: false },
    { kind: 'execution', value: 'exec_01JD0000000000000000000000:events', ok: false },
    { kind: 'execution', value: 'sch_01JD0000000000000000000000', ok: false },
    { kind: 'schedule', value: 'sch_01JD0000000000000000000000', ok: true },
    { kind: 'schedule', value: 'sch_01JD0000000000000000000000:events', ok: false },
    { kind: 'schedule', value: 'sch_01JD000000000000000000000', ok: false },
    { kind: 'schedule', value: 42, ok: false },
  ];
  for (const { kind, value, ok } of cases) {
    it(`${ok ? 'accepts' : 'refuses'} ${JSON.stringify(value)} as ${kind === 'execution' ? 'an' : 'a'} ${kind} id`, () => {
      assert.equal(isId(kind, value), ok);
    });
  }
});
