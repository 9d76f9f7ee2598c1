import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { FifoQueue } from '../../lib/fifo-queue.ts';
import { growableF64 } from '../../lib/growable.ts';
import { fnv1a, partitionCount } from '../../lib/line-spill.ts';
import { NEAR_DUP_JACCARD, type DedupStats, type DedupUnit, type DedupVerdict } from './dedup.ts';
import { exactKey } from '../../lib/safety/training-text.ts';
import {
  bandKeys,
  BANDS,
  cannotReach,
  jaccardAtLeast,
  ROWS,
  shingleHashes,
  signature,
  words,
} from '../../lib/safety/minhash.ts';

/**
 * `findDuplicates` (dedup.ts) with memory bounded by spill files instead of by the number of
 * units, for the screen phase. Same verdicts, details and stats, byte for byte (tested against it):
 *
 * 1. `add` keeps nothing per unit in memory: the shingle hashes go to a binary spill file, the
 *    rest to an external sort by (exact key, id), the id alone to a sort that checks it is unique.
 * 2. Exact pass: in that order the first id of each exact key survives, the others are DUPLICATE_OF
 *    it; survivors are re-sorted by id, which gives them the indexes `findDuplicates` uses.
 * 3. Band pass: (class, band key, index) entries are spilled to hash partitions by band key; each
 *    partition is grouped in memory, and every bucket of two or more members goes to an external
 *    sort by (class, band key), the order `findDuplicates` checks buckets in.
 * 4. Verify pass: buckets in that order, pairs checked as `findDuplicates` does (union-find, skip
 *    of pairs already in one cluster or already checked, first link per unit); shingle sets are
 *    read back from the spill file through a small cache.
 * Per-unit state kept in memory: a union-find array, spill offsets, the caller's seq and the band
 * keys (~150 bytes a survivor of the exact pass).
 */

/** What dedup needs of one unit, computed once (in screen's per-unit pass). */
export interface DedupFeatures {
  id: string;
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
    cls: u.cls,
    exact: exactKey(u),
    bands: Float64Array.from(bandKeys(signature(shingles))),
    shingles,
  };
}

const BAND_RECORD = 16; // float64 band key, uint32 index, uint32 class index
const BAND_PARTITION_BYTES = 8 * 1024 * 1024;
const SHINGLE_CACHE = 4096;

/** Appends bytes to a scratch file through a 1 MiB buffer (synchronous: scratch files only). */
class BinWriter {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  /** Bytes written so far (including buffered). */
  bytes = 0;
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
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

/** Bounded-memory exact + near-duplicate detection; see the file comment. */
export class SpillDedup {
  /** Counts, complete once `verdicts()` has finished. */
  readonly stats: DedupStats = {
    exact_duplicates: 0,
    near_duplicates: 0,
    near_clusters: 0,
    pairs_verified: 0,
    pairs_below_threshold: 0,
  };
  private readonly shingleOut: BinWriter;
  private readonly shinglePath: string;
  private readonly byExact: ExternalSorter;
  private readonly ids: ExternalSorter;

  private readonly threshold: number;
  private readonly sortMemory: number;
  private readonly bandPartitionBytes: number;
  private readonly duplicateId: (id: string) => Error;
  private added = 0;

  /** `dir` is a scratch folder; the options exist for tests (small values force every spill path). */
  constructor(
    private readonly dir: string,
    opts: {
      threshold?: number;
      sortMemoryChars?: number;
      bandPartitionBytes?: number;
      duplicateId?: (id: string) => Error;
    } = {},
  ) {
    this.duplicateId = opts.duplicateId ?? ((id) => new Error(`dedup: unit id ${id} was added twice`));
    this.threshold = opts.threshold ?? NEAR_DUP_JACCARD;
    this.sortMemory = opts.sortMemoryChars ?? 8 * 1024 * 1024;
    this.bandPartitionBytes = opts.bandPartitionBytes ?? BAND_PARTITION_BYTES;
    this.shinglePath = `${dir}/dedup-shingles.bin`;
    this.shingleOut = new BinWriter(this.shinglePath);
    this.byExact = new ExternalSorter(dir, 'dedup-exact', this.sortMemory);
    this.ids = new ExternalSorter(dir, 'dedup-ids', this.sortMemory / 4);
  }

