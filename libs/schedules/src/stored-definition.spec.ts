import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStoredDefinition } from './stored-definition.js';

describe('checkStoredDefinition', () => {
  const stored = {
    name: 'nightly', task: 'demo.steps', input: { steps: 1, stepMs: 0 }, cron: null, tz: 'UTC', every: 1000, at: null,
    runImmediately: false, startAt: null, endAt: null, limit: null, overlap: 'skip', pauseAfterFailures: 2,
    priority: null, attempts: null, backoff: null, timeoutMs: null, tags: ['a'],
  };

  it('accepts a definition as the gateway stores it, with its task', () => {
    const checked = checkStoredDefinition(stored);
    assert.ok(checked.ok);
    assert.deepEqual(checked.value.definition, stored);
    assert.equal(checked.value.task.name, 'demo.steps');
  });

  it('reads a field the stored JSON lacks as a create request would set it, and a passed `at` as due', () => {
    const { cron: _cron, tags: _tags, ...lacking } = stored;
    const checked = checkStoredDefinition({ ...lacking, every: null, at: '2020-01-01T00:00:00.000Z' });
    assert.ok(checked.ok);
    assert.equal(checked.value.definition.cron, null);
    assert.deepEqual(checked.value.definition.tags, []);
  });

  const broken: [string, unknown, string[]][] = [
    ['an input its task now refuses', { ...stored, input: { steps: 'many', stepMs: 0 } }, ['input.steps']],
    ['a field of the wrong type', { ...stored, tags: 'oops', overlap: 'sometimes' }, ['tags', 'overlap']],
    ['an unknown field', { ...stored, owner: 'x' }, ['owner']],
    ['a task no longer in the catalogue', { ...stored, task: 'demo.gone' }, ['task']],
    ['an unknown time zone', { ...stored, every: null, cron: '0 * * * *', tz: 'Mars/Olympus' }, ['tz']],
    ['two triggers', { ...stored, cron: '0 * * * *' }, ['every']],
    ['a prototype key', JSON.parse('{"name":"x","task":"demo.noop","input":{"payload":{"constructor":1}}}'), ['input.payload.constructor']],
    ['no object at all', 'nightly', ['(definition)']],
  ];
  for (const [what, definition, paths] of broken) {
    it(`refuses ${what}, naming ${paths.join(', ')}`, () => {
      const checked = checkStoredDefinition(definition);
      assert.ok(!checked.ok);
      assert.deepEqual([...new Set(checked.errors.map((e) => e.path))].sort(), [...paths].sort(), JSON.stringify(checked.errors));
    });
  }
});
