import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dayOf,
  emptyDedupStats,
  findDuplicates,
  type DedupStats,
  type DedupUnit,
  type DedupVerdict,
} from '../../tasks/phases/screen/dedup.ts';
import {
  dedupFeatures,
  KeptIndex,
  ShingleCache,
  SKETCH_BUCKETS,
  Sketches,
  TimeOrderDedup,
  type IndexFiles,
} from '../../tasks/phases/screen/dedup-index.ts';

/** A seeded corpus with exact copies, near copies (a word or two changed) and unrelated texts in three classes, over ten days and undated. */
function corpus(seed: number, count: number): DedupUnit[] {
  let s = seed >>> 0;
  const rnd = (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  const vocab = Array.from({ length: 60 }, (_, i) => `w${i}`);
  const base = Array.from({ length: 12 }, () =>
    Array.from({ length: 120 + rnd(40) }, () => vocab[rnd(vocab.length)] as string),
  );
  const units: DedupUnit[] = [];
  for (let i = 0; i < count; i++) {
    const words = [...(base[rnd(base.length)] as string[])];
    for (let e = rnd(3); e > 0; e--) words[rnd(words.length)] = vocab[rnd(vocab.length)] as string;
    const text = rnd(5) === 0 ? words.join('  ').toUpperCase() : words.join(' ');
    const d = rnd(11);
    units.push({
      id: `u${String(rnd(1_000_000)).padStart(6, '0')}-${i}`,
      // ties on purpose: a few timestamps per day
      at: d === 10 ? null : `2026-10-${String(d + 1).padStart(2, '0')}T0${rnd(3)}:00:00.000Z`,
      cls: ['run:accepted', 'run:rejected', 'document'][rnd(3)] as string,
      full: text,
      body: text,
    });
  }
  return units;
}

const sum = (byDay: Map<string, DedupStats>): DedupStats => {
  const t = emptyDedupStats();
  for (const s of byDay.values()) for (const k of Object.keys(t) as (keyof DedupStats)[]) t[k] += s[k];
  return t;
};

/** Decides `units` against `index` in a scratch folder; returns the verdicts of the dropped units, the seqs and stats. */
async function decide(
  units: readonly DedupUnit[],
  index: KeptIndex,
  opts: { sortMemoryChars?: number } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'distill-dedup-index-'));
  const d = new TimeOrderDedup(dir, opts);
  for (const u of units) await d.add(dedupFeatures(u));
  const verdicts = new Map<string, DedupVerdict>();
  const seqs = new Map<string, number>();
  const order: string[] = [];
  for await (const v of d.verdicts(index)) {
    order.push(v.id);
    seqs.set(v.id, v.seq);
    if (v.verdict) verdicts.set(v.id, v.verdict);
  }
  return { d, dir, verdicts, seqs, order, stats: sum(d.byDay) };
}

test('TimeOrderDedup gives exactly the verdicts, details and stats of findDuplicates, in time order, with the sort spilled', async () => {
  for (const seed of [1, 2, 3]) {
    const units = corpus(seed, 400);
    const want = findDuplicates(units);
    assert.ok(
      want.stats.exact_duplicates > 0 &&
        want.stats.near_duplicates > 0 &&
        want.stats.pairs_below_threshold > 0,
      `the corpus exercises every path: ${JSON.stringify(want.stats)}`,
    );
    for (const opts of [{}, { sortMemoryChars: 500 }]) {
      const rev = [...units].reverse();
      const got = await decide(rev, KeptIndex.empty(), opts);
      try {
        assert.deepEqual(got.stats, want.stats);
        // each unit comes back with the seq it was added with (by default, the count before it)
        for (const [id, seq] of got.seqs) assert.equal(rev[seq]?.id, id);
        assert.deepEqual(new Map([...got.verdicts].sort()), new Map([...want.verdicts].sort()));
        const sorted = [...got.order].sort((a, b) => {
          const ua = units.find((u) => u.id === a) as DedupUnit;
          const ub = units.find((u) => u.id === b) as DedupUnit;
          const ka = `${ua.at ?? '~'}\u0000${a}`;
          const kb = `${ub.at ?? '~'}\u0000${b}`;
          return ka < kb ? -1 : ka > kb ? 1 : 0;
        });
        assert.deepEqual(got.order, sorted, 'units are decided in (recorded_at, id) order, undated last');
        assert.deepEqual(
          readdirSync(got.dir).filter((f) => f.endsWith('.run')),
          [],
          'sort runs are deleted once merged',
        );
      } finally {
        rmSync(got.dir, { recursive: true, force: true });
      }
    }
  }
});

