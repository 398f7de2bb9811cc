import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoSteps, offeredTasks, taskCatalog } from '@conveyor/contracts';
import { fingerprint, isInputTooLarge, validateSubmission } from './submission.js';

const inDays = (days: number) => new Date(Date.now() + days * 24 * 60 * 60 * 1000).toISOString();

describe('validateSubmission', () => {
  it('resolves the task, the validated input and the options', () => {
    const runAt = inDays(30);
    const result = validateSubmission(
      {
        task: 'demo.steps',
        input: { steps: 2, stepMs: 5 },
        priority: 'low',
        runAt,
        backoff: { type: 'fixed', delayMs: 10 },
      },
      taskCatalog,
    );
    assert.ok(result.ok);
    assert.equal(result.value.task, demoSteps);
    assert.deepEqual({ ...result.value.input }, { steps: 2, stepMs: 5 });
    assert.equal(result.value.options.priority, 'low');
    assert.equal(result.value.options.runAt?.toISOString(), runAt);
    assert.deepEqual(result.value.options.backoff, { type: 'fixed', delayMs: 10 });
  });

  it('turns delayMs into a start time', () => {
    const before = Date.now();
    const result = validateSubmission({ task: 'demo.noop', delayMs: 5000 }, taskCatalog);
    assert.ok(result.ok);
    assert.ok(result.value.options.runAt!.getTime() >= before + 5000);
  });

  const invalid: [string, unknown, string[]][] = [
    ['an unknown task', { task: 'nope' }, ['task']],
    ['a task that is not a string, and no input check then', { task: 5, input: { x: 1 } }, ['task']],
    ['envelope and input errors together', { task: 'demo.steps', input: { steps: 0, stepMs: 1 }, attempts: 0 }, ['attempts', 'input.steps']],
    ['an input that is not an object', { task: 'demo.steps', input: 'x' }, ['input']],
    ['delayMs with runAt', { task: 'demo.noop', delayMs: 1, runAt: inDays(1) }, ['runAt']],
    ['a runAt further ahead than delayMs may reach', { task: 'demo.noop', runAt: inDays(367) }, ['runAt']],
    ['an idempotency key in the schedule ticks\' space', { task: 'demo.noop', idempotencyKey: 'sch:x:1' }, ['idempotencyKey']],
    ['a null input', { task: 'demo.noop', input: null }, ['input']],
    ['a timestamp that is not ISO 8601', { task: 'demo.noop', runAt: 'tomorrow' }, ['runAt']],
    ['too many tags', { task: 'demo.noop', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, ['tags']],
    ['a missing task', {}, ['task']],
  ];
  for (const [name, body, paths] of invalid) {
    it(`rejects ${name}`, () => {
      const result = validateSubmission(body, taskCatalog);
      assert.equal(result.ok, false);
      assert.deepEqual(!result.ok && result.errors.map((e) => e.path).sort(), paths);
    });
  }

  it('says a missing field is required, rather than every rule it breaks', () => {
    const result = validateSubmission({ task: 'demo.steps', input: { steps: 0 } }, taskCatalog);
    assert.deepEqual(!result.ok && result.errors, [
      { path: 'input.steps', message: 'must not be less than 1' },
      { path: 'input.stepMs', message: 'is required' },
    ]);
  });

  it('prefixes paths, for batches', () => {
    const result = validateSubmission({ task: 'demo.steps', input: { steps: 0, stepMs: 0 } }, taskCatalog, 'executions[3]');
    assert.deepEqual(!result.ok && result.errors.map((e) => e.path), ['executions[3].input.steps']);
  });

  it('knows only the offered tasks: without the demo tasks, a demo task is unknown', () => {
    const result = validateSubmission({ task: 'demo.noop' }, offeredTasks(false));
    assert.deepEqual(!result.ok && result.errors, [{ path: 'task', message: 'is not a known task (known: http.request)' }]);
    assert.ok(validateSubmission({ task: 'demo.noop' }, offeredTasks(true)).ok);
  });

  it('measures the input against 256 KiB', () => {
    assert.equal(isInputTooLarge({ input: { a: 'x'.repeat(256 * 1024) } }), true);
    assert.equal(isInputTooLarge({ input: { a: 'x' } }), false);
    assert.equal(isInputTooLarge({}), false);
  });
});

describe('fingerprint', () => {
  it('ignores key order and the idempotency key itself, not the values', () => {
    const a = fingerprint({ task: 'demo.steps', input: { steps: 1, stepMs: 2 }, idempotencyKey: 'k1' });
    assert.equal(a, fingerprint({ input: { stepMs: 2, steps: 1 }, task: 'demo.steps' }));
    assert.notEqual(a, fingerprint({ task: 'demo.steps', input: { steps: 2, stepMs: 2 } }));
    assert.notEqual(fingerprint({ tags: ['a', 'b'] }), fingerprint({ tags: ['b', 'a'] }));
  });
});
