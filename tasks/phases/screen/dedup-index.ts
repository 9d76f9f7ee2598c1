import { closeSync, existsSync, openSync, promises as fsp, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { growableF64, growableU32, sizeFor, widened, type Growable } from './growable.ts';
import {
  bandKeys,
  cannotReach,
  jaccardAtLeast,
  shingleHashes,
  signature,
  words,
} from '../../lib/safety/minhash.ts';
import { exactKey } from '../../lib/safety/training-text.ts';
import {
  dayOf,
  duplicateDetail,
  emptyDedupStats,
  NEAR_DUP_JACCARD,
  nearDetail,
  orderKey,
  type DedupStats,
  type DedupUnit,
  type DedupVerdict,
} from './dedup.ts';

/**
 * `findDuplicates` (dedup.ts) for the screen phase: the same time-order rule, the same verdicts,
 * details and stats (tested against it), with a persisted index of the kept units so a build
 * decides only the units at or after the day it re-decides from (`from`).
 *
 * - The index (`KeptIndex`) holds, per kept unit in (recorded_at, id) order: its id, class, exact
 *   key and LSH band keys in memory (a Map of exact keys and an open-addressing table of band keys per class:
 *   about 1 KB a kept unit), a 64-byte sketch of its shingles (`Sketches`: counts per range of hash
 *   values, which bound the intersection of two sets from above, so most candidate pairs under the
 *   threshold are rejected without their shingles), and where its shingle hashes are on disk (read
 *   back through a cache bounded by bytes, `ShingleCache`, to verify a candidate pair's exact Jaccard).
 * - On disk (`<dir>/kept.jsonl`, a JSON array a line, and `<dir>/kept.shingles`) it is two append-only files in that order,
 *   so "the kept units before day T" is a prefix of both: a build loads the prefix before the day it
 *   re-decides from, decides the later units against it, and `persist` cuts the files there and
 *   appends what it kept.
 * - Units to decide are added in any order: shingles go to a scratch file, the rest to an external
 *   sort by (recorded_at, id). Memory: the index, plus the sort's buffer.
 */

/** What dedup needs of one unit, computed once (in screen's per-unit pass). */
export interface DedupFeatures {
  id: string;
  at: string | null;
  cls: string;
  exact: string;
  /** The LSH band keys (integers below 2^53). */
  bands: Float64Array;
  shingles: Uint32Array;
}

/** Band keys as text for the sort lines and the screen cache: base64 of their float64 bytes (no number printing or parsing). */
export function bandsToText(b: Float64Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** The inverse of `bandsToText`. */
export function bandsFromText(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Computes a unit's exact key, body shingle hashes and LSH band keys. */
export function dedupFeatures(u: DedupUnit): DedupFeatures {
  const shingles = shingleHashes(words(u.body));
  return {
    id: u.id,
    at: u.at,
    cls: u.cls,
    exact: exactKey(u),
    bands: Float64Array.from(bandKeys(signature(shingles))),
    shingles,
  };
}

/** Bytes of kept units' shingles kept in memory while deciding (the least recently used go first). */
export const SHINGLE_CACHE_BYTES = 16 * 1024 * 1024;
/** What an entry of the shingle cache costs besides its hashes (object, backing store, list links), counted against the budget. */
const CACHE_ENTRY_BYTES = 128;
/** Ranges of hash values a sketch counts shingles in (the top SKETCH_BITS bits of a hash). */
const SKETCH_BITS = 6;
export const SKETCH_BUCKETS = 1 << SKETCH_BITS;
export const KEPT_META = 'kept.jsonl';
export const KEPT_SHINGLES = 'kept.shingles';

/** Appends bytes to a file through a 1 MiB buffer (synchronous: scratch and cache files only). */
class BinWriter {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  /** Bytes written so far (including buffered). */
  bytes = 0;
  private readonly fd: number;
  constructor(path: string, flags = 'w') {
    this.fd = openSync(path, flags);
  }
  write(data: Uint8Array): void {
    if (this.used + data.length > this.buf.length) this.flush();
    if (data.length > this.buf.length) writeSync(this.fd, data);
    else {
      this.buf.set(data, this.used);
      this.used += data.length;
    }
    this.bytes += data.length;
  }
  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * One sketch a unit, SKETCH_BUCKETS bytes: how many of its shingle hashes fall in each range of
 * values (their top SKETCH_BITS bits). Two sets share at most min(a_i, b_i) hashes in range i, so
 * the sum of those minima bounds their intersection from above, and so their Jaccard: a candidate
 * pair whose bound cannot reach the threshold is under it, whatever its shingles. Counts are bytes,
 * so a sketch bounds only sets of fewer than 256 hashes (`bounds`); a larger set is always verified.
 */
export class Sketches {
  private a = new Uint8Array(SKETCH_BUCKETS * 1024);
  private ready = new Uint8Array(1024);

  /** Counts `shingles` into `out` (SKETCH_BUCKETS bytes; sets under 256 hashes only). */
  static of(shingles: Uint32Array, out: Uint8Array): Uint8Array {
    out.fill(0);
    if (shingles.length < 256)
      for (let k = 0; k < shingles.length; k++) {
        const i = (shingles[k] as number) >>> (32 - SKETCH_BITS);
        out[i] = (out[i] as number) + 1;
      }
    return out;
  }

  /** Whether sketches of sets of these sizes bound their intersection (both under 256 hashes). */
  static bounds(la: number, lb: number): boolean {
    return la < 256 && lb < 256;
  }

  /** Whether entry x's sketch is set. */
  has(x: number): boolean {
    return x < this.ready.length && this.ready[x] === 1;
  }

  /** Sets the sketch of entry `x` from its shingles. */
  set(x: number, shingles: Uint32Array): void {
    if (x >= this.ready.length) {
      const n = sizeFor(this.ready.length, x);
      this.ready = widened(this.ready, n, (k) => new Uint8Array(k));
      this.a = widened(this.a, n * SKETCH_BUCKETS, (k) => new Uint8Array(k));
    }
    Sketches.of(shingles, this.a.subarray(x * SKETCH_BUCKETS, (x + 1) * SKETCH_BUCKETS));
    this.ready[x] = 1;
  }

  /** An upper bound of |A ∩ B| for entry x's set A and the set B that `sketch` counts (both bounded). */
  intersectionAtMost(x: number, sketch: Uint8Array): number {
    const a = this.a;
    const base = x * SKETCH_BUCKETS;
    let sum = 0;
    for (let i = 0; i < SKETCH_BUCKETS; i++) {
      const p = a[base + i] as number;
      const q = sketch[i] as number;
      sum += p < q ? p : q;
    }
    return sum;
  }
}

/**
 * Kept units' shingles in memory, bounded by bytes (SHINGLE_CACHE_BYTES by default), the least
 * recently used evicted first (a list through typed arrays indexed by position: no Map deletes,
 * see FifoQueue). Candidates are spread over the whole history of a class, so a bound by entries
 * (4,096 before) missed most reads once the kept units outgrew it; a budget of bytes keeps the
 * units that are read again and again (the kept units of the templates that recur).
 */
export class ShingleCache {
  // filled to the links' length (no holes: a sparse array can fall back to a dictionary)
  private readonly data: (Uint32Array | undefined)[] = new Array<undefined>(1024).fill(undefined);
  private prev = new Int32Array(1024);
  private next = new Int32Array(1024);
  private head = -1; // most recently used
  private tail = -1; // least recently used
  bytes = 0;
  entries = 0;

  constructor(readonly budget: number = SHINGLE_CACHE_BYTES) {}

  get(x: number): Uint32Array | undefined {
    const s = this.data[x];
    if (s !== undefined && x !== this.head) {
      this.unlink(x);
      this.pushFront(x);
    }
    return s;
  }

  put(x: number, s: Uint32Array): void {
    if (this.data[x] !== undefined) return;
    if (x >= this.prev.length) {
      const n = sizeFor(this.prev.length, x);
      this.prev = widened(this.prev, n, (k) => new Int32Array(k));
      this.next = widened(this.next, n, (k) => new Int32Array(k));
      while (this.data.length < n) this.data.push(undefined);
    }
    this.data[x] = s;
    this.pushFront(x);
    this.entries++;
    this.bytes += s.byteLength + CACHE_ENTRY_BYTES;
    while (this.bytes > this.budget && this.tail !== x) {
      const old = this.tail;
      const o = this.data[old] as Uint32Array;
      this.unlink(old);
      this.data[old] = undefined;
      this.entries--;
      this.bytes -= o.byteLength + CACHE_ENTRY_BYTES;
    }
  }

  private pushFront(x: number): void {
    this.prev[x] = -1;
    this.next[x] = this.head;
    if (this.head >= 0) this.prev[this.head] = x;
    this.head = x;
    if (this.tail < 0) this.tail = x;
  }

  private unlink(x: number): void {
    const p = this.prev[x] as number;
    const n = this.next[x] as number;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }
}

/** An open-addressing multimap from band key (an integer below 2^53) to kept positions. */
class BandTable {
  private cap = 1 << 12;
  private keys = new Float64Array(this.cap).fill(Number.NaN);
  private heads = new Uint32Array(this.cap); // entry number + 1 of the slot's newest entry; 0 = none
  private used = 0;
  private readonly pos = growableU32();
  private readonly next = growableU32();

  private slot(key: number, keys: Float64Array, cap: number): number {
    const h = ((key % 4294967296) ^ Math.floor(key / 4294967296)) >>> 0;
    let s = Math.imul(h, 0x9e3779b1) >>> 0;
    for (;;) {
      s &= cap - 1;
      const k = keys[s] as number;
      if (k === key || k !== k) return s;
      s++;
    }
  }

  add(key: number, p: number): void {
    let s = this.slot(key, this.keys, this.cap);
    if (this.keys[s] !== key) {
      if ((this.used + 1) * 4 > this.cap * 3) {
        this.grow();
        s = this.slot(key, this.keys, this.cap);
      }
      this.keys[s] = key;
      this.used++;
    }
    this.pos.push(p);
    this.next.push(this.heads[s] as number);
    this.heads[s] = this.pos.length; // entry number + 1
  }

  /** Pushes the positions under `key` onto `out`. */
  collect(key: number, out: Growable<Uint32Array>): void {
    const s = this.slot(key, this.keys, this.cap);
    if (this.keys[s] !== key) return;
    for (let e = this.heads[s] as number; e !== 0; e = this.next.a[e - 1] as number)
      out.push(this.pos.a[e - 1] as number);
  }

  private grow(): void {
    const cap = this.cap * 2;
    const keys = new Float64Array(cap).fill(Number.NaN);
    const heads = new Uint32Array(cap);
    for (let s = 0; s < this.cap; s++) {
      const k = this.keys[s] as number;
      if (k !== k) continue;
      const t = this.slot(k, keys, cap);
      keys[t] = k;
      heads[t] = this.heads[s] as number;
    }
    this.cap = cap;
    this.keys = keys;
    this.heads = heads;
  }
}

/** Where a build's index of kept units is on disk, and how much of it is valid (from the screen state). */
export interface IndexFiles {
  dir: string;
  /** Entries and bytes of kept.jsonl and kept.shingles that the last publish wrote. */
  entries: number;
  metaBytes: number;
  shingleBytes: number;
}

/** The kept units before a day, in memory (see the file comment). */
export class KeptIndex {
  readonly exact = new Map<string, number>();
  readonly ids: string[] = [];
  private readonly cls = growableU32();
  private readonly classes = new Map<string, number>();
  /** Shingles: 0 = in the persisted file, 1 = in the scratch file of this build; offset and length in uint32 words. */
  readonly shFile = growableU32();
  readonly shOff = growableF64();
  readonly shLen = growableU32();
  /** A sketch of each kept unit's shingles, set when it is kept if its shingles were read to decide it, else when first needed. */
  readonly sketches = new Sketches();
  /** The band keys of each class's kept units (a unit is only ever compared with units of its class). */
  private readonly bands: BandTable[] = [];
  /** The buffer `candidates` collects into. */
  private readonly found = growableU32();
  /** The prefix of the persisted files these entries are (what `persist` keeps). */
  cut = { entries: 0, metaBytes: 0, shingleBytes: 0 };
  /** The latest day among the loaded entries ('' when none). */
  lastDay = '';

  private constructor(readonly files: IndexFiles | null) {}

  static empty(): KeptIndex {
    return new KeptIndex(null);
  }

  /** Loads the entries of days before `from` (all when `from` is past every day); null when the files do not hold what `files` says. */
  static async load(files: IndexFiles, from: string): Promise<KeptIndex | null> {
    const index = new KeptIndex(files);
    const meta = join(files.dir, KEPT_META);
    const sh = join(files.dir, KEPT_SHINGLES);
    try {
      if ((await fsp.stat(meta)).size < files.metaBytes || (await fsp.stat(sh)).size < files.shingleBytes)
        return null;
    } catch {
      return null;
    }
    let bytes = 0;
    let words = 0;
    let bad = false;
    // one JSON array a line (JSON.parse gives flat strings: a slice of the line would keep it alive)
    readLinesSync(meta, files.metaBytes, (text) => {
      if (index.ids.length >= files.entries) return false;
      const f = JSON.parse(text) as [string | null, string, string, string, string, number, number];
      if (!Array.isArray(f) || f.length !== 7 || f[5] !== words) {
        bad = true;
        return false;
      }
      const day = dayOf(f[0]);
      if (day >= from) return false;
      index.add(f[1], f[2], f[3], bandsFromText(f[4]), 0, f[5], f[6]);
      index.lastDay = day;
      bytes += Buffer.byteLength(text) + 1;
      words += f[6];
      return true;
    });
    if (bad) return null;
    if (words * 4 > files.shingleBytes) return null;
    index.cut = { entries: index.ids.length, metaBytes: bytes, shingleBytes: words * 4 };
    return index;
  }

  get size(): number {
    return this.ids.length;
  }

  classOf(x: number): number {
    return this.cls.a[x] as number;
  }

  classIndex(cls: string): number {
    let c = this.classes.get(cls);
    if (c === undefined) this.classes.set(cls, (c = this.classes.size));
    return c;
  }

  /** Adds a kept unit (in order); returns its position. */
  add(
    id: string,
    cls: string,
    exact: string,
    bands: Float64Array,
    file: number,
    off: number,
    len: number,
  ): number {
    const p = this.ids.length;
    const c = this.classIndex(cls);
    this.ids.push(id);
    this.cls.push(c);
    const table = (this.bands[c] ??= new BandTable());
    this.shFile.push(file);
    this.shOff.push(off);
    this.shLen.push(len);
    if (!this.exact.has(exact)) this.exact.set(exact, p);
    for (let b = 0; b < bands.length; b++) {
      const k = bands[b] as number;
      let seen = false;
      for (let c = 0; c < b; c++) if (bands[c] === k) seen = true;
      if (!seen) table.add(k, p);
    }
    return p;
  }

  /**
   * The kept positions of class `c` (a `classIndex`) sharing a band key with `bands`, ascending, each
   * once: a view of a buffer the next call reuses (a typed array's numeric sort, not a JS array
   * sorted through a comparator).
   */
  candidates(bands: Float64Array, c: number): Uint32Array {
    const buf = this.found;
    buf.length = 0;
    const table = this.bands[c];
    if (table === undefined) return buf.a.subarray(0, 0);
    for (const k of bands) table.collect(k, buf);
    const out = buf.a.subarray(0, buf.length).sort();
    let u = 0;
    for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[u - 1]) out[u++] = out[i] as number;
    return out.subarray(0, u);
  }
}

/** Decides units in time order against a KeptIndex; see the file comment. */
export class TimeOrderDedup {
  /** Counts per day of the units decided (complete once `verdicts()` has finished). */
  readonly byDay = new Map<string, DedupStats>();
  private readonly shinglePath: string;
  private readonly shingleOut: BinWriter;
  private readonly order: ExternalSorter;
  private readonly ids: ExternalSorter;
  private readonly threshold: number;
  private readonly duplicateId: (id: string) => Error;
  private added = 0;
  /** The kept units of this build, as they will be appended to the persisted index. */
  private readonly newMetaPath: string;
  private newMetaOut: BinWriter | null = null;
  private newWords = 0;
  private newEntries = 0;

  private index: KeptIndex = KeptIndex.empty();
  private readonly cacheBytes: number;
  /** How the candidate pairs were verified (not part of any output): pairs the sketches rejected, shingle reads from disk. */
  readonly reads = {
    sketch_rejected: 0,
    shingle_reads: 0,
    own_reads: 0,
    cache_entries: 0,
    cache_bytes: 0,
  };

  constructor(
    dir: string,
    opts: {
      threshold?: number;
      sortMemoryChars?: number;
      duplicateId?: (id: string) => Error;
      /** The shingle cache's budget in bytes (SHINGLE_CACHE_BYTES). */
      cacheBytes?: number;
    } = {},
  ) {
    this.cacheBytes = opts.cacheBytes ?? SHINGLE_CACHE_BYTES;
    this.duplicateId = opts.duplicateId ?? ((id) => new Error(`dedup: unit id ${id} was added twice`));
    this.threshold = opts.threshold ?? NEAR_DUP_JACCARD;
    const mem = opts.sortMemoryChars ?? 8 * 1024 * 1024;
    this.shinglePath = join(dir, 'dedup-shingles.bin');
    this.shingleOut = new BinWriter(this.shinglePath);
    this.order = new ExternalSorter(dir, 'dedup-order', mem);
    this.ids = new ExternalSorter(dir, 'dedup-ids', mem / 4);
    this.newMetaPath = join(dir, 'dedup-new-kept.jsonl');
  }

  /** Adds one unit to decide (any order); `seq` is given back with its verdict. */
  async add(f: DedupFeatures, seq: number = this.added): Promise<void> {
    this.added++;
    await this.ids.add(f.id, '');
    const off = this.shingleOut.bytes / 4;
    this.shingleOut.write(new Uint8Array(f.shingles.buffer, f.shingles.byteOffset, f.shingles.byteLength));
    await this.order.add(
      orderKey(f.at, f.id),
      JSON.stringify([f.id, f.at, f.cls, f.exact, bandsToText(f.bands), off, f.shingles.length, seq]),
    );
  }

  private stats(day: string): DedupStats {
    let s = this.byDay.get(day);
    if (!s) this.byDay.set(day, (s = emptyDedupStats()));
    return s;
  }

  /**
   * Every unit added, in time order, with its verdict (null: kept), decided against `index` (the
   * kept units before them). Call once, after every `add`. Kept units join the index as they are decided.
   */
  async *verdicts(
    index: KeptIndex,
  ): AsyncGenerator<{ id: string; seq: number; day: string; verdict: DedupVerdict | null }> {
    this.index = index;
    this.shingleOut.close();
    let prevId: string | null = null;
    for await (const { key: id } of this.ids.sorted()) {
      if (id === prevId) throw this.duplicateId(id);
      prevId = id;
    }
    const files = [
      index.files && existsSync(join(index.files.dir, KEPT_SHINGLES))
        ? openSync(join(index.files.dir, KEPT_SHINGLES), 'r')
        : -1,
      openSync(this.shinglePath, 'r'),
    ];
    this.newMetaOut = new BinWriter(this.newMetaPath);
    const cache = new ShingleCache(this.cacheBytes);
    const reads = this.reads;
    try {
      const shingles = (x: number): Uint32Array => {
        let s = cache.get(x);
        if (s) return s;
        const len = index.shLen.a[x] as number;
        s = new Uint32Array(len);
        if (len > 0)
          readSync(
            files[index.shFile.a[x] as number] as number,
            s,
            0,
            len * 4,
            (index.shOff.a[x] as number) * 4,
          );
        reads.shingle_reads++;
        cache.put(x, s);
        return s;
      };
      const own = (off: number, len: number): Uint32Array => {
        const s = new Uint32Array(len);
        if (len > 0) readSync(files[1] as number, s, 0, len * 4, off * 4);
        reads.own_reads++;
        return s;
      };
      const mySketch = new Uint8Array(SKETCH_BUCKETS);
      for await (const row of this.order.sorted()) {
        const [id, at, cls, exact, bandsText, off, len, seq] = JSON.parse(row.line) as [
          string,
          string | null,
          string,
          string,
          string,
          number,
          number,
          number,
        ];
        const day = dayOf(at);
        const st = this.stats(day);
        const first = index.exact.get(exact);
        if (first !== undefined) {
          st.exact_duplicates++;
          const ref = index.ids[first] as string;
          yield {
            id,
            seq,
            day,
            verdict: { reason: 'DUPLICATE_OF', ref, detail: duplicateDetail(ref, exact) },
          };
          continue;
        }
        const bands = bandsFromText(bandsText);
        const c = index.classIndex(cls);
        let mine: Uint32Array | null = null;
        let near: { ref: string; j: number } | null = null;
        // an intersection under this cannot reach the threshold (jaccardAtLeast's own early exit, margin included)
        const t = this.threshold;
        for (const k of index.candidates(bands, c)) {
          if (index.classOf(k) !== c) continue;
          st.pairs_verified++;
          let j = -1;
          const lk = index.shLen.a[k] as number;
          if (!cannotReach(len, lk, t)) {
            if (mine === null) Sketches.of((mine = own(off, len)), mySketch);
            if (!Sketches.bounds(len, lk)) j = jaccardAtLeast(mine, shingles(k), t);
            else {
              if (!index.sketches.has(k)) index.sketches.set(k, shingles(k));
              if (index.sketches.intersectionAtMost(k, mySketch) < (t * (len + lk)) / (1 + t) - 1)
                reads.sketch_rejected++;
              else j = jaccardAtLeast(mine, shingles(k), t);
            }
          }
          if (j < this.threshold) {
            st.pairs_below_threshold++;
            continue;
          }
          near = { ref: index.ids[k] as string, j };
          break;
        }
        if (near) {
          st.near_duplicates++;
          yield {
            id,
            seq,
            day,
            verdict: {
              reason: 'NEAR_DUPLICATE_OF',
              ref: near.ref,
              detail: nearDetail(near.ref, near.j, this.threshold),
            },
          };
          continue;
        }
        const p = index.add(id, cls, exact, bands, 1, off, len);
        if (mine !== null) index.sketches.set(p, mine);
        // its entry in the persisted index: shingles at their offset once appended after the cut
        this.newMetaOut.write(
          Buffer.from(
            `${JSON.stringify([at, id, cls, exact, bandsText, index.cut.shingleBytes / 4 + this.newWords, len])}\n`,
          ),
        );
        this.newWords += len;
        this.newEntries++;
        yield { id, seq, day, verdict: null };
      }
    } finally {
      for (const fd of files) if (fd >= 0) closeSync(fd);
      this.newMetaOut.close();
      reads.cache_entries = cache.entries;
      reads.cache_bytes = cache.bytes;
    }
  }

  /**
   * Writes the index this build ends with into `dir`: the persisted files cut at the loaded prefix
   * (or new ones), then this build's kept units appended. Call after `verdicts()`, once the output
   * is published. Returns what the state must record.
   */
  async persist(dir: string): Promise<IndexFiles> {
    await fsp.mkdir(dir, { recursive: true });
    const meta = join(dir, KEPT_META);
    const sh = join(dir, KEPT_SHINGLES);
    const cut =
      this.index.files && this.index.files.dir === dir
        ? this.index.cut
        : { entries: 0, metaBytes: 0, shingleBytes: 0 };
    if (cut.entries === 0) {
      await fsp.writeFile(meta, '');
      await fsp.writeFile(sh, '');
    } else {
      await fsp.truncate(meta, cut.metaBytes);
      await fsp.truncate(sh, cut.shingleBytes);
    }
    await appendFile(meta, this.newMetaPath);
    // this build's kept units' shingles, in decision order, out of the scratch file of every unit
    const out = new BinWriter(sh, 'a');
    const fd = openSync(this.shinglePath, 'r');
    try {
      for (let x = this.index.cut.entries; x < this.index.size; x++) {
        const len = this.index.shLen.a[x] as number;
        const buf = Buffer.allocUnsafe(len * 4);
        if (len > 0) readSync(fd, buf, 0, len * 4, (this.index.shOff.a[x] as number) * 4);
        out.write(buf);
      }
    } finally {
      closeSync(fd);
      out.close();
    }
    const metaBytes = (await fsp.stat(meta)).size;
    const shingleBytes = (await fsp.stat(sh)).size;
    if (shingleBytes !== cut.shingleBytes + this.newWords * 4)
      throw new Error(
        `screen dedup index: ${sh} has ${shingleBytes} bytes, expected ${cut.shingleBytes + this.newWords * 4}`,
      );
    return { dir, entries: cut.entries + this.newEntries, metaBytes, shingleBytes };
  }
}

/** Calls `fn` with each line of the first `limit` bytes of a file (read synchronously in 4 MiB chunks) until it returns false. */
function readLinesSync(path: string, limit: number, fn: (line: string) => boolean): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 22, limit))); // no larger than what is read
    let carry: Buffer | null = null;
    let pos = 0;
    while (pos < limit) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, limit - pos), pos);
      if (got === 0) break;
      pos += got;
      let start = 0;
      for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < got; nl = buf.indexOf(10, start)) {
        const text: string = carry
          ? Buffer.concat([carry, buf.subarray(0, nl)]).toString('utf8')
          : buf.toString('utf8', start, nl);
        carry = null;
        start = nl + 1;
        if (!fn(text)) return;
      }
      if (start < got)
        carry = carry
          ? Buffer.concat([carry, buf.subarray(start, got)])
          : Buffer.from(buf.subarray(start, got));
    }
  } finally {
    closeSync(fd);
  }
}

async function appendFile(to: string, from: string): Promise<void> {
  const out = new BinWriter(to, 'a');
  const fd = openSync(from, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      out.write(buf.subarray(0, got));
    }
  } finally {
    closeSync(fd);
    out.close();
  }
}
