import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDuplicates, type DedupUnit, type DedupVerdict } from '../../tasks/phases/screen/dedup.ts';
import { dedupFeatures, SpillDedup } from '../../tasks/phases/screen/dedup-spill.ts';

/** A seeded corpus with exact copies, near copies (a word or two changed) and unrelated texts in three classes. */
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
    units.push({
      id: `u${String(rnd(1_000_000)).padStart(6, '0')}-${i}`,
      cls: ['run:accepted', 'run:rejected', 'document'][rnd(3)] as string,
      full: text,
      body: text,
    });
  }
  return units;
}

async function spillVerdicts(
  units: readonly DedupUnit[],
  dir: string,
  opts: ConstructorParameters<typeof SpillDedup>[1],
) {
  const d = new SpillDedup(dir, opts);
  for (const u of units) await d.add(dedupFeatures(u));
  const verdicts = new Map<string, DedupVerdict>();
  const seqs = new Map<string, number>();
  for await (const v of d.verdicts()) {
    verdicts.set(v.id, v.verdict);
    seqs.set(v.id, v.seq);
  }
  return { verdicts, seqs, stats: d.stats };
}

test('SpillDedup gives exactly the verdicts, details and stats of findDuplicates, with every spill path forced', async () => {
  for (const seed of [1, 2, 3]) {
    const units = corpus(seed, 400);
    const want = findDuplicates(units);
    assert.ok(
      want.stats.exact_duplicates > 0 &&
        want.stats.near_duplicates > 0 &&
        want.stats.pairs_below_threshold > 0,
      `the corpus exercises every path: ${JSON.stringify(want.stats)}`,
    );
    for (const opts of [{}, { sortMemoryChars: 500, bandPartitionBytes: 2048 }]) {
      const dir = mkdtempSync(join(tmpdir(), 'distill-dedup-spill-'));
      try {
        const rev = [...units].reverse();
        const got = await spillVerdicts(rev, dir, opts);
        assert.deepEqual(got.stats, want.stats);
        // each verdict carries the seq its unit was added with (by default, the count before it)
        for (const [id, seq] of got.seqs) assert.equal(rev[seq]?.id, id);
        assert.deepEqual(new Map([...got.verdicts].sort()), new Map([...want.verdicts].sort()));
        assert.deepEqual(
          readdirSync(dir).filter((f) => f.endsWith('.run')),
          [],
          'sort runs are deleted once merged',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
});

test('SpillDedup gives back the seq a unit was added with, and refuses an id added twice (same text or not)', async () => {
  const text = 'the same words in the same order make an exact duplicate of one another here';
  const other = 'a wholly unrelated sentence that shares no five word shingle with the first one at all';
  const cases: [DedupUnit[], string | null][] = [
    [
      [
        { id: 'b', cls: 'document', full: text, body: text },
        { id: 'a', cls: 'document', full: text, body: text },
      ],
      null,
    ],
    [
      [
        { id: 'a', cls: 'document', full: text, body: text },
        { id: 'a', cls: 'document', full: text, body: text },
      ],
      'a',
    ],
    [
      [
        { id: 'c', cls: 'document', full: text, body: text },
        { id: 'b', cls: 'document', full: text, body: text },
        { id: 'c', cls: 'document', full: other, body: other },
      ],
      'c',
    ],
  ];
  for (const [units, twice] of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'distill-dedup-spill-'));
    try {
      const d = new SpillDedup(dir, { duplicateId: (id) => new Error(`twice: ${id}`) });
      for (const [i, u] of units.entries()) await d.add(dedupFeatures(u), 1000 + i);
      const got: [string, number][] = [];
      const run = async (): Promise<void> => {
        for await (const v of d.verdicts()) got.push([v.id, v.seq]);
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
