import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ExecutionNotFoundError,
  ExecutionStateError,
  IdempotencyConflictError,
  InvalidFieldsError,
  ScheduleDefinitionError,
  ScheduleNotFoundError,
  ScheduleStateError,
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
});
