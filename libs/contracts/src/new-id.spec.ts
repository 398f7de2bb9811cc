import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isId } from './ids.js';
import { newId } from './new-id.js';

describe('newId', () => {
  it('makes ids of each kind’s format, unique and in the order made, across many pool refills', () => {
    const ids = Array.from({ length: 5_000 }, () => newId('execution'));
    assert.ok(ids.every((id) => isId('execution', id)));
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    assert.ok(isId('schedule', newId('schedule')) && isId('apiKey', newId('apiKey')));
  });

  it('spreads the random part over the whole alphabet', () => {
    // The random part of an id made in a new millisecond comes straight from the pool (later ones in
    // the same millisecond count up from it): 600 such first characters miss one of 32 once in millions.
    const seen = new Set<string>();
    for (let i = 0; i < 600 && seen.size < 32; i++) {
      const started = Date.now();
      while (Date.now() === started);
      seen.add(newId('execution').charAt('exec_'.length + 10));
    }
    assert.equal(seen.size, 32);
  });
});
