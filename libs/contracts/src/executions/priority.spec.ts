import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPriority, priorityNumber } from './priority.js';

describe('priorities', () => {
  const valid: [unknown, number][] = [['critical', 1], ['high', 10], ['normal', 100], ['low', 1000], [1, 1], [2_097_151, 2_097_151]];
  for (const [priority, number] of valid) {
    it(`${JSON.stringify(priority)} is BullMQ priority ${number}`, () => {
      assert.ok(isPriority(priority));
      assert.equal(priorityNumber(priority as never), number);
    });
  }
  for (const invalid of ['urgent', 0, -1, 2_097_152, 1.5, '10', null, 'toString']) {
    it(`${JSON.stringify(invalid)} is not a priority`, () => assert.equal(isPriority(invalid), false));
  }
});
