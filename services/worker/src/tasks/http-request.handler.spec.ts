import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeStatus } from './http-request.handler.js';

describe('http.request rules', () => {
  const statuses: [number, number | undefined, string][] = [
    [200, undefined, 'ok'],
    [302, undefined, 'ok'],
    [404, undefined, 'fail'],
    [429, undefined, 'retry'],
    [503, undefined, 'retry'],
    [201, 201, 'ok'],
    [200, 201, 'retry'],
  ];
  for (const [status, expect, verdict] of statuses) {
    it(`status ${status}${expect ? ` expecting ${expect}` : ''} → ${verdict}`, () => assert.equal(judgeStatus(status, expect), verdict));
  }
});
