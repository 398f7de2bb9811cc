import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ulid } from 'ulid';
import { parseSlotMember, slotMember } from './tenant-slots.js';

describe('slot members', () => {
  it('name an execution and its queue, and come back apart', () => {
    const execution = { id: `exec_${ulid()}`, queue: 'demo' };
    assert.deepEqual(parseSlotMember(slotMember(execution)), execution);
  });

  it('sort by age, so that held executions of equal priority run oldest first', () => {
    const older = slotMember({ id: `exec_${ulid(1_700_000_000_000)}`, queue: 'zeta' });
    const newer = slotMember({ id: `exec_${ulid(1_700_000_000_001)}`, queue: 'alpha' });
    assert.deepEqual([newer, older].sort(), [older, newer]);
  });
});
