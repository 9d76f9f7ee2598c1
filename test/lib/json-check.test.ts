import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRow, relabelBigInteger } from '../../tasks/lib/json-check.ts';

const LIMITS = { maxDepth: 64 };

/** The drop reason for a row that must be refused (fails the test if the row is accepted). */
function reasonOf(text: string): string {
  const r = parseRow(text, LIMITS);
  assert.equal(r.ok, false, `expected ${JSON.stringify(text)} to be refused`);
  return r.ok ? '' : r.drop.reason;
}

test('a plain object is accepted with its value and no flags', () => {
  assert.deepEqual(parseRow('{"a":1,"b":[true,null,"x"],"c":{"d":-1.5}}', LIMITS), {
    ok: true,
    value: { a: 1, b: [true, null, 'x'], c: { d: -1.5 } },
    flags: [],
  });
});

test('surrounding JSON whitespace (including a trailing CR) is accepted', () => {
  assert.deepEqual(parseRow(' \t{"a":1} \r', LIMITS), { ok: true, value: { a: 1 }, flags: [] });
});

test('non-JSON text → JSON_PARSE described by position and character class, not by quoting the text', () => {
  const r = parseRow('not json', LIMITS);
  assert.deepEqual(r, {
    ok: false,
    drop: {
      reason: 'JSON_PARSE',
      detail: 'not valid JSON: unexpected character, at character 1 of 8 (a letter)',
    },
  });
});

test('JSON_PARSE details never copy source bytes: escape sequences, secrets and text show as position + class', () => {
  const cases: Array<[string, RegExp]> = [
    [
      '\u001b]0;pwned\u0007{"a":1}',
      /^not valid JSON: unexpected character, at character 0 of 17 \(control character U\+001B\)$/,
    ],
    [
      '{"a":"\u001b[31mred"}',
      /^not valid JSON: bad control character in string literal, at character 6 of 16 \(control character U\+001B\)$/,
    ],
    ['{"key": sk-live-SECRET}', /^not valid JSON: unexpected character, at character 8 of 23 \(a letter\)$/],
    [
      '{"a":1',
      /^not valid JSON: expected ',' or '}' after property value, at character 6 of 6 \(the end of the text\)$/,
    ],
    [
      '{"a": \u009b[2J}',
      /^not valid JSON: unexpected character, at character 6 of 11 \(control character U\+009B\)$/,
    ],
  ];
  for (const [text, re] of cases) {
    const r = parseRow(text, LIMITS);
    assert.equal(r.ok, false, text);
    if (r.ok) continue;
    assert.match(r.drop.detail, re, JSON.stringify(text));
    // nothing of the row beyond ASCII punctuation reaches the detail
    assert.ok(
      !r.drop.detail.includes('pwned') && !r.drop.detail.includes('SECRET') && !r.drop.detail.includes('red'),
      r.drop.detail,
    );
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.drop.detail, /[\u0000-\u001f\u007f-\u009f]/);
  }
});

test('the empty string → JSON_PARSE', () => {
  assert.equal(reasonOf(''), 'JSON_PARSE');
});

test('JSON that is not an object → NOT_AN_OBJECT naming what it got', () => {
  const cases: Array<[string, string]> = [
    ['[1]', 'an array'],
    ['"s"', 'string'],
    ['1', 'number'],
    ['null', 'null'],
    ['true', 'boolean'],
  ];
  for (const [text, kind] of cases) {
    assert.deepEqual(
      parseRow(text, LIMITS),
      { ok: false, drop: { reason: 'NOT_AN_OBJECT', detail: `expected a JSON object, got ${kind}` } },
      text,
    );
  }
});

test('two values on one line → JSON_TRAILING_DATA', () => {
  assert.deepEqual(parseRow('{"a":1}{"b":2}', LIMITS), {
    ok: false,
    drop: {
      reason: 'JSON_TRAILING_DATA',
      detail: 'not valid JSON: unexpected non-whitespace character after JSON, at character 7 of 14 ("{")',
    },
  });
  assert.equal(reasonOf('{"a":1} x'), 'JSON_TRAILING_DATA');
});

test('JSON5 / JSONC syntax → JSON_PARSE (no lenient parser)', () => {
  for (const text of [
    '{a:1}',
    "{'a':1}",
    '{"a":1,}',
    '{"a":[1,2,]}',
    '{"a":1 /* c */}',
    '// c\n{"a":1}',
    '{"a":0x10}',
    '{"a":.5}',
    '{"a":+1}',
    '{"a":01}',
  ]) {
    assert.equal(reasonOf(text), 'JSON_PARSE', text);
  }
});

test('NaN, Infinity and undefined tokens → JSON_PARSE', () => {
  for (const text of ['{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":undefined}'])
    assert.equal(reasonOf(text), 'JSON_PARSE', text);
});

test('a raw control character inside a string → JSON_PARSE', () => {
  assert.equal(reasonOf('{"s":"a\u0000b"}'), 'JSON_PARSE');
  assert.equal(reasonOf('{"s":"a\tb"}'), 'JSON_PARSE');
});

