import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bandKeys,
  BANDS,
  cannotReach,
  estimateJaccard,
  jaccard,
  jaccardAtLeast,
  murmur3Bytes,
  murmur3String,
  NUM_HASHES,
  ROWS,
  SEEDS,
  shingleHashes,
  signature,
  words,
} from '../../tasks/lib/safety/minhash.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('murmur3Bytes matches the published MurmurHash3 x86_32 vectors', () => {
  assert.equal(murmur3Bytes(utf8(''), 0), 0);
  assert.equal(murmur3Bytes(utf8(''), 1), 0x514e28b7);
  assert.equal(murmur3Bytes(utf8('hello'), 0), 0x248bfa47);
  assert.equal(murmur3Bytes(utf8('test'), 0x9747b28c), 0x704b81dc);
  assert.equal(murmur3Bytes(utf8('The quick brown fox jumps over the lazy dog'), 0), 0x2e4ff723);
});

test('murmur3String is murmur3 of the UTF-16LE bytes, for any string', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary' }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (s, seed) => murmur3String(s, seed) === murmur3Bytes(Buffer.from(s, 'utf16le'), seed),
    ),
  );
});

test('the seeds are fixed (changing them changes every signature): 112 distinct uint32 values', () => {
  assert.equal(SEEDS.length, NUM_HASHES);
  assert.equal(new Set(SEEDS).size, NUM_HASHES);
  assert.equal(BANDS * ROWS, NUM_HASHES);
  assert.deepEqual(
    Array.from(SEEDS.slice(0, 3)),
    Array.from(SEEDS.slice(0, 3)).map((x) => x >>> 0),
  );
  assert.deepEqual(
    signature(shingleHashes(words('a b c d e f g'))),
    signature(shingleHashes(words('A b, c d e f g!'))),
  );
});

/** A seeded random set of uint32 values. */
function randomSets(seed: number, size: number, overlap: number): [Uint32Array, Uint32Array] {
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const common = Array.from({ length: overlap }, next);
  const a = new Set([...common, ...Array.from({ length: size - overlap }, next)]);
  const b = new Set([...common, ...Array.from({ length: size - overlap }, next)]);
  return [Uint32Array.from(a).sort(), Uint32Array.from(b).sort()];
}

/** Brute-force Jaccard with Sets, independent of the merge in `jaccard`. */
function bruteJaccard(a: Uint32Array, b: Uint32Array): number {
  const A = new Set(a);
  const B = new Set(b);
  const inter = [...A].filter((x) => B.has(x)).length;
  return inter / new Set([...A, ...B]).size;
}

test('jaccard is exact; the MinHash estimate tracks it on random sets (mean error < 0.04, unbiased)', () => {
  let err = 0;
  let bias = 0;
  const n = 300;
  for (let t = 0; t < n; t++) {
    const size = 40 + ((t * 37) % 400);
    const [a, b] = randomSets(t + 1, size, (t * 13) % (size + 1));
    const exact = bruteJaccard(a, b);
    assert.equal(jaccard(a, b), exact);
    const est = estimateJaccard(signature(a), signature(b));
    err += Math.abs(est - exact);
    bias += est - exact;
  }
  assert.ok(err / n < 0.04, `mean abs error ${err / n}`);
  assert.ok(Math.abs(bias / n) < 0.01, `bias ${bias / n}`);
});

test('LSH 14×8: identical texts share every band; unrelated texts share none', () => {
  const text =
    'the refund goes to your original payment method within five to seven business days after we receive the item';
  const a = bandKeys(signature(shingleHashes(words(text))));
  assert.deepEqual(bandKeys(signature(shingleHashes(words(text.toUpperCase())))), a);
  const other = bandKeys(
    signature(
      shingleHashes(
        words('a completely different sentence about the weather in the mountains this week and next'),
      ),
    ),
  );
  assert.equal(a.filter((k) => other.includes(k)).length, 0);
});

test('shingles are word 5-grams; a text shorter than 5 words is one shingle', () => {
  assert.equal(shingleHashes(words('one two three four five six')).length, 2);
  assert.equal(shingleHashes(words('one two three')).length, 1);
  assert.equal(shingleHashes(words('')).length, 0);
  assert.deepEqual(words('Héllo,  WORLD! x_y 42'), ['héllo', 'world', 'x', 'y', '42']);
});

/** Two sorted sets of sizes la, lb sharing `inter` values, the shared ones placed by `seed` among the rest. */
function arranged(la: number, lb: number, inter: number, seed: number): [Uint32Array, Uint32Array] {
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const pool = new Set<number>();
  while (pool.size < la + lb - inter) pool.add(next() % 10_000);
  const values = [...pool];
  const common = values.slice(0, inter);
  const a = Uint32Array.from([...common, ...values.slice(inter, la)]).sort();
  const b = Uint32Array.from([...common, ...values.slice(la, la + lb - inter)]).sort();
  return [a, b];
}

test('jaccardAtLeast decides every pair as jaccard does (exhaustive small sizes, exact-threshold cases included) and returns its value when ≥ t', () => {
  let early = 0;
  let cases = 0;
  for (const t of [0.8, 0.5, 0.9, 2 / 3]) {
    for (let la = 0; la <= 24; la++) {
      for (let lb = 0; lb <= 24; lb++) {
        for (let inter = 0; inter <= Math.min(la, lb); inter++) {
          for (const seed of [1, 2, 3]) {
            const [a, b] = arranged(la, lb, inter, seed * 7919 + la * 31 + lb);
            const exact = jaccard(a, b);
            const fast = jaccardAtLeast(a, b, t);
            cases++;
            assert.equal(
              fast >= t,
              exact >= t,
              `t ${t}, sizes ${la}/${lb}, overlap ${inter}: ${fast} vs ${exact}`,
            );
            if (exact >= t) assert.equal(fast, exact);
            else if (fast !== exact) early++;
            if (cannotReach(la, lb, t))
              assert.ok(exact < t, `cannotReach(${la}, ${lb}, ${t}) but jaccard ${exact}`);
          }
        }
      }
    }
  }
  assert.ok(early > cases / 4, `the early exit should cut many merges short (${early} of ${cases})`);
  // exactly on the threshold: 8 shared of 9 + 9 is 8 / 10
  const [a, b] = arranged(9, 9, 8, 5);
  assert.equal(jaccard(a, b), 0.8);
  assert.equal(jaccardAtLeast(a, b, 0.8), 0.8);
});