test('the persisted index: later days decided against it, or an earlier day re-decided after cutting it back, give the verdicts of one pass over all', async () => {
  const units = corpus(5, 500);
  const want = findDuplicates(units);
  const store = mkdtempSync(join(tmpdir(), 'distill-dedup-store-'));
  const scratch: string[] = [];
  try {
    const build = async (
      files: IndexFiles | null,
      from: string,
    ): Promise<{ files: IndexFiles; verdicts: Map<string, DedupVerdict> }> => {
      const index = files ? await KeptIndex.load(files, from) : KeptIndex.empty();
      assert.ok(index, 'the index loads');
      const part = units.filter((u) => dayOf(u.at) >= from);
      const got = await decide(part, index);
      scratch.push(got.dir);
      return { files: await got.d.persist(store), verdicts: got.verdicts };
    };
    const check = (verdicts: Map<string, DedupVerdict>, from: string, what: string): void => {
      for (const u of units.filter((x) => dayOf(x.at) >= from))
        assert.deepEqual(verdicts.get(u.id), want.verdicts.get(u.id), `${what}: ${u.id}`);
    };
    // days 1–4, then days 5–10 and the undated units against the index of what days 1–4 kept
    const first = await build(null, '');
    const early = units.filter((u) => dayOf(u.at) < '2026-10-05');
    const firstOnly = findDuplicates(early);
    // (the first build saw every unit; rebuild the store from days 1–4 alone)
    const d1 = await decide(early, KeptIndex.empty());
    scratch.push(d1.dir);
    assert.deepEqual(new Map([...d1.verdicts].sort()), new Map([...firstOnly.verdicts].sort()));
    const files1 = await d1.d.persist(store);
    assert.equal(files1.entries, early.length - firstOnly.verdicts.size, 'the index holds the kept units');
    const second = await build(files1, '2026-10-05');
    check(second.verdicts, '2026-10-05', 'appended days');
    assert.equal(second.files.entries, first.files.entries, 'the same kept units as one pass');
    assert.equal(second.files.shingleBytes, first.files.shingleBytes);
    // backfill: re-decide from day 3 with the index cut back there
    const third = await build(second.files, '2026-10-03');
    check(third.verdicts, '2026-10-03', 'backfilled');
    assert.deepEqual(third.files, second.files, 'cut back and rebuilt: the same index');
    // only the undated units again
    const fourth = await build(third.files, '~');
    check(fourth.verdicts, '~', 'undated');
    assert.deepEqual(fourth.files, second.files);
    // an index that is shorter than the state says is refused
    assert.equal(await KeptIndex.load({ ...fourth.files, metaBytes: fourth.files.metaBytes + 1 }, '~'), null);
  } finally {
    rmSync(store, { recursive: true, force: true });
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  }
});

