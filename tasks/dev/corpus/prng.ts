/**
 * The corpus generator's only source of randomness: a seeded mulberry32 stream. No Math.random,
 * no clock, so one seed always gives the same bytes.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** One key of a weight table, with probability proportional to its weight. */
  weighted<K extends string>(table: Readonly<Record<K, number>>): K {
    const keys = Object.keys(table) as K[];
    let total = 0;
    for (const k of keys) total += table[k];
    let x = this.next() * total;
    for (const k of keys) {
      x -= table[k];
      if (x < 0) return k;
    }
    return keys[keys.length - 1] as K;
  }

  /** n characters drawn from an alphabet. */
  chars(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  /** A new independent stream derived from this one (so sub-generators do not shift each other). */
  fork(salt: number): Rng {
    return new Rng(mix32((this.int(0x100000000) ^ salt) >>> 0));
  }
}

/** murmur3 fmix32: a bijection on 32-bit integers, so distinct inputs give distinct outputs. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** 8 lowercase hex digits of a 32-bit integer. */
export function hex8(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

/**
 * Unique, random-looking ids: the first 8 hex digits are a bijection of the counter (unique for
 * up to 2^32 ids per prefix), the rest depend on the seed.
 */
export class IdMint {
  private counter = 0;

  constructor(private readonly seed: number) {}

  /** The next id with this prefix, e.g. `tr_3f9a…`. */
  next(prefix: string, extraHex = 8): string {
    const c = this.counter++;
    const head = hex8(mix32((c ^ mix32(this.seed)) >>> 0));
    const tail = hex8(mix32((c + this.seed * 31 + 0x9e3779b9) >>> 0)).slice(0, extraHex);
    return `${prefix}${head}${tail}`;
  }
}