  /**
   * Adds one unit (any order). `seq` is the caller's number for it (by default the count of units
   * added before), given back with its verdict. Ids must be unique: `verdicts()` throws the
   * `duplicateId` error of the first id it finds twice.
   */
  async add(f: DedupFeatures, seq: number = this.added): Promise<void> {
    this.added++;
    await this.ids.add(f.id, '');
    const off = this.shingleOut.bytes / 4;
    this.shingleOut.write(new Uint8Array(f.shingles.buffer, f.shingles.byteOffset, f.shingles.byteLength));
    await this.byExact.add(
      `${f.exact}\u0000${f.id}`,
      JSON.stringify([f.id, f.cls, bandsToText(f.bands), off, f.shingles.length, seq]),
    );
  }

  /** The verdict of every unit that is not kept (in no particular order), with its `seq`. Call once, after every `add`. */
  async *verdicts(): AsyncGenerator<{ id: string; seq: number; verdict: DedupVerdict }> {
    this.shingleOut.close();
    // 1b. every id once (the verdicts and their refs name units by id)
    let prevId: string | null = null;
    for await (const { key: id } of this.ids.sorted()) {
      if (id === prevId) throw this.duplicateId(id);
      prevId = id;
    }
    // 2. exact duplicates; survivors re-sorted by id
    const byId = new ExternalSorter(this.dir, 'dedup-survivors', this.sortMemory);
    let key: string | null = null;
    let first = '';
    for await (const row of this.byExact.sorted()) {
      const exact = row.key.slice(0, row.key.indexOf('\u0000'));
      const [id, , , , , seq] = JSON.parse(row.line) as [string, string, string, number, number, number];
      if (exact !== key) {
        key = exact;
        first = id;
        await byId.add(id, row.line);
        continue;
      }
      this.stats.exact_duplicates++;
      yield {
        id,
        seq,
        verdict: {
          reason: 'DUPLICATE_OF',
          ref: first,
          detail: `same normalised training content as ${first}, which is kept (exact key ${exact.slice(0, 16)})`,
        },
      };
    }
    // 3. index survivors by id order; spill band entries by band key
    const n = byId.size;
    const parts = partitionCount(n * BANDS * BAND_RECORD, this.bandPartitionBytes);
    const bandOut = Array.from(
      { length: parts },
      (_, p) => new BinWriter(`${this.dir}/dedup-bands-${p}.bin`),
    );
    const idsPath = `${this.dir}/dedup-ids.txt`;
    const idsOut = new BinWriter(idsPath);
    const idOff = growableF64();
    const shOff = growableF64();
    const shLen = growableF64();
    const bandsOf = growableF64(); // BANDS keys per survivor, for the first-bucket test below
    const seqOf = growableF64();
    const classes = new Map<string, number>();
    const classNames: string[] = [];
    const rec = Buffer.alloc(BAND_RECORD);
    let i = 0;
    for await (const row of byId.sorted()) {
      const [id, cls, bandsText, off, len, seq] = JSON.parse(row.line) as [
        string,
        string,
        string,
        number,
        number,
        number,
      ];
      const bands = bandsFromText(bandsText);
      seqOf.push(seq);
      idOff.push(idsOut.bytes);
      idsOut.write(Buffer.from(id, 'utf8'));
      shOff.push(off);
      shLen.push(len);
      let c = classes.get(cls);
      if (c === undefined) {
        classes.set(cls, (c = classNames.length));
        classNames.push(cls);
      }
      if (bands.length !== BANDS)
        throw new Error(`dedup: ${id} has ${bands.length} band keys, expected ${BANDS}`);
      for (const b of bands) {
        bandsOf.push(b);
        rec.writeDoubleLE(b, 0);
        rec.writeUInt32LE(i, 8);
        rec.writeUInt32LE(c, 12);
        (bandOut[fnv1a(String(b)) % parts] as BinWriter).write(rec);
      }
      i++;
    }
    idOff.push(idsOut.bytes);
    idsOut.close();
    for (const w of bandOut) w.close();
    // buckets of two or more, sorted by (class, band key) like findDuplicates' loops
    const buckets = new ExternalSorter(this.dir, 'dedup-buckets', this.sortMemory);
    for (let p = 0; p < parts; p++) {
      const data = readWhole(`${this.dir}/dedup-bands-${p}.bin`);
      const count = data.length / BAND_RECORD;
      const keys = new Float64Array(count);
      const idx = new Uint32Array(count);
      const cls = new Uint32Array(count);
      for (let r = 0; r < count; r++) {
        keys[r] = data.readDoubleLE(r * BAND_RECORD);
        idx[r] = data.readUInt32LE(r * BAND_RECORD + 8);
        cls[r] = data.readUInt32LE(r * BAND_RECORD + 12);
      }
      // group equal (class, band key) entries; records were written in index order and ties keep
      // record order, so each bucket's members stay ascending
      const order = Uint32Array.from({ length: count }, (_, r) => r).sort(
        (a, b) =>
          (cls[a] as number) - (cls[b] as number) || (keys[a] as number) - (keys[b] as number) || a - b,
      );
      for (let at = 0; at < count;) {
        const first = order[at] as number;
        let end = at + 1;
        while (
          end < count &&
          cls[order[end] as number] === cls[first] &&
          keys[order[end] as number] === keys[first]
        )
          end++;
        if (end - at >= 2) {
          const members: number[] = [];
          for (let m = at; m < end; m++) members.push(idx[order[m] as number] as number);
          await buckets.add(
            `${classNames[cls[first] as number] as string}\u0000${String(keys[first]).padStart(16, '0')}`,
            members.join(','),
          );
        }
        at = end;
      }
    }
    // 4. verify candidate pairs in findDuplicates' order
    const shFd = openSync(this.shinglePath, 'r');
    const idsFd = openSync(idsPath, 'r');
    try {
      const cache = new Map<number, Uint32Array>();
      const cacheOrder = new FifoQueue<number>();
      const shingles = (x: number): Uint32Array => {
        let s = cache.get(x);
        if (s) return s;
        const len = shLen.a[x] as number;
        const buf = Buffer.allocUnsafe(len * 4);
        if (len > 0) readSync(shFd, buf, 0, len * 4, (shOff.a[x] as number) * 4);
        s = new Uint32Array(buf.buffer, buf.byteOffset, len);
        if (cache.size >= SHINGLE_CACHE) cache.delete(cacheOrder.shift() as number); // not keys().next(): see FifoQueue
        cache.set(x, s);
        cacheOrder.push(x);
        return s;
      };
      const parent = new Int32Array(n);
      for (let x = 0; x < n; x++) parent[x] = x;
      const find = (x: number): number => {
        let r = x;
        while (parent[r] !== r) r = parent[r] as number;
        while (parent[x] !== r) {
          const next = parent[x] as number;
          parent[x] = r;
          x = next;
        }
        return r;
      };
      // A pair is checked only in the first bucket (in this order) that holds both units: its
      // smallest common band key. findDuplicates remembers the pairs it rejected instead; a later
      // bucket of a pair it accepted finds it in one cluster already, so both skip the same pairs
      // and count the same, without a set that grows with the candidate pairs.
      // each unit's band keys sorted, so "a common key below this bucket's" is a merge of two
      // 14-key runs that stops at the first key ≥ this bucket's (was 14×14 comparisons a pair)
      const bands = bandsOf.a; // sorted in place, per unit: nothing reads them in band order after this
      for (let x = 0; x < n; x++) bands.subarray(x * BANDS, (x + 1) * BANDS).sort();
      const commonBelow = (a: number, b: number, key: number): boolean => {
        let u = a * BANDS;
        let v = b * BANDS;
        const ue = u + BANDS;
        const ve = v + BANDS;
        while (u < ue && v < ve) {
          const x = bands[u] as number;
          const y = bands[v] as number;
          if (x >= key || y >= key) return false;
          if (x === y) return true;
          if (x < y) u++;
          else v++;
        }
        return false;
      };
      const link = new Map<number, { other: number; j: number }>();
      for await (const row of buckets.sorted()) {
        const key = Number(row.key.slice(row.key.indexOf('\u0000') + 1));
        // a unit twice in one bucket (two bands with the same key) adds only repeats of its pairs
        const members = row.line
          .split(',')
          .map(Number)
          .filter((m, i, all) => i === 0 || m !== all[i - 1]);
        // Pairs are visited in findDuplicates' order, (x, y) for x < y; a pair already in one
        // cluster is skipped. A bucket of a large cluster holds it whole or nearly (it shares up to
        // all of its band keys): its members are grouped by cluster root, and for a member whose
        // own cluster holds most of the members after it, only the other clusters' members are
        // visited (in order; roots are checked again, since unions below merge clusters). Same
        // pairs, same order, without the 163 M same-cluster skips of the 1M bench corpus.
        const m = members.length;
        const groups = new Map<number, number[]>(); // root → positions in members, ascending
        for (let p = 0; p < m; p++) {
          const r = find(members[p] as number);
          const g = groups.get(r);
          if (g) g.push(p);
          else groups.set(r, [p]);
        }
        if (groups.size === 1) continue;
        const visit = (a: number, b: number): void => {
          const ra = find(a);
          const rb = find(b);
          if (ra === rb) return; // already one cluster
          if (commonBelow(a, b, key)) return; // checked (and rejected) in an earlier bucket
          this.stats.pairs_verified++;
          // sizes alone rule most pairs out (no shingle read); the merge stops once it cannot reach
          // the threshold: the same decisions as jaccard, and its value for the pairs kept
          const j = cannotReach(shLen.a[a] as number, shLen.a[b] as number, this.threshold)
            ? -1
            : jaccardAtLeast(shingles(a), shingles(b), this.threshold);
          if (j < this.threshold) {
            this.stats.pairs_below_threshold++;
            return;
          }
          // union: the smaller root becomes the root, so a root is its set's lowest index
          const [keep, gone] = ra < rb ? [ra, rb] : [rb, ra];
          parent[gone] = keep;
          groups.set(keep, mergeAscending(groups.get(keep) as number[], groups.get(gone) as number[]));
          groups.delete(gone);
          if (!link.has(b)) link.set(b, { other: a, j });
          if (!link.has(a)) link.set(a, { other: b, j });
        };
        for (let x = 0; x < m - 1; x++) {
          const a = members[x] as number;
          const own = groups.get(find(a)) as number[];
          const ownAfter = own.length - firstAbove(own, x);
          if (ownAfter * 2 < m - 1 - x) {
            for (let y = x + 1; y < m; y++) visit(a, members[y] as number);
            continue;
          }
          const others: number[] = [];
          for (const g of groups.values())
            if (g !== own) for (let k = firstAbove(g, x); k < g.length; k++) others.push(g[k] as number);
          others.sort((u, v) => u - v);
          for (const y of others) visit(a, members[y] as number);
        }
      }
      const idOf = (x: number): string => {
        const start = idOff.a[x] as number;
        const len = (idOff.a[x + 1] as number) - start;
        const buf = Buffer.allocUnsafe(len);
        readSync(idsFd, buf, 0, len, start);
        return buf.toString('utf8');
      };
      const size = new Int32Array(n);
      for (let x = 0; x < n; x++) size[find(x)] = (size[find(x)] as number) + 1;
      for (let x = 0; x < n; x++) if ((size[x] as number) > 1) this.stats.near_clusters++;
      const rootIds = new Map<number, string>();
      for (let x = 0; x < n; x++) {
        const root = find(x);
        if (root === x) continue;
        let rep = rootIds.get(root);
        if (rep === undefined) rootIds.set(root, (rep = idOf(root)));
        const e = link.get(x) as { other: number; j: number };
        this.stats.near_duplicates++;
        yield {
          id: idOf(x),
          seq: seqOf.a[x] as number,
          verdict: {
            reason: 'NEAR_DUPLICATE_OF',
            ref: rep,
            detail: `word 5-gram Jaccard ${e.j.toFixed(3)} ≥ ${this.threshold} with ${idOf(e.other)} (exact, after MinHash LSH ${BANDS}×${ROWS}); cluster of ${size[root]}, ${rep} is kept`,
          },
        };
      }
    } finally {
      closeSync(shFd);
      closeSync(idsFd);
    }
  }
}

/** The index of the first element of ascending `g` above `x` (g.length when none is). */
function firstAbove(g: readonly number[], x: number): number {
  let lo = 0;
  let hi = g.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((g[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Two ascending arrays merged into one. */
function mergeAscending(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length)
    out[k++] = (a[i] as number) < (b[j] as number) ? (a[i++] as number) : (b[j++] as number);
  while (i < a.length) out[k++] = a[i++] as number;
  while (j < b.length) out[k++] = b[j++] as number;
  return out;
}

function readWhole(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const b = Buffer.allocUnsafe(1 << 22);
      const got = readSync(fd, b, 0, b.length, null);
      if (got === 0) break;
      chunks.push(b.subarray(0, got));
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}