test('TimeOrderDedup gives back the seq a unit was added with, and refuses an id added twice (same text or not)', async () => {
  const text = 'the same words in the same order make an exact duplicate of one another here';
  const other = 'a wholly unrelated sentence that shares no five word shingle with the first one at all';
  const u = (id: string, t: string): DedupUnit => ({ id, at: null, cls: 'document', full: t, body: t });
  const cases: [DedupUnit[], string | null][] = [
    [[u('b', text), u('a', text)], null],
    [[u('a', text), u('a', text)], 'a'],
    [[u('c', text), u('b', text), u('c', other)], 'c'],
  ];
  for (const [units, twice] of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'distill-dedup-index-'));
    try {
      const d = new TimeOrderDedup(dir, { duplicateId: (id) => new Error(`twice: ${id}`) });
      for (const [i, x] of units.entries()) await d.add(dedupFeatures(x), 1000 + i);
      const got: [string, number][] = [];
      const run = async (): Promise<void> => {
        for await (const v of d.verdicts(KeptIndex.empty())) if (v.verdict) got.push([v.id, v.seq]);
      };
      if (twice === null) {
        await run();
        assert.deepEqual(got, [['b', 1000]]);
      } else await assert.rejects(run, new RegExp(`^Error: twice: ${twice}$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

/** A seeded generator of 32-bit values. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** A sorted, duplicate-free hash set of `n` values: `shared` of them from `pool`, the rest drawn at random. */
function hashSet(rnd: () => number, n: number, pool: Uint32Array, shared: number): Uint32Array {
  const set = new Set<number>();
  for (let i = 0; i < shared && i < pool.length; i++) set.add(pool[i] as number);
  while (set.size < n) set.add(rnd());
  return Uint32Array.from([...set]).sort();
}

test('Sketches bound the intersection of two hash sets from above (sets under 256 hashes), and often below the threshold for pairs under it', () => {
  const rnd = lcg(11);
  const sk = new Sketches();
  const mine = new Uint8Array(SKETCH_BUCKETS);
  let tight = 0;
  for (let x = 0; x < 3000; x++) {
    const pool = hashSet(rnd, 260, new Uint32Array(0), 0);
    const na = 1 + (rnd() % 255);
    const nb = 1 + (rnd() % 255);
    const a = hashSet(rnd, na, pool, rnd() % (na + 1));
    const b = hashSet(rnd, nb, pool, rnd() % (nb + 1));
    sk.set(x, a);
    assert.ok(sk.has(x) && !sk.has(x + 1));
    Sketches.of(b, mine);
    const inter = a.filter((h) => b.includes(h)).length;
    const bound = sk.intersectionAtMost(x, mine);
    assert.ok(bound >= inter, `bound ${bound} under the intersection ${inter} (${na}, ${nb})`);
    assert.ok(bound <= Math.min(na, nb));
    if (bound < Math.min(na, nb)) tight++;
  }
  assert.ok(tight > 1000, `the bound is below the smaller size for most pairs (${tight} of 3000)`);
  assert.ok(Sketches.bounds(255, 1) && !Sketches.bounds(256, 1) && !Sketches.bounds(1, 300));
});

test('ShingleCache keeps at most its budget of bytes, evicting the least recently used entry first', () => {
  const s = (n: number): Uint32Array => new Uint32Array(n);
  const c = new ShingleCache(3 * (400 + 128)); // room for three entries of 100 hashes
  for (const x of [5, 1, 3000]) c.put(x, s(100));
  assert.equal(c.entries, 3);
  assert.ok(c.get(5), 'entry 5 is cached (and now the most recently used)');
  c.put(7, s(100)); // evicts 1, the least recently used
  assert.equal(c.get(1), undefined);
  assert.ok(c.get(5) && c.get(3000) && c.get(7));
  assert.ok(c.bytes <= c.budget);
  c.put(9, s(100)); // 5 is now the least recently used
  assert.equal(c.get(5), undefined);
  c.put(11, s(5000)); // larger than the budget: kept alone
  assert.equal(c.entries, 1);
  assert.ok(c.get(11));
  assert.equal(c.get(9), undefined);
});

test('TimeOrderDedup: candidate pairs rejected by their sketches or verified through a small shingle cache give the verdicts and stats of findDuplicates', async () => {
  // variants of a few templates with 0–14 words changed: candidate pairs from Jaccard ~0.5 to 1
  const rnd = lcg(3);
  const vocab = Array.from({ length: 4000 }, (_, i) => `v${i}`);
  const templates = Array.from({ length: 4 }, () =>
    Array.from({ length: 60 + (rnd() % 120) }, () => vocab[rnd() % vocab.length] as string),
  );
  const units: DedupUnit[] = Array.from({ length: 600 }, (_, i) => {
    const words = [...(templates[rnd() % templates.length] as string[])];
    for (let e = rnd() % 15; e > 0; e--) words[rnd() % words.length] = vocab[rnd() % vocab.length] as string;
    const text = words.join(' ');
    return {
      id: `t${String(rnd() % 100000).padStart(5, '0')}-${i}`,
      at: `2026-10-0${1 + (rnd() % 9)}T00:00:00.000Z`,
      cls: 'run:accepted',
      full: text,
      body: text,
    };
  });
  const want = findDuplicates(units);
  for (const cacheBytes of [undefined, 4096]) {
    const dir = mkdtempSync(join(tmpdir(), 'distill-dedup-index-'));
    try {
      const d = new TimeOrderDedup(dir, cacheBytes === undefined ? {} : { cacheBytes });
      for (const u of units) await d.add(dedupFeatures(u));
      const verdicts = new Map<string, DedupVerdict>();
      for await (const v of d.verdicts(KeptIndex.empty())) if (v.verdict) verdicts.set(v.id, v.verdict);
      assert.deepEqual(sum(d.byDay), want.stats);
      assert.deepEqual(new Map([...verdicts].sort()), new Map([...want.verdicts].sort()));
      const r = d.reads;
      const kept = units.length - want.verdicts.size;
      assert.ok(r.sketch_rejected > 0, `some pairs are rejected by their sketches: ${JSON.stringify(r)}`);
      assert.ok(r.sketch_rejected <= want.stats.pairs_below_threshold);
      if (cacheBytes === undefined)
        assert.ok(r.shingle_reads <= kept, `each kept unit read at most once: ${JSON.stringify(r)}`);
      else {
        assert.ok(r.cache_bytes <= cacheBytes, `the cache stays in its budget: ${JSON.stringify(r)}`);
        assert.ok(r.shingle_reads > kept, `a small cache reads again: ${JSON.stringify(r)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
