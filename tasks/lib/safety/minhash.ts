/**
 * MinHash over word 5-grams, in 32-bit integer arithmetic only (Math.imul, `>>> 0`), so every
 * platform gives the same signatures. The npm `minhash` package computes `(a*h+b) % p` in doubles
 * and loses precision (RELIABILITY.md §4.2); this is our own.
 *
 * - base hash: MurmurHash3 x86_32 of the shingle's UTF-16LE code units;
 * - hash i: fmix32(h ^ seed_i), a bijection of the base hash per seed;
 * - seeds: derived from MINHASH_SEED, recorded in the screen manifest;
 * - signature: the minimum of hash i over the shingles, for i < NUM_HASHES;
 * - LSH: BANDS bands of ROWS rows; two texts are candidates when any band is equal.
 */

/** Number of hash functions in a signature. */
export const NUM_HASHES = 112;
/** LSH bands × rows per band (14 × 8 = 112): P(candidate) ≈ 0.92 at Jaccard 0.8, ≈ 0.03 at 0.5. */
export const BANDS = 14;
export const ROWS = 8;
/** Word n-gram size of a shingle. */
export const SHINGLE_WORDS = 5;
/** The fixed constant all seeds derive from (changing it changes every signature). */
export const MINHASH_SEED = 0x5eed_d157;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3's 32-bit finalizer: a bijection with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 x86_32 of bytes (the reference algorithm; tested against published vectors). */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  let h = seed | 0;
  const n = bytes.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    h = mixH(
      h,
      (bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24),
    );
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= (bytes[blocks + 2] as number) << 16;
    if (tail >= 2) k ^= (bytes[blocks + 1] as number) << 8;
    k ^= bytes[blocks] as number;
    h ^= mixK(k);
  }
  h ^= n;
  return fmix32(h);
}

/**
 * MurmurHash3 x86_32 of a string's UTF-16LE bytes, read two code units per block without
 * encoding (equal to `murmur3Bytes(Buffer.from(s, 'utf16le'), seed)`).
 */
export function murmur3String(s: string, seed = 0): number {
  let h = seed | 0;
  const units = s.length;
  const pairs = units & ~1;
  for (let i = 0; i < pairs; i += 2) h = mixH(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  if (units & 1) h ^= mixK(s.charCodeAt(units - 1));
  h ^= units * 2;
  return fmix32(h);
}

/** The per-function seeds, derived from MINHASH_SEED (deterministic). */
export const SEEDS: Uint32Array = (() => {
  const out = new Uint32Array(NUM_HASHES);
  for (let i = 0; i < NUM_HASHES; i++) out[i] = fmix32((MINHASH_SEED + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
  return out;
})();

/** Hash function i of the family, applied to a base hash: fmix32(h ^ seed_i), a bijection per seed. */
export function permute(h: number, i: number): number {
  return fmix32((h ^ (SEEDS[i] as number)) >>> 0);
}

/** Words of a text for shingling: NFC, lowercase, punctuation as space, split on whitespace. */
export function words(text: string): string[] {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '');
}

/**
 * The distinct shingle hashes of a word list, sorted ascending: every window of SHINGLE_WORDS words
 * (a shorter text is one shingle of all its words; an empty one has none). A shingle's hash is
 * MurmurHash3 over the 32-bit hashes of its words, so no shingle string is ever built.
 */
export function shingleHashes(ws: readonly string[]): Uint32Array {
  if (ws.length === 0) return new Uint32Array(0);
  const wh = ws.map((w) => murmur3String(w));
  const width = Math.min(SHINGLE_WORDS, ws.length);
  const n = ws.length - width + 1;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = 0;
    for (let j = 0; j < width; j++) h = mixH(h, wh[i + j] as number);
    out[i] = fmix32(h ^ (width * 4));
  }
  out.sort();
  let u = 0;
  for (let i = 0; i < n; i++) if (i === 0 || out[i] !== out[u - 1]) out[u++] = out[i] as number;
  return out.slice(0, u);
}

/** The MinHash signature of a shingle set (all 0xffffffff for an empty set). */
export function signature(shingles: Uint32Array): Uint32Array {
  const sig = new Uint32Array(NUM_HASHES).fill(0xffffffff);
  const seeds = SEEDS;
  for (let k = 0; k < shingles.length; k++) {
    const h = shingles[k] as number;
    for (let i = 0; i < NUM_HASHES; i++) {
      // permute(h, i), inlined: this loop is the hot path of dedup
      let x = h ^ (seeds[i] as number);
      x ^= x >>> 16;
      x = Math.imul(x, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      x = (x ^ (x >>> 16)) >>> 0;
      if (x < (sig[i] as number)) sig[i] = x;
    }
  }
  return sig;
}

/**
 * The LSH bucket key of each band of a signature: a 53-bit hash of the band's ROWS values, prefixed
 * by the band number. Two different bands colliding only adds a candidate pair, which the exact
 * Jaccard check then rejects.
 */
export function bandKeys(sig: Uint32Array): number[] {
  const keys: number[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h1 = 0x9747b28c + b;
    let h2 = 0x1b873593 + b;
    for (let r = 0; r < ROWS; r++) {
      const v = sig[b * ROWS + r] as number;
      h1 = mixH(h1, v);
      h2 = mixH(h2, v ^ 0x5bd1e995);
    }
    keys.push(fmix32(h1 ^ 32) * 0x200000 + (fmix32(h2 ^ 32) & 0x1fffff));
  }
  return keys;
}

/** Jaccard estimate: the fraction of signature positions that agree. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < NUM_HASHES; i++) if (a[i] === b[i]) eq++;
  return eq / NUM_HASHES;
}

/** Exact Jaccard of two sorted, duplicate-free hash sets (1 for two empty sets). */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  return jaccardAtLeast(a, b, 0); // with t = 0 nothing is ruled out early: the plain merge
}

/**
 * True when two sets of these sizes cannot reach Jaccard `t`: the intersection is at most the
 * smaller size and the union at least the larger, so Jaccard ≤ min / max. (Floating point keeps
 * the order of exact ratios, so `jaccard` of any such sets is < t too.)
 */
export function cannotReach(la: number, lb: number, t: number): boolean {
  const hi = la < lb ? lb : la;
  return hi > 0 && (la < lb ? la : lb) / hi < t;
}

/**
 * `jaccard(a, b)` when it may be ≥ `t`; otherwise some value < t, returned as soon as that is
 * certain. Dedup only needs the exact value of pairs at or over its threshold (98 % of the
 * candidate pairs on the bench corpus are under it): the merge stops once even matching every
 * remaining hash could not reach t, with a margin of one whole hash, so no rounding can make it
 * stop for a pair that `jaccard` puts at or over t. Tested exhaustively on small sets against
 * `jaccard` (this with t = 0, itself tested against a Set-based Jaccard).
 */
export function jaccardAtLeast(a: Uint32Array, b: Uint32Array, t: number): number {
  const la = a.length;
  const lb = b.length;
  if (la === 0 && lb === 0) return 1;
  if (cannotReach(la, lb, t)) return -1;
  // inter / (la + lb − inter) ≥ t  ⇔  inter ≥ t (la + lb) / (1 + t)
  const limit = (t * (la + lb)) / (1 + t) - 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < la && j < lb) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      inter++;
      i++;
      j++;
      continue;
    }
    if (x < y) i++;
    else j++;
    const ra = la - i;
    const rb = lb - j;
    if (inter + (ra < rb ? ra : rb) < limit) return -1;
  }
  return inter / (la + lb - inter);
}
