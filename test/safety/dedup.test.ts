import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findDuplicates,
  NEAR_DUP_JACCARD,
  type DedupUnit,
  type DedupVerdict,
} from '../../tasks/phases/screen/dedup.ts';
import { jaccard, shingleHashes, words } from '../../tasks/lib/safety/minhash.ts';
import { exactKey, normaliseTraining } from '../../tasks/lib/safety/training-text.ts';
import { DECONTAM_N, findContamination, ProtectedIndex } from '../../tasks/lib/safety/decontaminate.ts';

const LONG =
  'To reset your password open settings then security then choose reset password and follow the link we email you within ten minutes of the request';
const unit = (id: string, text: string, at: string | null = null, cls = 'run:accepted'): DedupUnit => ({
  id,
  at,
  cls,
  full: text,
  body: text,
});
const day = (d: number): string => `2026-10-${String(d).padStart(2, '0')}T12:00:00.000Z`;
const fate = (verdicts: Map<string, DedupVerdict>): Record<string, [string, string]> =>
  Object.fromEntries([...verdicts].map(([id, v]) => [id, [v.reason, v.ref]]).sort());

/** 100 distinct words; `edit` changes the words at the given positions (each change touches 5 shingles of 96). */
const WORDS = Array.from({ length: 100 }, (_, i) => `word${i}x`);
const edit = (positions: number[]): string =>
  WORDS.map((w, i) => (positions.includes(i) ? `changed${i}y` : w)).join(' ');

test('normalisation for exact duplicates: NFC, collapsed whitespace, lowercase', () => {
  assert.equal(normaliseTraining('  Cafe\u0301\n\tOK  '), 'café ok');
});

test('exact duplicates: the earliest unit is kept even with a higher id, whatever the input order; the others name it', () => {
  const units = [
    unit('r3', LONG, day(4)),
    unit('r1', `  ${LONG.toUpperCase()} `, day(3)),
    unit('r2', LONG, day(3)),
    unit('r9', LONG, day(1)),
    unit('r4', 'something else entirely', day(2)),
  ];
  for (const order of [units, [...units].reverse()]) {
    const { verdicts, stats } = findDuplicates(order);
    // r9 is the earliest: kept although its id is the highest; r1 and r2 share a timestamp (id order)
    assert.deepEqual(fate(verdicts), {
      r1: ['DUPLICATE_OF', 'r9'],
      r2: ['DUPLICATE_OF', 'r9'],
      r3: ['DUPLICATE_OF', 'r9'],
    });
    assert.equal(
      verdicts.get('r1')?.detail,
      `same normalised training content as r9, an earlier kept unit (exact key ${exactKey({ cls: 'run:accepted', full: LONG }).slice(0, 16)})`,
    );
    assert.equal(stats.exact_duplicates, 3);
  }
});

test('same timestamp: the lower id comes first; undated units come after every dated one', () => {
  const { verdicts } = findDuplicates([
    unit('b', LONG, day(2)),
    unit('a', LONG, day(2)),
    unit('0-undated', LONG, null),
    unit('c', 'another text that is not like the first at all', null),
    unit('d', 'another text that is not like the first at all', null),
  ]);
  assert.deepEqual(fate(verdicts), {
    '0-undated': ['DUPLICATE_OF', 'a'],
    b: ['DUPLICATE_OF', 'a'],
    d: ['DUPLICATE_OF', 'c'],
  });
});

test('near duplicates: a unit within Jaccard 0.8 of an earlier kept unit is dropped and names it with the verified Jaccard', () => {
  const a = edit([]);
  const b = edit([50]); // 91 / 101 shingles shared with a: 0.901
  assert.ok(jaccard(shingleHashes(words(a)), shingleHashes(words(b))) >= NEAR_DUP_JACCARD);
  for (const [first, second] of [
    ['n2', 'n1'],
    ['n1', 'n2'],
  ] as const) {
    // whichever id it has, the earlier one is kept
    const { verdicts, stats } = findDuplicates([unit(second, b, day(5)), unit(first, a, day(4))]);
    assert.deepEqual(fate(verdicts), { [second]: ['NEAR_DUPLICATE_OF', first] });
    assert.equal(
      verdicts.get(second)?.detail,
      `word 5-gram Jaccard 0.901 ≥ 0.8 with ${first}, an earlier kept unit (exact, after MinHash LSH 14×8)`,
    );
    assert.equal(stats.near_duplicates, 1);
    assert.equal(stats.pairs_verified, 1);
  }
});

