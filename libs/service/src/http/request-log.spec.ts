import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loggedPath } from './request-log.js';

describe('loggedPath', () => {
  const token = 'hkt_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';
  const cases: [string, string][] = [
    ['/v1/executions?status=queued', '/v1/executions'],
    [`/v1/hooks/${token}`, '/v1/hooks/[redacted]'],
    [`/v1/hooks/${token}?x=1`, '/v1/hooks/[redacted]'],
    [`/V1/HOOKS/${token}/`, '/V1/HOOKS/[redacted]'],
    [`/v1//hooks/${token}/extra`, '/v1//hooks/[redacted]'],
    [`/v1/%68ooks/${token}%zz`, '/v1/hooks/[redacted]'],
    ['/v1/schedules/sch_01/hooks/hook_01', '/v1/schedules/sch_01/hooks/hook_01'],
  ];
  for (const [url, logged] of cases) {
    it(`logs ${url} as ${logged}`, () => assert.equal(loggedPath(url), logged));
  }
});
