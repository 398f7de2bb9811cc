import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHostAllowed, judgeStatus } from './http-request.handler.js';

describe('http.request rules', () => {
  const allowed = ['api.example.com', '*.internal.example'];
  const hosts: [string, boolean][] = [
    ['api.example.com', true],
    ['API.example.com', true],
    ['svc.internal.example', true],
    ['internal.example', false],
    ['evil-api.example.com', false],
    ['example.com', false],
  ];
  for (const [host, expected] of hosts) {
    it(`${host} is ${expected ? '' : 'not '}allowed`, () => assert.equal(isHostAllowed(host, allowed), expected));
  }
  it('allows nothing by default', () => assert.equal(isHostAllowed('localhost', []), false));

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