test('only kept units count: a unit dropped as a near duplicate makes no later unit a duplicate of it', () => {
  const a = edit([]);
  const b = edit([20]); // 0.901 with a
  const c = edit([20, 50, 80]); // 0.811 with b, 0.730 with a
  const j = (x: string, y: string): number => jaccard(shingleHashes(words(x)), shingleHashes(words(y)));
  assert.ok(j(a, b) >= 0.8 && j(b, c) >= 0.8 && j(a, c) < 0.8, `${j(a, b)} ${j(b, c)} ${j(a, c)}`);
  const units = [unit('c', c, day(3)), unit('a', a, day(1)), unit('b', b, day(2)), unit('b-copy', b, day(4))];
  const { verdicts } = findDuplicates(units);
  // b goes as a near duplicate of a; c is only near b, which was not kept: c is kept. b's exact
  // copy is no DUPLICATE_OF b (not kept) but, like b, near a
  assert.deepEqual(fate(verdicts), {
    b: ['NEAR_DUPLICATE_OF', 'a'],
    'b-copy': ['NEAR_DUPLICATE_OF', 'a'],
  });
  // the earliest verified kept neighbour is named: with a and c both kept, a unit near both names a
  const near = findDuplicates([...units, unit('e', edit([20, 50]), day(5))]).verdicts.get('e');
  assert.equal(near?.ref, 'a');
});

test('appending later units never changes an earlier decision', () => {
  let s = 7;
  const rnd = (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  // 0–4 words changed at random: chains of near duplicates, exact copies and units near none
  const units = Array.from({ length: 60 }, (_, i) =>
    unit(
      `u${String(rnd(1000)).padStart(3, '0')}-${i}`,
      rnd(4) === 0 ? LONG : edit(Array.from({ length: rnd(5) }, () => rnd(100))),
      day(1 + (i % 20)),
    ),
  );
  const all = findDuplicates(units).verdicts;
  for (const cut of [3, 8, 15]) {
    const before = units.filter((u) => (u.at as string) < day(cut));
    const early = findDuplicates(before).verdicts;
    for (const u of before) assert.deepEqual(all.get(u.id), early.get(u.id), `${u.id} before day ${cut}`);
  }
  assert.ok(all.size > 10 && all.size < 50, `the units mix kept and dropped ones: ${all.size} dropped`);
});

test('units of different classes are never duplicates (an accepted and a rejected run with the same text)', () => {
  const { verdicts } = findDuplicates([
    unit('a', LONG, day(1), 'run:accepted'),
    unit('b', LONG, day(1), 'run:rejected'),
    unit('c', LONG, day(1), 'document'),
  ]);
  assert.equal(verdicts.size, 0);
});

test('decontamination: a shared normalised 13-gram, or an exact short item, marks a candidate', () => {
  const index = new ProtectedIndex();
  const item = 'Which airport code belongs to the city that hosted the 1992 Summer Olympics in Spain';
  index.addValue({ id: 'q1', question: item, answer: 'BCN' }, { set: 'eval_sets', at: 'eval/a.jsonl:1' });
  index.addValue(
    {
      messages: [
        { role: 'system', content: `${LONG} system prompt` },
        { role: 'user', content: 'What is the capital of Peru?' },
      ],
    },
    { set: 'acceptance', at: 'test/fixtures/acceptance/x.jsonl:3' },
  );
  assert.equal(index.skipped, 4, 'ids, answers and roles shorter than 3 words are not protected');
  const copied = `Quick question: ${item.toUpperCase()}?!`;
  assert.deepEqual(findContamination(['hello', copied], index), {
    origin: { set: 'eval_sets', at: 'eval/a.jsonl:1' },
    how: `text 1 shares a normalised ${DECONTAM_N}-gram with a protected item (words 2–14)`,
  });
  assert.deepEqual(findContamination(['what is the capital of peru'], index), {
    origin: { set: 'acceptance', at: 'test/fixtures/acceptance/x.jsonl:3' },
    how: 'text 0 equals a protected item (6 words, normalised)',
  });
  assert.equal(
    findContamination(['What is the capital of Peru today?'], index),
    null,
    'a short item only matches whole',
  );
  assert.equal(findContamination([LONG], index), null, 'system-turn content is not protected');
  assert.equal(findContamination(['anything'], new ProtectedIndex()), null);
});

test('decontamination sees through zero-width spaces, soft hyphens, fullwidth letters and Cyrillic look-alikes', () => {
  const index = new ProtectedIndex();
  const item = 'Which airport code belongs to the city that hosted the 1992 Summer Olympics in Spain';
  index.addValue({ question: item }, { set: 'eval_sets', at: 'eval/a.jsonl:1' });
  const disguised = [
    item.replace(/ /g, ' \u200b'),
    item.replace('airport', 'air\u00adport').replace('Olympics', 'Olym\u00adpics'),
    item.replace('Which airport', 'Ｗｈｉｃｈ ａｉｒｐｏｒｔ'),
    item.replace(/a/g, '\u0430').replace(/o/g, '\u043e').replace(/e/g, '\u0435'),
  ];
  for (const d of disguised) assert.notEqual(findContamination([d], index), null, JSON.stringify(d));
});
