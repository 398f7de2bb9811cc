import fc from 'fast-check';

/** Keys the contract refuses wherever they appear. */
export const reservedKeys = ['__proto__', 'constructor', 'prototype'] as const;

/** The deepest JSON the contract accepts. */
export const maxJsonDepth = 64;

/** Deeper than the contract accepts, with one level of slack for how levels are counted. */
export const isTooDeep = (depth: number) => depth > maxJsonDepth + 1;

/** What the contract looks at in a JSON text, read from the text itself (so generators need no bookkeeping). */
export interface JsonFacts {
  bytes: number;
  depth: number;
  /** Reserved keys used as object keys, escaped spellings included. */
  reservedKeys: string[];
}

/** Depth, size and reserved keys of a JSON text, read without recursion (the text may be thousands deep). */
export function inspectJson(text: string): JsonFacts {
  const found = new Set<string>();
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const after = text.slice(end + 1).trimStart()[0];
      if (after === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if ((reservedKeys as readonly string[]).includes(key)) found.add(key);
      }
      i = end;
    } else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return { bytes: Buffer.byteLength(text), depth: deepest, reservedKeys: [...found] };
}

const quote = (value: string) => JSON.stringify(value);

/** Control, bidi, zero-width and lone-surrogate characters, and look-alikes of numbers and ids. */
const nastyStrings = [
  '', ' ', ' x ', 'a,b', '\u0000', '\u0007\b\f\v', '\r\n', '\u202e', '\u2066evil\u2069', '\u200b', '\ufeff', '\ud800', '\udfff', '\ufffd',
  'toString', 'hasOwnProperty', 'NaN', 'Infinity', '-Infinity', '-0', '1e21', '0x10', ' 1 ', 'null', 'undefined', 'true',
  '__proto__', 'constructor', 'prototype', 'sch:', 'sch:sch_01M000000000000000000000ZZ:1', '*', '../../', '%00', '%zz',
  '${jndi:x}', '<script>', 'demo.noop', 'demo.steps', 'http.request', 'exec_01M000000000000000000000ZZ', 'a:events',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...nastyStrings), weight: 4 },
  { arbitrary: fc.string({ unit: fc.oneof(fc.constantFrom('\u0000', '\u001f', '\u007f', '\u202e', '\u2067', '\ud800', '\ufffe'), fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code))), maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom('x', '\u202e', 'é', '\u0000'), fc.integer({ min: 1_000, max: 100_000 })).map(([c, n]) => c.repeat(n)), weight: 1 },
);

/** Numbers as JSON text: out-of-range, negative zero, overflowing to Infinity, beyond 2^53. */
export const hostileNumberText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom('1e21', '1.5e300', '18446744073709551616', '-0', '1e400', '-1e400', '1e-400', '9007199254740993', '2147483648', '-1', '0', '0.5', '1', '60000', '2097152', '1E+2'),
    weight: 3,
  },
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
);

const scalarText = fc.oneof(hostileString.map(quote), hostileNumberText, fc.constantFrom('null', 'true', 'false'));

/** Field names of the API's bodies, so that generated objects reach past the first checks. */
const knownKeys = [
  'task', 'input', 'payload', 'steps', 'stepMs', 'url', 'method', 'headers', 'body', 'executions', 'priority', 'delayMs',
  'runAt', 'attempts', 'backoff', 'type', 'jitter', 'delaysMs', 'timeoutMs', 'idempotencyKey', 'tags', 'reason', 'name',
  'cron', 'tz', 'at', 'runImmediately', 'startAt', 'endAt', 'limit', 'enabled', 'overlap', 'pauseAfterFailures',
  'status', 'olderThanMs', 'concurrency', 'execution', 'schedule', 'queue', 'tenant', 'since',
];

const keyText = fc.oneof(
  { arbitrary: fc.constantFrom(...knownKeys), weight: 6 },
  { arbitrary: fc.constantFrom(...reservedKeys), weight: 2 },
  { arbitrary: hostileString.filter((s) => s.length < 100), weight: 1 },
).map(quote);

