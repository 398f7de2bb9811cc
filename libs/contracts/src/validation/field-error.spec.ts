import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SubmitExecutionDto } from '../executions/submit-execution.dto.js';
import { DemoStepsInput } from '../tasks/demo-steps.task.js';
import { HttpRequestInput } from '../tasks/http-request.task.js';
import { validateAs } from './field-error.js';

describe('validateAs', () => {
  it('accepts a valid value and returns an instance of the class', () => {
    const result = validateAs(DemoStepsInput, { steps: 3, stepMs: 0 });
    assert.ok(result.ok);
    assert.ok(result.value instanceof DemoStepsInput);
  });

  it('keeps a field declared as a plain object as sent, and still checks it', () => {
    const headers = { accept: 'text/plain' };
    const result = validateAs(HttpRequestInput, { url: 'https://example.com', headers });
    assert.ok(result.ok);
    assert.equal(result.value.headers, headers);
    const bad = validateAs(HttpRequestInput, { url: 'https://example.com', headers: { accept: 1 } });
    assert.deepEqual(!bad.ok && bad.errors, [{ path: 'headers', message: 'must map header names to strings' }]);
  });

  it('still transforms a nested class', () => {
    const result = validateAs(SubmitExecutionDto, { task: 'demo.noop', backoff: { type: 'fixed', delayMs: 1 }, input: { a: 1 } });
    assert.ok(result.ok);
    assert.equal(result.value.backoff?.constructor.name, 'BackoffDto');
  });

  const cases: { name: string; value: unknown; prefix?: string; errors: { path: string; message: string }[] }[] = [
    {
      name: 'names the field under its prefix, without repeating the property',
      value: { steps: 10_001, stepMs: 0 },
      prefix: 'input',
      errors: [{ path: 'input.steps', message: 'must not be greater than 10000' }],
    },
    {
      name: 'rejects unknown fields',
      value: { steps: 1, stepMs: 0, color: 'red' },
      errors: [{ path: 'color', message: 'should not exist' }],
    },
    {
      name: 'paths nested objects',
      value: { task: 'demo.noop', backoff: { type: 'linear', delayMs: -1 } },
      errors: [
        { path: 'backoff.type', message: 'must be one of the following values: exponential, fixed, custom' },
        { path: 'backoff.delayMs', message: 'must not be less than 0' },
      ],
    },
    {
      name: 'says what is wrong with a value that is not an object',
      value: ['a'],
      prefix: 'input',
      errors: [{ path: 'input', message: 'must be an object' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cls = c.value && (c.value as { task?: string }).task ? SubmitExecutionDto : DemoStepsInput;
      const result = validateAs(cls as new () => object, c.value, c.prefix);
      assert.equal(result.ok, false);
      assert.deepEqual(!result.ok && result.errors, c.errors);
    });
  }
});
