import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NonRetryableError } from '@conveyor/contracts';
import { describeFailure } from './failure.js';

describe('describeFailure', () => {
  it('reports a timeout as a retryable timeout, whatever the handler threw', () => {
    assert.deepEqual(describeFailure(new Error('aborted'), 'timeout', 300), {
      name: 'TimeoutError',
      code: 'timeout',
      message: 'Attempt timed out after 300 ms',
      retryable: true,
    });
  });

  it('keeps a NonRetryableError final, with its code', () => {
    assert.deepEqual(describeFailure(new NonRetryableError('nope', 'bad_thing'), null, null), {
      name: 'NonRetryableError',
      message: 'nope',
      code: 'bad_thing',
      retryable: false,
    });
  });

  it('retries other errors, keeping a string code', () => {
    const error = Object.assign(new TypeError('boom'), { code: 'ECONNRESET' });
    assert.deepEqual(describeFailure(error, null, null), { name: 'TypeError', message: 'boom', code: 'ECONNRESET', retryable: true });
    assert.deepEqual(describeFailure('a string', null, null), { name: 'Error', message: 'a string', retryable: true });
  });
});
