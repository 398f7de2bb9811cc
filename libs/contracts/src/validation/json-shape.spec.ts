import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonShapeProblems } from './json-shape.js';

const nested = (levels: number, leaf: unknown = 1, wrap: (inner: unknown) => unknown = (inner) => ({ a: inner })) => {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = wrap(value);
  return value;
};

describe('jsonShapeProblems', () => {
  it('accepts ordinary values and nesting up to the limit', () => {
    assert.deepEqual(jsonShapeProblems({ task: 'demo.noop', input: { payload: [1, { b: null }, 'c'] } }), []);
    assert.deepEqual(jsonShapeProblems(nested(64)), []);
    assert.deepEqual(jsonShapeProblems(nested(64, 1, (inner) => [inner])), []);
    assert.deepEqual(jsonShapeProblems('text'), []);
    assert.deepEqual(jsonShapeProblems(null), []);
  });

  const cases: { name: string; value: unknown; prefix?: string; problems: { path: string; message: string }[] }[] = [
    {
      name: 'refuses objects nested deeper than 64 levels, naming the first level too deep',
      value: nested(65),
      problems: [{ path: `a${'.a'.repeat(63)}`, message: 'is nested deeper than 64 levels' }],
    },
    {
      name: 'refuses arrays nested deeper than 64 levels',
      value: { x: nested(64, 1, (inner) => [inner]) },
      problems: [{ path: `x${'[0]'.repeat(63)}`, message: 'is nested deeper than 64 levels' }],
    },
    {
      name: 'names a constructor key at any depth by its path',
      value: { input: { payload: { list: [{}, { constructor: 1 }] } } },
      problems: [{ path: 'input.payload.list[1].constructor', message: 'is a reserved name: __proto__, constructor and prototype are refused' }],
    },
    {
      name: 'sees the own __proto__ key JSON.parse creates, and prototype, under a prefix',
      value: JSON.parse('{"headers":{"__proto__":{"x":"1"}},"prototype":2}'),
      prefix: 'executions[2].input',
      problems: [
        { path: 'executions[2].input.headers.__proto__', message: 'is a reserved name: __proto__, constructor and prototype are refused' },
        { path: 'executions[2].input.prototype', message: 'is a reserved name: __proto__, constructor and prototype are refused' },
      ],
    },
  ];
  for (const { name, value, prefix, problems } of cases) {
    it(name, () => {
      const found = jsonShapeProblems(value, { pathPrefix: prefix });
      assert.deepEqual(new Set(found.map((p) => JSON.stringify(p))), new Set(problems.map((p) => JSON.stringify(p))));
    });
  }

  it('walks 100,000 levels without overflowing the stack, and stops at the limit', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    assert.equal(jsonShapeProblems(deep)[0].message, 'is nested deeper than 64 levels');
  });

  it('takes binary data for a leaf', () => {
    assert.deepEqual(jsonShapeProblems({ data: Buffer.alloc(1024 * 1024), raw: new ArrayBuffer(8) }), []);
  });

  it('stops after `max` problems', () => {
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, { constructor: i }]));
    assert.equal(jsonShapeProblems(many, { max: 3 }).length, 3);
  });
});
