import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pairwisePreference } from '../../tasks/adapters/pairwise-preference.ts';

const CTX = {
  stream: 'preference_judgments',
  sourceFile: 'data/_kb/preference_judgments/2026-10-05.jsonl',
  index: 0,
};

const row = (preference: unknown): Record<string, unknown> => ({
  instruction: 'Summarise the refund policy in one sentence.',
  output_1: 'Refunds any time, no questions asked.',
  output_2: 'Refunds within 30 days of delivery, unworn with tags.',
  preference,
  annotator: 'human:rater-02',
  generator_1: 'qwen2.5-7b-instruct',
  generator_2: 'gpt-4o-2024-08-06',
  dataset: 'northwind-support-pairwise',
});

test('pairwise-preference: preference 2 → output_2 chosen, a judgment keyed like runs of the same prompt', () => {
  assert.deepEqual(pairwisePreference.toEvidence(row(2), CTX), {
    type: 'keep',
    records: [
      {
        kind: 'judgment',
        trace_id: null,
        task_key: 'prompt:abcdc702a7a91f91',
        recorded_at: null,
        flags: [],
        judgment: {
          prompt: [{ role: 'user', content: 'Summarise the refund policy in one sentence.' }],
          chosen: 'Refunds within 30 days of delivery, unworn with tags.',
          rejected: 'Refunds any time, no questions asked.',
          judge: 'human:rater-02',
          strength: 1,
        },
      },
    ],
  });
});

test('pairwise-preference: numeric strings ("1.0", "2.0") and soft preferences are read', () => {
  const pick = (p: unknown): [string, number | null] => {
    const out = pairwisePreference.toEvidence(row(p), CTX);
    assert.ok(out.type === 'keep' && out.records[0]?.kind === 'judgment');
    return [out.records[0].judgment.chosen, out.records[0].judgment.strength];
  };
  assert.deepEqual(pick('1.0'), ['Refunds any time, no questions asked.', 1]);
  assert.deepEqual(pick('2.0'), ['Refunds within 30 days of delivery, unworn with tags.', 1]);
  assert.deepEqual(pick(1.75), ['Refunds within 30 days of delivery, unworn with tags.', 0.5]);
  assert.deepEqual(pick('1.25'), ['Refunds any time, no questions asked.', 0.5]);
});

test('pairwise-preference: ties, out-of-range, non-numeric, identical and empty outputs drop with reasons', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [row(1.5), 'PREFERENCE_TIE', '$.preference: 1.5 is a tie; a tie gives no chosen / rejected pair'],
    [
      row(3),
      'PREFERENCE_INVALID',
      '$.preference: expected a value from 1 (output_1 better) to 2 (output_2 better), got 3',
    ],
    [row('abc'), 'SCHEMA_TYPE', '$.preference: Invalid input: expected number, received string'],
    [row(null), 'SCHEMA_TYPE', '$.preference: Invalid input: expected number, received null'],
    [
      { ...row(1), preference: undefined },
      'SCHEMA_MISSING_FIELD',
      '$.preference: Invalid input: expected number, received undefined',
    ],
    [
      { ...row(1), output_2: 'Refunds any time, no questions asked. ' },
      'PREFERENCE_IDENTICAL',
      '$.output_2: is the same text as output_1; the judgment carries no preference',
    ],
    [{ ...row(1), output_1: '' }, 'EMPTY_OUTPUT', '$.output_1: is empty; a judgment needs two answers'],
    [
      { ...row(1), instruction: '' },
      'SCHEMA_INVALID',
      '$.instruction: Too small: expected string to have >=1 characters',
    ],
  ];
  for (const [r, reason, detail] of cases)
    assert.deepEqual(pairwisePreference.toEvidence(r, CTX), { type: 'drop', reason, detail });
});

test('pairwise-preference: an AlpacaEval `input` is appended to the instruction', () => {
  const out = pairwisePreference.toEvidence({ ...row(1), input: 'Audience: customers.' }, CTX);
  assert.ok(out.type === 'keep' && out.records[0]?.kind === 'judgment');
  assert.deepEqual(out.records[0].judgment.prompt, [
    { role: 'user', content: 'Summarise the refund policy in one sentence.\n\nAudience: customers.' },
  ]);
});

test('pairwise-preference: the AlpacaEval fixture: a numeric 2, a string "1.0", a tie and an out-of-range value', async () => {
  const { dropOf, keptOf, rowOutputs } = await import('./format-fixtures.ts');
  const out = rowOutputs(pairwisePreference, 'alpaca-eval-pairwise.jsonl');
  const j = (i: number) => {
    const r = keptOf(out[i])[0];
    return r?.kind === 'judgment'
      ? [r.judgment.chosen, r.judgment.rejected, r.judgment.judge, r.judgment.strength, r.flags]
      : null;
  };
  assert.deepEqual(j(0), [
    '1. Eat a balanced diet.\n2. Exercise regularly.\n3. Get enough sleep.',
    'Eat well, sleep, exercise.',
    'alpaca_eval_gpt4',
    1,
    [],
  ]);
  assert.deepEqual(j(1), ['Bonjour', 'Bonsoir', 'human:rater-2', 1, []]);
  assert.deepEqual(dropOf(out[2]), {
    reason: 'PREFERENCE_TIE',
    detail: '$.preference: 1.5 is a tie; a tie gives no chosen / rejected pair',
  });
  assert.deepEqual(dropOf(out[3]), {
    reason: 'PREFERENCE_INVALID',
    detail: '$.preference: expected a value from 1 (output_1 better) to 2 (output_2 better), got 3',
  });
});
