import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDuplicates, type DedupUnit } from '../../tasks/phases/screen/dedup.ts';
import { normaliseTraining } from '../../tasks/lib/safety/training-text.ts';
import { DECONTAM_N, findContamination, ProtectedIndex } from '../../tasks/lib/safety/decontaminate.ts';

const LONG =
  'To reset your password open settings then security then choose reset password and follow the link we email you within ten minutes of the request';
const unit = (id: string, text: string, cls = 'run:accepted'): DedupUnit => ({
  id,
  cls,
  full: text,
  body: text,
});

test('normalisation for exact duplicates: NFC, collapsed whitespace, lowercase', () => {
  assert.equal(normaliseTraining('  Cafe\u0301\n\tOK  '), 'café ok');
});

test('exact duplicates: the lowest id is kept whatever the input order; others name it', () => {
  const units = [
    unit('r3', LONG),
    unit('r1', `  ${LONG.toUpperCase()} `),
    unit('r2', LONG),
    unit('r4', 'something else entirely'),
  ];
  for (const order of [units, [...units].reverse()]) {
    const { verdicts, stats } = findDuplicates(order);
    assert.deepEqual([...verdicts].map(([id, v]) => [id, v.reason, v.ref]).sort(), [
      ['r2', 'DUPLICATE_OF', 'r1'],
      ['r3', 'DUPLICATE_OF', 'r1'],
    ]);
    assert.equal(stats.exact_duplicates, 2);
  }
});

test('near duplicates (Jaccard ≥ 0.8, verified exactly) cluster by union-find; the lowest id is kept', () => {
  const long = `${LONG} If the link expires ask for a new one from the same page and check your spam folder before contacting support`;
  const a = `${long} and thanks for waiting`;
  const b = `${long} and thanks for your patience`; // Jaccard 0.94 with a
  const c = `${long} and many thanks for your patience today`; // 0.83 with a, 0.81 with b
  const far = `${LONG.split(' ').slice(0, 12).join(' ')} but this text then goes somewhere else with many other new words added here`;
  const { verdicts, stats } = findDuplicates([unit('n2', b), unit('n3', c), unit('n1', a), unit('n4', far)]);
  const got = Object.fromEntries([...verdicts].map(([id, v]) => [id, [v.reason, v.ref]]));
  assert.deepEqual(got, { n2: ['NEAR_DUPLICATE_OF', 'n1'], n3: ['NEAR_DUPLICATE_OF', 'n1'] });
  assert.match(
    verdicts.get('n2')?.detail ?? '',
    /^word 5-gram Jaccard 0\.\d{3} ≥ 0\.8 with n[13] \(exact, after MinHash LSH 14×8\); cluster of 3, n1 is kept$/,
  );
  assert.equal(stats.near_duplicates, 2);
  assert.equal(stats.near_clusters, 1);
});

test('units of different classes are never duplicates (an accepted and a rejected run with the same text)', () => {
  const { verdicts } = findDuplicates([
    unit('a', LONG, 'run:accepted'),
    unit('b', LONG, 'run:rejected'),
    unit('c', LONG, 'document'),
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
