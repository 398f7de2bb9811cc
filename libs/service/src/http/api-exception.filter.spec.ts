import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpException, NotFoundException } from '@nestjs/common';
import { errorCodes } from 'fastify';
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
import { fromDomainError, fromHttpException } from './api-exception.filter.js';

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

describe('fromHttpException', () => {
  // As Nest hands Fastify's refusals on: an HTTP exception of the same status, the refusal its cause.
  const wrapped = (error: Error & { statusCode?: number }) => new HttpException(error.message, error.statusCode!, { cause: error });
  const cases: [string, HttpException, object][] = [
    ['a malformed percent-escape', wrapped(new errorCodes.FST_ERR_BAD_URL('/%zz')), { statusCode: 400, code: 'invalid_path', message: 'The request path holds a malformed percent-escape.' }],
    ['a body over the limit', wrapped(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE()), { statusCode: 413, code: 'payload_too_large', message: 'The request body is larger than 1 MiB.' }],
    [
      'a Content-Type that is no media type',
      wrapped(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE()),
      { statusCode: 415, code: 'unsupported_media_type', message: 'The Content-Type header is not a valid media type.' },
    ],
    [
      'a body shorter than its Content-Length',
      wrapped(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH()),
      { statusCode: 400, code: 'bad_request', message: 'The request body does not match its Content-Length.' },
    ],
    ['an unknown route', new NotFoundException('Cannot GET /nothing'), { statusCode: 404, code: 'not_found', message: 'No such endpoint.' }],
    ['any other refusal', new HttpException('Method not allowed', 405), { statusCode: 405, code: 'bad_request', message: 'Method not allowed' }],
  ];
  for (const [what, exception, body] of cases) {
    it(`answers ${what} as the contract's error body`, () => {
      assert.deepEqual(fromHttpException(exception).toBody(), body);
    });
  }
});
