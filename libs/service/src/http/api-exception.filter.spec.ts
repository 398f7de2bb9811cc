import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BatchExceedsLimitError,
  ExecutionNotFoundError,
  ExecutionStateError,
  IdempotencyConflictError,
  InvalidFieldsError,
  ScheduleDefinitionError,
  ScheduleNotFoundError,
  ScheduleStateError,
  TenantLimitError,
  type DomainError,
} from '@conveyor/contracts';
import { fromDomainError } from './api-exception.filter.js';

describe('fromDomainError', () => {
  const id = 'exec_01M862CJRHAMBFM3S2NG72JCRG';
  const cases: [DomainError, object][] = [
    [new ExecutionNotFoundError(id), { statusCode: 404, code: 'not_found', message: `Execution ${id} was not found.` }],
    [new ScheduleNotFoundError('sch_1'), { statusCode: 404, code: 'not_found', message: 'Schedule sch_1 was not found.' }],
    [new ExecutionStateError('already_terminal', 'ended'), { statusCode: 409, code: 'already_terminal', message: 'ended' }],
    [new ExecutionStateError('not_paused', 'running'), { statusCode: 409, code: 'not_paused', message: 'running' }],
    [new IdempotencyConflictError('used'), { statusCode: 409, code: 'idempotency_conflict', message: 'used' }],
    [new ScheduleStateError('name_taken', 'taken'), { statusCode: 409, code: 'name_taken', message: 'taken' }],
    [
      new ScheduleDefinitionError('sch_1', [{ path: 'task', message: 'is not a known task' }]),
      { statusCode: 409, code: 'invalid_schedule', message: 'Schedule sch_1 no longer validates: task: is not a known task' },
    ],
    [
      new BatchExceedsLimitError('submitsPerSecond', 5, 6),
      { statusCode: 400, code: 'batch_exceeds_limit', message: "6 executions at once can never fit the tenant's submitsPerSecond of 5: send them in smaller batches." },
    ],
    [new TenantLimitError('rate_limited', 'slow down', 1, { limit: 5, remaining: 0, resetSeconds: 1 }), { statusCode: 429, code: 'rate_limited', message: 'slow down' }],
    [
      new InvalidFieldsError([{ path: 'cursor', message: 'must be a cursor from a previous page' }]),
      {
        statusCode: 400,
        code: 'validation_failed',
        message: 'The request is invalid: check cursor.',
        details: [{ path: 'cursor', message: 'must be a cursor from a previous page' }],
      },
    ],
  ];
  for (const [error, body] of cases) {
    it(`answers ${error.name} (${error.code}) as the contract's error body`, () => {
      assert.deepEqual(fromDomainError(error).toBody(), body);
    });
  }

  it('tells a refusal by a tenant limit when to try again, and the state of that limit', () => {
    const error = fromDomainError(new TenantLimitError('quota_exceeded', 'enough for today', 3600, { limit: 100, remaining: 0, resetSeconds: 3600 }));
    assert.deepEqual(error.headers, { 'Retry-After': '3600', 'RateLimit-Limit': '100', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '3600' });
  });
});
