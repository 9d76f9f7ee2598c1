import { test } from 'node:test';
import assert from 'node:assert/strict';
import MiniSearch from 'minisearch';
import type { RagSample } from '../../schemas/rag-sample.ts';
import {
  allDocs,
  buildIndexFiles,
  referenceMiniSearch,
  toIndexedDoc,
  type RagIndex,
} from '../../tasks/lib/rag-index.ts';
import { retrieve } from '../../tasks/replay/retrieve.ts';
import { knowledgeDoc, loadFiles, runDoc } from './fixture.ts';

// The segment layout computes BM25 itself (MiniSearch's statistics are corpus-wide, a segment's are
// not): here its scores are compared, bit for bit, with MiniSearch's over one index of the same
// documents, the index format version 1 was (tasks/lib/rag-index.ts, referenceMiniSearch).

/** A small deterministic PRNG (mulberry32), so the corpus is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = (
  'refund refunds delivery invoice invoices warehouse events orders order shipping shipment ship ' +
  'rotate logs logrotate weekly daily monthly users active query select count distinct status ' +
  'refunded share month customer customers account accounts password reset token tokens access ' +
  'damaged items item return returns policy window days week cluster node nodes kubernetes pod ' +
  'pods deploy deployment rollback error errors timeout timeouts retry retries cache caches ' +
  'the and of to a for with 42 2024 ünïcödé Ｆｕｌｌ naïve'
).split(' ');
/** Words that only some segments hold (each segment gets its own). */
const RARE = ['zeta', 'omega', 'kappa', 'sigma', 'lambda', 'theta'];

function corpus(seed: number, count: number, segments: number): Map<string, RagSample[]> {
  const r = rng(seed);
  const pick = (words: readonly string[]): string => words[Math.floor(r() * words.length)] as string;
  const sentence = (min: number, max: number, rare: string | null): string => {
    const len = min + Math.floor(r() * (max - min + 1));
    const words: string[] = [];
    for (let i = 0; i < len; i++) words.push(rare !== null && r() < 0.1 ? rare : pick(VOCAB));
    return words.join(' ');
  };
  const shards = new Map<string, RagSample[]>();
  for (let s = 0; s < segments; s++) shards.set(`2026-10-${String(s + 1).padStart(2, '0')}`, []);
  const names = [...shards.keys()];
  let twins: [string, string] | null = null;
  for (let i = 0; i < count; i++) {
    const s = Math.floor(r() * segments);
    const rare = s < RARE.length ? (RARE[s] as string) : null;
    let task = sentence(0, 8, rare);
    let answer = sentence(1, 40, rare);
    // every seventh document repeats an earlier one's text (equal scores: ties broken by id)
    if (i % 7 === 6 && twins) [task, answer] = twins;
    else twins = [task, answer];
    const row =
      r() < 0.15
        ? knowledgeDoc(`kb-${seed}-${i}`, task, answer)
        : runDoc(`run-${seed}-${i}`, task, answer, `fam${i % 5}:t${i % 11}`);
    shards.get(names[s] as string)!.push(row);
  }
  return shards;
}

function queries(seed: number, count: number): string[] {
  const r = rng(seed ^ 0x5eed);
  const out = [
    '',
    'the and of',
    'refund',
    'refund refund',
    'refunds Refund REFUND',
    'refu',
    'deliv ware',
    'absentterm',
    'zeta',
    'zeta omega refund',
    'kappa absentterm',
    'ünïcödé naïve Full',
    'x y z',
  ];
  for (let i = 0; i < count; i++) {
    const len = 1 + Math.floor(r() * 6);
    const words: string[] = [];
    for (let j = 0; j < len; j++) {
      const roll = r();
      const w =
        roll < 0.1
          ? (RARE[Math.floor(r() * RARE.length)] as string)
          : roll < 0.2
            ? (VOCAB[Math.floor(r() * VOCAB.length)] as string).slice(0, 3) // a prefix of an indexed term
            : roll < 0.25
              ? `missing${i}`
              : (VOCAB[Math.floor(r() * VOCAB.length)] as string);
      words.push(w);
    }
    out.push(words.join(' '));
  }
  return out;
}

const order = (a: { id: string; score: number }, b: { id: string; score: number }): number =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function compare(index: RagIndex, ms: MiniSearch, qs: readonly string[]): { hits: number; ties: number } {
  let hits = 0;
  let ties = 0;
  for (const q of qs) {
    const want = ms
      .search(q)
      .map((h) => ({ id: String(h.id), score: h.score }))
      .sort(order);
    const got = index.search(q).map((h) => ({ id: h.id, score: h.score }));
    assert.deepEqual(got, want, `query ${JSON.stringify(q)}`);
    hits += got.length;
    for (let i = 1; i < got.length; i++) if (got[i]!.score === got[i - 1]!.score) ties++;
  }
  return { hits, ties };
}

for (const [seed, count, segments] of [
  [1, 40, 1],
  [2, 300, 6],
  [3, 900, 13],
  [4, 200, 30],
] as const) {
  test(`search over ${segments} segments scores exactly as MiniSearch over one index (seed ${seed}, ${count} documents)`, () => {
    const shards = corpus(seed, count, segments);
    const rows = [...shards.values()].flat();
    const index = loadFiles(buildIndexFiles(shards));
    const ms = referenceMiniSearch(rows.map(toIndexedDoc));
    const qs = queries(seed, 150);
    const { hits, ties } = compare(index, ms, qs);
    assert.ok(hits > qs.length, `the queries match documents (${hits} hits)`);
    assert.ok(ties > 0, 'some scores tie (repeated texts)');
    assert.deepEqual(
      allDocs(index).map((d) => d.id),
      ms
        .search(MiniSearch.wildcard)
        .map((h) => String(h.id))
        .sort(),
    );
    assert.equal(index.documents, rows.length);
  });
}

test('retrieve over segments gives the ranking MiniSearch gave, ties by id, excluded documents dropped', () => {
  const shards = corpus(5, 400, 9);
  const rows = [...shards.values()].flat();
  const index = loadFiles(buildIndexFiles(shards));
  const ms = referenceMiniSearch(rows.map(toIndexedDoc));
  const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
  for (const q of queries(5, 100)) {
    const exclude = (d: { trace_id: string }): boolean => d.trace_id.endsWith('3');
    const want = ms
      .search(q)
      .map((h) => ({ id: String(h.id), score: round6(h.score), trace_id: String(h['trace_id']) }))
      .filter((h) => !exclude(h))
      .sort(order)
      .slice(0, 7);
    const got = retrieve(index, q, 7, exclude).map((h) => ({
      id: h.id,
      score: h.score,
      trace_id: h.trace_id,
    }));
    assert.deepEqual(got, want, `query ${JSON.stringify(q)}`);
  }
});

test('the same documents in other segments give the same scores (segmenting changes no result)', () => {
  const shards = corpus(6, 300, 1);
  const rows = [...shards.values()].flat();
  const whole = loadFiles(buildIndexFiles(shards));
  const split = loadFiles(
    buildIndexFiles(
      new Map(
        ['a', 'b', 'c', 'd'].map(
          (name, s) => [name, rows.filter((_, i) => i % 4 === s)] as [string, RagSample[]],
        ),
      ),
    ),
  );
  for (const q of queries(6, 60))
    assert.deepEqual(split.search(q), whole.search(q), `query ${JSON.stringify(q)}`);
});