/** Small JSON values of any shape, keys mostly the API's own, reserved keys among them. */
export const jsonTree: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarText, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(keyText, tie('value')), { maxLength: 5 }).map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`),
})).value;

/** An object with a reserved key (`"\u005f_proto__"` too) holding a value, written as text so the key is an own key. */
const reservedKeyObject = fc
  .tuple(fc.constantFrom(...reservedKeys, '\\u005f_proto__', 'construct\\u006fr'), jsonTree, fc.array(fc.tuple(keyText, jsonTree), { maxLength: 2 }))
  .map(([key, value, rest]) => `{${[`"${key}":${value}`, ...rest.map(([k, v]) => `${k}:${v}`)].join(',')}}`);

/** Arrays, objects or both nested `depth` deep around a value, built without recursion. */
export const deepJson: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('array', 'object', 'mixed'), fc.integer({ min: maxJsonDepth + 16, max: 6_000 }), scalarText)
  .map(([shape, depth, leaf]) => {
    const open = (i: number) => (shape === 'array' || (shape === 'mixed' && i % 2 === 0) ? '[' : '{"a":');
    const close = (i: number) => (open(i) === '[' ? ']' : '}');
    const levels = Array.from({ length: depth }, (_, i) => i);
    return levels.map(open).join('') + leaf + levels.reverse().map(close).join('');
  });

/** Long strings, long arrays and wide objects; a few pass the 1 MiB body limit. */
export const hugeJson: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 10_000, max: 900_000 }).map((n) => quote('x'.repeat(n))),
  fc.integer({ min: 1_100_000, max: 1_300_000 }).map((n) => quote('y'.repeat(n))),
  fc.tuple(scalarText.filter((s) => s.length < 50), fc.integer({ min: 1_000, max: 60_000 })).map(([item, n]) => `[${Array(n).fill(item).join(',')}]`),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
);

/** A hostile value of any kind, as JSON text. */
export const hostileJson: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: jsonTree, weight: 4 },
  { arbitrary: reservedKeyObject, weight: 2 },
  { arbitrary: deepJson, weight: 2 },
  { arbitrary: hugeJson, weight: 1 },
);

/** Valid-looking bodies of the API with a hole, so that a hostile value gets past the first checks. */
const bodyTemplates: ((hole: string) => string)[] = [
  (h) => `{"task":"demo.noop","input":{"payload":${h}}}`,
  (h) => `{"task":"demo.noop","input":${h}}`,
  (h) => `{"task":"demo.steps","input":{"steps":${h},"stepMs":1}}`,
  (h) => `{"task":"http.request","input":{"url":"http://127.0.0.1:9/","headers":${h}},"attempts":1}`,
  (h) => `{"task":"demo.noop","priority":${h}}`,
  (h) => `{"task":"demo.noop","tags":${h}}`,
  (h) => `{"task":"demo.noop","idempotencyKey":${h}}`,
  (h) => `{"task":"demo.noop","delayMs":3600000,"backoff":${h}}`,
  (h) => `{"task":"demo.noop","runAt":${h}}`,
  (h) => `{"executions":[{"task":"demo.noop"},${h}]}`,
  (h) => `{"executions":[{"task":"demo.noop","input":{"payload":${h}}}]}`,
  (h) => `{"executions":${h}}`,
  (h) => `{"name":"fuzz","task":"demo.noop","input":${h}}`,
  (h) => `{"name":${h},"task":"demo.noop"}`,
  (h) => `{"name":"fuzz-cron","task":"demo.noop","cron":${h},"tz":"UTC","enabled":false}`,
  (h) => `{"name":"fuzz-tz","task":"demo.noop","cron":"0 0 1 1 *","tz":${h},"enabled":false}`,
  (h) => `{"enabled":${h}}`,
  (h) => `{"input":{"payload":${h}}}`,
  (h) => `{"reason":${h}}`,
  (h) => `{"status":"completed","olderThanMs":${h}}`,
  (h) => `{"status":${h}}`,
  (h) => `{"concurrency":${h}}`,
];

/** A hostile request body as JSON text: a value on its own, or in the hole of one of the API's bodies. */
export const hostileBody: fc.Arbitrary<string> = fc.oneof(
  hostileJson,
  fc.tuple(fc.constantFrom(...bodyTemplates), hostileJson).map(([template, hole]) => template(hole)),
);
