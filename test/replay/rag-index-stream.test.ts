import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RagSample } from '../../schemas/rag-sample.ts';
import { buildIndexText, parseIndexText, toIndexedDoc, type IndexedDoc } from '../../tasks/lib/rag-index.ts';
import { NotSortedError, writeIndexStream } from '../../tasks/phases/index-rag/index-stream.ts';
import { retrieve } from '../../tasks/replay/retrieve.ts';
import { knowledgeDoc, runDoc } from './fixture.ts';

/** A small seeded generator (mulberry32), so a failure can be reproduced. */
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

// words that share prefixes (the radix tree splits edges), plurals, stop words, digits, non-ASCII
// and NFKC forms, and characters JSON must escape
const WORDS = [
  'refund',
  'refunds',
  'ref',
  'reference',
  'referral',
  'order',
  'orders',
  'ordering',
  'the',
  'a',
  'to',
  'sql',
  'select',
  'selected',
  'café',
  'cafe',
  'ｆｕｌｌ',
  'naïve',
  '42',
  '420',
  '4200',
  'x',
  'données',
  'straße',
  'quote"d',
  'back\\slash',
  'tab\there',
  'line\nbreak',
  '日本語',
  '日本',
  'émoji🙂',
  'access',
  'classes',
  'bus',
  'warehouse',
  'events',
];

function randomCorpus(seed: number, count: number): RagSample[] {
  const r = rng(seed);
  const pick = (k: number): string =>
    Array.from({ length: k }, () => WORDS[Math.floor(r() * WORDS.length)]).join(r() < 0.2 ? ', ' : ' ');
  const rows: RagSample[] = [];
  for (let i = 0; i < count; i++) {
    if (r() < 0.25)
      rows.push(
        knowledgeDoc(
          `kb-${seed}-${i}`,
          r() < 0.1 ? 'x' : pick(1 + Math.floor(r() * 4)),
          pick(Math.floor(r() * 30)),
        ),
      );
    else
      rows.push(
        runDoc(
          `run-${seed}-${i}`,
          r() < 0.1 ? '' : pick(1 + Math.floor(r() * 12)),
          pick(Math.floor(r() * 60)),
          `t:${i % 7}`,
        ),
      );
  }
  return rows;
}

/** The streaming writer's text for rows, with partitions of at most `partition` postings. */
async function streamed(
  rows: readonly RagSample[],
  partition: number,
  order: 'sorted' | 'as-given' = 'sorted',
): Promise<{ text: string; partitions: number; spillFiles: number }> {
  const docs: IndexedDoc[] = rows.map(toIndexedDoc);
  if (order === 'sorted') docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const dir = mkdtempSync(join(tmpdir(), 'distill-index-stream-'));
  try {
    const chunks: string[] = [];
    const stats = await writeIndexStream(
      async function* () {
        yield* docs;
      },
      { writeText: async (s) => void chunks.push(s) },
      (name) => join(dir, name),
      partition,
    );
    return { text: chunks.join(''), partitions: stats.partitions, spillFiles: readdirSync(dir).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the streamed index is byte-identical to MiniSearch’s own, with every partition size', async () => {
  for (const seed of [1, 2, 3]) {
    const rows = randomCorpus(seed, 120);
    const expected = buildIndexText(rows);
    const one = await streamed(rows, 1 << 20);
    assert.equal(one.partitions, 1);
    assert.equal(one.text, expected, `seed ${seed}, one partition`);
    for (const size of [1, 7, 100]) {
      const many = await streamed(rows, size);
      assert.ok(
        many.partitions > 1,
        `seed ${seed}: ${size} postings a partition should give several partitions`,
      );
      assert.equal(many.spillFiles, many.partitions);
      assert.equal(many.text, expected, `seed ${seed}, partitions of ${size} postings`);
    }
  }
});

test('the streamed index loads and ranks as the in-memory one does', async () => {
  const rows = randomCorpus(9, 80);
  const parsed = parseIndexText((await streamed(rows, 5)).text);
  assert.ok(parsed.ok);
  assert.equal(parsed.index.documents, 80);
  const hits = retrieve(parsed.index, 'refund order café 42', 5);
  assert.equal(hits.length, 5);
  const reference = parseIndexText(buildIndexText(rows));
  assert.ok(reference.ok);
  assert.deepEqual(hits, retrieve(reference.index, 'refund order café 42', 5));
});

test('edge cases: no documents, one document with empty fields', async () => {
  assert.equal((await streamed([], 10)).text, buildIndexText([]));
  const empty = [runDoc('e', '', '', 'k:1')];
  assert.equal((await streamed(empty, 10)).text, buildIndexText(empty));
});

test('unsorted input is refused with NotSortedError (the phase sorts it first); a duplicate id is an error', async () => {
  const rows = randomCorpus(4, 10)
    .map(toIndexedDoc)
    .sort((a, b) => (a.id < b.id ? 1 : -1));
  await assert.rejects(
    writeIndexStream(
      async function* () {
        yield* rows;
      },
      { writeText: async () => undefined },
      () => join(tmpdir(), 'unused'),
      10,
    ),
    NotSortedError,
  );
  const one = randomCorpus(5, 1)[0] as RagSample;
  await assert.rejects(streamed([one, one], 10, 'as-given'), /duplicate RAG id rag_/);
});