test('a UTF-8 BOM left in the text → JSON_PARSE', () => {
  assert.equal(reasonOf('\uFEFF{"a":1}'), 'JSON_PARSE');
});

test('duplicate keys with different values → DUPLICATE_KEY', () => {
  assert.deepEqual(parseRow('{"a":1,"a":2}', LIMITS), {
    ok: false,
    drop: {
      reason: 'DUPLICATE_KEY',
      detail: 'object has 1 duplicate key(s); JSON.parse would keep only the last',
    },
  });
});

test('duplicate keys with the same value → DUPLICATE_KEY (strict I-JSON)', () => {
  assert.equal(reasonOf('{"a":1,"a":1}'), 'DUPLICATE_KEY');
});

test('duplicate keys in a nested object, spelled with an escape, or empty → DUPLICATE_KEY', () => {
  assert.equal(reasonOf('{"x":{"b":1,"c":2,"b":3}}'), 'DUPLICATE_KEY');
  assert.equal(reasonOf('{"list":[{"k":1},{"k":2,"k":2}]}'), 'DUPLICATE_KEY');
  assert.equal(reasonOf('{"\\u0061":1,"a":2}'), 'DUPLICATE_KEY');
  assert.equal(reasonOf('{"":1,"":2}'), 'DUPLICATE_KEY');
});

test('the same key in sibling objects and colons inside strings are not duplicates', () => {
  assert.deepEqual(parseRow('{"a":{"b":1},"b":{"b":1},"c":[{"a":1},{"a":1}]}', LIMITS), {
    ok: true,
    value: { a: { b: 1 }, b: { b: 1 }, c: [{ a: 1 }, { a: 1 }] },
    flags: [],
  });
  assert.deepEqual(parseRow('{"k":"a:b","t":"x\\":y","u":"\\\\"}', LIMITS), {
    ok: true,
    value: { k: 'a:b', t: 'x":y', u: '\\' },
    flags: [],
  });
  assert.deepEqual(parseRow('{"arr":["x" , "y"],"s":"q"}', LIMITS), {
    ok: true,
    value: { arr: ['x', 'y'], s: 'q' },
    flags: [],
  });
});

test('an integer beyond 2^53 is read exactly as its decimal string, never rounded, and the row flagged', () => {
  assert.deepEqual(parseRow('{"id":9007199254740993,"n":2,"x":0.5}', LIMITS), {
    ok: true,
    value: { id: '9007199254740993', n: 2, x: 0.5 },
    flags: ['big_integer_as_string'],
  });
  const deep = parseRow('{"a":[1,-9007199254740993,{"b":123456789012345678901234567890}]}', LIMITS);
  assert.deepEqual(deep.ok && deep.value, {
    a: [1, '-9007199254740993', { b: '123456789012345678901234567890' }],
  });
  // duplicate keys are still refused on this path
  assert.equal(reasonOf('{"id":9007199254740993,"id":1}'), 'DUPLICATE_KEY');
});

test('a type drop on a big integer read as a string says UNSAFE_INTEGER', () => {
  const d = {
    reason: 'SCHEMA_TYPE' as const,
    detail: '$.exit_code: Invalid input: expected number, received string',
  };
  assert.deepEqual(relabelBigInteger(d, ['big_integer_as_string']), {
    reason: 'UNSAFE_INTEGER',
    detail:
      'integer at $.exit_code is beyond 2^53: read exactly as a string, it cannot fill this numeric field',
  });
  assert.deepEqual(relabelBigInteger(d, []), d);
});

test('the largest safe integers are accepted exactly', () => {
  assert.deepEqual(parseRow('{"id":9007199254740991,"n":-9007199254740991}', LIMITS), {
    ok: true,
    value: { id: 9007199254740991, n: -9007199254740991 },
    flags: [],
  });
});

test('digits inside strings are not mistaken for unsafe integers', () => {
  assert.deepEqual(parseRow('{"id":"9007199254740993"}', LIMITS), {
    ok: true,
    value: { id: '9007199254740993' },
    flags: [],
  });
});

test('1e400 and -1e400 → NUMBER_OUT_OF_RANGE with the path', () => {
  assert.deepEqual(parseRow('{"x":1e400}', LIMITS), {
    ok: false,
    drop: { reason: 'NUMBER_OUT_OF_RANGE', detail: 'number at $.x is outside the double range' },
  });
  assert.deepEqual(parseRow('{"a":[0,-1e400]}', LIMITS), {
    ok: false,
    drop: { reason: 'NUMBER_OUT_OF_RANGE', detail: 'number at $.a[1] is outside the double range' },
  });
});

test('-0 is accepted, normalised to 0, with the flag negative_zero', () => {
  const r = parseRow('{"x":-0,"y":[-0.0]}', LIMITS);
  // deepStrictEqual compares numbers with Object.is, so this fails if a -0 is left in the value
  assert.deepEqual(r, { ok: true, value: { x: 0, y: [0] }, flags: ['negative_zero'] });
});

