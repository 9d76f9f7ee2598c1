/**
 * A set of evidence ids (`ev_` + 24 hex digits, i.e. 96 bits) with two small numbers per id, in
 * typed arrays: about 20 bytes an id instead of a Map's ~150, for the one global table
 * build-evidence keeps (the duplicate check needs every id seen so far). Any other id shape goes
 * to a plain Map, so nothing is lost.
 *
 * The table is 256 parts chosen by an id's first byte, each an open-addressing table (linear
 * probing) grown by 1/4 when 80 % full. Before, one table doubled at half load: at 1M ids it had
 * 2 Mi slots (42 MB, 48 % used) and doubling it held the old arrays and the new ones at once
 * (63 MB), against ~8 MB at 100k: the phase's peak RSS grew with the corpus. Small parts grow by
 * small steps, so the table stays ~72 % used and a growth step copies 1/256 of it.
 */

/** Parts of the table (by the id's first byte). */
export const ID_PARTS = 256;
const FIRST_SLOTS = 16;

/** One part's arrays: per slot 3 key words, 2 values and a used flag. */
export interface IdPart {
  keys: Uint32Array<ArrayBuffer>;
  vals: Uint32Array<ArrayBuffer>;
  used: Uint8Array<ArrayBuffer>;
}

interface Part extends IdPart {
  count: number;
}

const emptyPart = (n: number): Part => ({
  keys: new Uint32Array(3 * n),
  vals: new Uint32Array(2 * n),
  used: new Uint8Array(n),
  count: 0,
});

type Key = [number, number, number];

function slotIn(p: IdPart, k: Key): number {
  const n = p.used.length;
  // the hash scaled to [0, n) (Lemire's multiply-shift range reduction: n need not be a power of two)
  let s = Math.floor((((k[0] ^ Math.imul(k[1], 0x9e3779b1) ^ k[2]) >>> 0) * n) / 4294967296);
  while (p.used[s] && !(p.keys[3 * s] === k[0] && p.keys[3 * s + 1] === k[1] && p.keys[3 * s + 2] === k[2]))
    s = s + 1 === n ? 0 : s + 1;
  return s;
}

/** A part may hold ids in at most this share of its slots (linear probing stays short). */
const FULL = 0.8;
/** A full part grows by this factor: its slots stay 64–80 % used, a grown table ~72 %. */
const GROWTH = 1.25;

/** Copies every used slot of `from` (used flag 1) into the empty part `to`. */
function rehash(from: IdPart, to: Part): void {
  const { keys, vals, used } = from;
  for (let s = 0; s < used.length; s++) {
    if (used[s] !== 1) continue;
    const t = slotIn(to, [keys[3 * s] as number, keys[3 * s + 1] as number, keys[3 * s + 2] as number]);
    to.used[t] = 1;
    to.count++;
    to.keys.set(keys.subarray(3 * s, 3 * s + 3), 3 * t);
    to.vals.set(vals.subarray(2 * s, 2 * s + 2), 2 * t);
  }
}

export class IdTable {
  private parts: Part[] = Array.from({ length: ID_PARTS }, () => emptyPart(FIRST_SLOTS));
  private readonly other = new Map<string, [number, number]>();

  /** Ids stored. */
  get size(): number {
    let n = this.other.size;
    for (const p of this.parts) n += p.count;
    return n;
  }

  private static parse(id: string): Key | null {
    if (id.length !== 27 || !id.startsWith('ev_') || !/^[0-9a-f]{24}$/.test(id.slice(3))) return null;
    return [
      parseInt(id.slice(3, 11), 16) >>> 0,
      parseInt(id.slice(11, 19), 16) >>> 0,
      parseInt(id.slice(19, 27), 16) >>> 0,
    ];
  }

  private partOf(k: Key): Part {
    return this.parts[k[0] >>> 24] as Part;
  }

  /** The two numbers stored with `id`, or undefined. */
  get(id: string): [number, number] | undefined {
    const k = IdTable.parse(id);
    if (!k) return this.other.get(id);
    const p = this.partOf(k);
    const s = slotIn(p, k);
    return p.used[s] ? [p.vals[2 * s] as number, p.vals[2 * s + 1] as number] : undefined;
  }

  /** Stores (or replaces) the numbers of `id` (each a uint32). */
  set(id: string, a: number, b: number): void {
    const k = IdTable.parse(id);
    if (!k) {
      this.other.set(id, [a, b]);
      return;
    }
    let p = this.partOf(k);
    if (p.count + 1 > p.used.length * FULL) {
      const bigger = emptyPart(Math.ceil(p.used.length * GROWTH));
      rehash(p, bigger);
      this.parts[k[0] >>> 24] = p = bigger;
    }
    const s = slotIn(p, k);
    if (!p.used[s]) {
      p.used[s] = 1;
      p.count++;
      p.keys[3 * s] = k[0];
      p.keys[3 * s + 1] = k[1];
      p.keys[3 * s + 2] = k[2];
    }
    p.vals[2 * s] = a;
    p.vals[2 * s + 1] = b;
  }

  /** Ids of another shape (kept in a plain Map, which `arrays` does not carry). */
  get otherIds(): number {
    return this.other.size;
  }

  /** The parts' arrays as they are, in part order (for persisting it; see `fromParts`). Ids of another shape are not in them. */
  arrays(): IdPart[] {
    return this.parts.map(({ keys, vals, used }) => ({ keys, vals, used }));
  }

  /** A table from the parts of `arrays()` (taken over, not copied). */
  static fromParts(parts: readonly IdPart[]): IdTable {
    if (parts.length !== ID_PARTS)
      throw new Error(`IdTable.fromParts: ${parts.length} parts, not ${ID_PARTS}`);
    const t = new IdTable();
    t.parts = parts.map(({ keys, vals, used }, i) => {
      const n = used.length;
      if (n < FIRST_SLOTS || keys.length !== 3 * n || vals.length !== 2 * n)
        throw new Error(`IdTable.fromParts: part ${i} has arrays of the wrong size`);
      let count = 0;
      for (let s = 0; s < n; s++) {
        if (used[s] !== 0 && used[s] !== 1)
          throw new Error(`IdTable.fromParts: part ${i} has a bad used flag`);
        if (used[s] === 0) continue;
        count++;
        if ((keys[3 * s] as number) >>> 24 !== i)
          throw new Error(`IdTable.fromParts: an id in part ${i} is not of it`);
      }
      if (count > n * FULL) throw new Error(`IdTable.fromParts: part ${i} is over-full`);
      return { keys, vals, used, count };
    });
    return t;
  }

  /**
   * Rewrites the two numbers of every id (of the typed arrays) with `fn`; an id for which it
   * returns null is removed (its part is then rebuilt without it).
   */
  remap(fn: (a: number, b: number) => [number, number] | null): void {
    this.parts = this.parts.map((p) => {
      const { vals, used } = p;
      let removed = false;
      for (let s = 0; s < used.length; s++) {
        if (!used[s]) continue;
        const r = fn(vals[2 * s] as number, vals[2 * s + 1] as number);
        if (r === null) {
          removed = true;
          used[s] = 2; // dropped below
          continue;
        }
        vals[2 * s] = r[0];
        vals[2 * s + 1] = r[1];
      }
      if (!removed) return p;
      const rebuilt = emptyPart(used.length);
      rehash(p, rebuilt);
      return rebuilt;
    });
  }
}
