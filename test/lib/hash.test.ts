import { test } from 'node:test';
import assert from 'node:assert/strict';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson } from '../../tasks/lib/hash.ts';

test('canonicalJson gives the canonicalize package bytes for any JSON value', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      assert.equal(canonicalJson(v), canonicalize(v));
    }),
    { numRuns: 2000 },
  );
});

test('canonicalJson sorts keys by UTF-16 code units and formats numbers as ECMAScript does', () => {
  const v = {
    z: null,
    b: 1,
    a: [1e21, 1.5, -0, 'x'],
    é: 1,
    '\u{1F600}': true,
    '10': 2,
    '9': 3,
    nested: { y: undefined, x: [undefined] },
  };
  assert.equal(
    canonicalJson(v),
    '{"10":2,"9":3,"a":[1e+21,1.5,0,"x"],"b":1,"nested":{"x":[null]},"z":null,"é":1,"\u{1F600}":true}',
  );
  assert.equal(canonicalJson(v), canonicalize(v));
});

test('canonicalJson refuses what the reference refuses, with its message', () => {
  assert.throws(() => canonicalJson({ a: '\ud800' }), /Lone surrogate is not allowed/);
  assert.throws(() => canonicalJson([Number.NaN]), /NaN is not allowed/);
  assert.throws(() => canonicalJson({ a: Infinity }), /Infinity is not allowed/);
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  assert.throws(() => canonicalJson(cyclic), /Circular reference detected/);
});

test('canonicalJson honours toJSON like the reference', () => {
  const v = { when: new Date(Date.UTC(2026, 0, 2)), list: [{ toJSON: () => ({ b: 2, a: 1 }) }] };
  assert.equal(canonicalJson(v), canonicalize(v));
  assert.equal(canonicalJson(v), '{"list":[{"a":1,"b":2}],"when":"2026-01-02T00:00:00.000Z"}');
});