test('100000-deep nesting → TOO_DEEP, quickly and without a stack overflow', () => {
  const text = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  const t0 = performance.now();
  const r = parseRow(text, LIMITS);
  const ms = performance.now() - t0;
  assert.deepEqual(r, { ok: false, drop: { reason: 'TOO_DEEP', detail: 'nesting deeper than 64 levels' } });
  assert.ok(ms < 500, `took ${ms.toFixed(1)} ms`);
});

test('nesting exactly at the limit is accepted; one more level is TOO_DEEP', () => {
  const at = (n: number): string => `${'{"a":'.repeat(n - 1)}{}${'}'.repeat(n - 1)}`;
  assert.equal(parseRow(at(64), LIMITS).ok, true);
  assert.equal(reasonOf(at(65)), 'TOO_DEEP');
  assert.equal(parseRow(at(3), { maxDepth: 3 }).ok, true);
  assert.deepEqual(parseRow(at(4), { maxDepth: 3 }), {
    ok: false,
    drop: { reason: 'TOO_DEEP', detail: 'nesting deeper than 3 levels' },
  });
});

test('brackets inside strings do not count toward depth', () => {
  const s = '['.repeat(200);
  assert.deepEqual(parseRow(`{"s":"${s}"}`, LIMITS), { ok: true, value: { s }, flags: [] });
});

test('a lone surrogate in a value or key → LONE_SURROGATE with the path', () => {
  assert.deepEqual(parseRow('{"s":"\\ud800"}', LIMITS), {
    ok: false,
    drop: { reason: 'LONE_SURROGATE', detail: 'string at $.s has a lone UTF-16 surrogate' },
  });
  assert.equal(reasonOf('{"s":"\\udc00x"}'), 'LONE_SURROGATE');
  assert.equal(reasonOf('{"a":["ok","\\ud800x"]}'), 'LONE_SURROGATE');
  assert.deepEqual(parseRow('{"\\ud800":1}', LIMITS), {
    ok: false,
    drop: { reason: 'LONE_SURROGATE', detail: 'string at $ key has a lone UTF-16 surrogate' },
  });
});

test('a well-formed surrogate pair is accepted', () => {
  assert.deepEqual(parseRow('{"s":"\\ud83d\\ude00"}', LIMITS), { ok: true, value: { s: '😀' }, flags: [] });
});

test('an escaped NUL → NUL_IN_STRING with the path', () => {
  assert.deepEqual(parseRow('{"s":"x\\u0000y"}', LIMITS), {
    ok: false,
    drop: { reason: 'NUL_IN_STRING', detail: 'string at $.s contains an escaped NUL (\\u0000)' },
  });
  assert.equal(reasonOf('{"k\\u0000":1}'), 'NUL_IN_STRING');
});

test('__proto__, constructor and prototype keys → FORBIDDEN_KEY, at any depth', () => {
  assert.deepEqual(parseRow('{"__proto__":{"polluted":true}}', LIMITS), {
    ok: false,
    drop: { reason: 'FORBIDDEN_KEY', detail: 'key "__proto__" at $ is not allowed (prototype pollution)' },
  });
  assert.equal(reasonOf('{"constructor":{"prototype":{}}}'), 'FORBIDDEN_KEY');
  assert.equal(reasonOf('{"prototype":1}'), 'FORBIDDEN_KEY');
  assert.deepEqual(parseRow('{"a":[{"__proto__":1}]}', LIMITS), {
    ok: false,
    drop: {
      reason: 'FORBIDDEN_KEY',
      detail: 'key "__proto__" at $.a[0] is not allowed (prototype pollution)',
    },
  });
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('forbidden words as string values are fine', () => {
  assert.deepEqual(parseRow('{"k":"__proto__","c":"constructor"}', LIMITS), {
    ok: true,
    value: { k: '__proto__', c: 'constructor' },
    flags: [],
  });
});

test('U+2028 / U+2029 inside a string are accepted, raw or escaped', () => {
  assert.deepEqual(parseRow('{"s":"a\u2028b\u2029c"}', LIMITS), {
    ok: true,
    value: { s: 'a\u2028b\u2029c' },
    flags: [],
  });
  assert.deepEqual(parseRow('{"s":"a\\u2028b"}', LIMITS), { ok: true, value: { s: 'a\u2028b' }, flags: [] });
});

test('the empty object is accepted', () => {
  assert.deepEqual(parseRow('{}', LIMITS), { ok: true, value: {}, flags: [] });
});

test('long fractions and exponents are not mistaken for unsafe integers', () => {
  for (const text of [
    '{"cost":0.0030125000000000004}',
    '{"x":1.00000000000000000001}',
    '{"x":1e-0000000000000000005}',
    '{"x":[0.12345678901234567890,2]}',
  ]) {
    const r = parseRow(text, { maxDepth: 64 });
    assert.equal(r.ok, true, text);
  }
  const big = parseRow('{"x":0.5,"id":12345678901234567890}', { maxDepth: 64 });
  assert.deepEqual(big.ok && big.value, { x: 0.5, id: '12345678901234567890' });
});
