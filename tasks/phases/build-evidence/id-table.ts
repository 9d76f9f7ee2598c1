/**
 * A set of evidence ids (`ev_` + 24 hex digits, i.e. 96 bits) with two small numbers per id, in
 * typed arrays: about 20 bytes an id instead of a Map's ~150, for the one global table
 * build-evidence keeps (the duplicate check needs every id seen so far). Open addressing, linear
 * probing, doubled at half load. Any other id shape goes to a plain Map, so nothing is lost.
 */
export class IdTable {
  private keys = new Uint32Array(3 * 1024);
  private vals = new Uint32Array(2 * 1024);
  private used = new Uint8Array(1024);
  private count = 0;
  private readonly other = new Map<string, [number, number]>();

  /** Ids stored. */
  get size(): number {
    return this.count + this.other.size;
  }

  private static parse(id: string): [number, number, number] | null {
    if (id.length !== 27 || !id.startsWith('ev_') || !/^[0-9a-f]{24}$/.test(id.slice(3))) return null;
    return [
      parseInt(id.slice(3, 11), 16) >>> 0,
      parseInt(id.slice(11, 19), 16) >>> 0,
      parseInt(id.slice(19, 27), 16) >>> 0,
    ];
  }

  private slot(k: [number, number, number]): number {
    const mask = this.used.length - 1;
    let s = (k[0] ^ Math.imul(k[1], 0x9e3779b1) ^ k[2]) & mask;
    while (
      this.used[s] &&
      !(this.keys[3 * s] === k[0] && this.keys[3 * s + 1] === k[1] && this.keys[3 * s + 2] === k[2])
    )
      s = (s + 1) & mask;
    return s;
  }

  /** The two numbers stored with `id`, or undefined. */
  get(id: string): [number, number] | undefined {
    const k = IdTable.parse(id);
    if (!k) return this.other.get(id);
    const s = this.slot(k);
    return this.used[s] ? [this.vals[2 * s] as number, this.vals[2 * s + 1] as number] : undefined;
  }

  /** Stores (or replaces) the numbers of `id` (each a uint32). */
  set(id: string, a: number, b: number): void {
    const k = IdTable.parse(id);
    if (!k) {
      this.other.set(id, [a, b]);
      return;
    }
    if ((this.count + 1) * 2 > this.used.length) this.grow();
    const s = this.slot(k);
    if (!this.used[s]) {
      this.used[s] = 1;
      this.count++;
      this.keys[3 * s] = k[0];
      this.keys[3 * s + 1] = k[1];
      this.keys[3 * s + 2] = k[2];
    }
    this.vals[2 * s] = a;
    this.vals[2 * s + 1] = b;
  }

  /** Ids of another shape (kept in a plain Map, which `arrays` does not carry). */
  get otherIds(): number {
    return this.other.size;
  }

  /** The table's arrays as they are (for persisting it; see `fromArrays`). Ids of another shape are not in them. */
  arrays(): { keys: Uint32Array; vals: Uint32Array; used: Uint8Array; count: number } {
    return { keys: this.keys, vals: this.vals, used: this.used, count: this.count };
  }

  /** A table from the arrays of `arrays()` (taken over, not copied). */
  static fromArrays(
    keys: Uint32Array<ArrayBuffer>,
    vals: Uint32Array<ArrayBuffer>,
    used: Uint8Array<ArrayBuffer>,
  ): IdTable {
    const n = used.length;
    if (n < 1024 || (n & (n - 1)) !== 0 || keys.length !== 3 * n || vals.length !== 2 * n)
      throw new Error('IdTable.fromArrays: arrays of the wrong size');
    const t = new IdTable();
    t.keys = keys;
    t.vals = vals;
    t.used = used;
    let count = 0;
    for (let s = 0; s < n; s++) if (used[s]) count++;
    t.count = count;
    return t;
  }

  /**
   * Rewrites the two numbers of every id (of the typed arrays) with `fn`; an id for which it
   * returns null is removed (the table is then rebuilt without it).
   */
  remap(fn: (a: number, b: number) => [number, number] | null): void {
    const { keys, vals, used } = this;
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
    if (!removed) return;
    this.keys = new Uint32Array(keys.length);
    this.vals = new Uint32Array(vals.length);
    this.used = new Uint8Array(used.length);
    this.count = 0;
    for (let s = 0; s < used.length; s++) {
      if (used[s] !== 1) continue;
      const t = this.slot([keys[3 * s] as number, keys[3 * s + 1] as number, keys[3 * s + 2] as number]);
      this.used[t] = 1;
      this.count++;
      this.keys.set(keys.subarray(3 * s, 3 * s + 3), 3 * t);
      this.vals.set(vals.subarray(2 * s, 2 * s + 2), 2 * t);
    }
  }

  private grow(): void {
    const { keys, vals, used } = this;
    const n = used.length * 2;
    this.keys = new Uint32Array(3 * n);
    this.vals = new Uint32Array(2 * n);
    this.used = new Uint8Array(n);
    for (let s = 0; s < used.length; s++) {
      if (!used[s]) continue;
      const t = this.slot([keys[3 * s] as number, keys[3 * s + 1] as number, keys[3 * s + 2] as number]);
      this.used[t] = 1;
      this.keys.set(keys.subarray(3 * s, 3 * s + 3), 3 * t);
      this.vals.set(vals.subarray(2 * s, 2 * s + 2), 2 * t);
    }
  }
}
