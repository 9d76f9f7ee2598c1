import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KtoSample } from '../../schemas/kto-sample.ts';
import { PreferenceSample } from '../../schemas/preference-sample.ts';
import type { ChatMessage } from '../../schemas/chat.ts';
import type { QuarantineRecord } from '../../schemas/quarantine-record.ts';
import { exportPreference } from '../../tasks/phases/export-preference/run.ts';
import { minePreferences, pairOrDrop } from '../../tasks/phases/export-preference/mining.ts';
import {
  editSignal,
  makeProject,
  mkJudgment,
  mkRun,
  prov,
  readRows,
  writeEvidence,
  writeScored,
} from './fixture.ts';

/** A run recorded at a given time (same day: the order within the day is by time, then run_id). */
const at = (recordedAt: string, spec: Parameters<typeof mkRun>[0]) => ({
  ...mkRun(spec),
  recorded_at: recordedAt,
});

/** The words of a pair side / completion (its messages' texts). */
const txt = (side: readonly ChatMessage[]): string => side.map((m) => m.content ?? '').join('\n');

const opts = { cap: 4, testFraction: 0 };

test('an accepted and a rejected run of one task make an outcome pair with provenance for both sides', () => {
  const messages = (answer: string) => [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Sum 2 and 2' },
    { role: 'assistant' as const, content: answer, reasoning: 'hidden' },
  ];
  const { pairs, kto, drops } = minePreferences(
    [
      mkRun({ id: 'b-rej', category: 'rejected', task: 'T', messages: messages('5') }),
      mkRun({ id: 'a-acc', category: 'accepted', task: 'T', messages: messages('4') }),
    ],
    [],
    opts,
  );
  // a-acc comes first (same time, run_id order): no earlier partner, so a KTO row; b-rej pairs with it
  assert.deepEqual(
    kto.map((k) => [k.run_id, k.label]),
    [['a-acc', true]],
  );
  assert.deepEqual(drops, []);
  assert.equal(pairs.length, 1);
  const p = pairs[0] as PreferenceSample;
  assert.match(p.id, /^pref_[0-9a-f]{24}$/);
  assert.deepEqual(
    { ...p, id: 'x' },
    {
      schema_version: 2,
      id: 'x',
      pair_type: 'outcome',
      task_key: 'T',
      prompt: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Sum 2 and 2' },
      ],
      derived_tools: [],
      chosen: [{ role: 'assistant', content: '4' }],
      rejected: [{ role: 'assistant', content: '5' }],
      chosen_id: 'a-acc',
      rejected_id: 'b-rej',
      chosen_provenance: prov('a-acc'),
      rejected_provenance: prov('b-rej'),
      repairs: { chosen: [], rejected: [] },
      split: 'train',
    },
  );
});

test('a failed local attempt pairs with its accepted escalation, even under another task_key', () => {
  const local = at('2024-05-01T10:00:00.000Z', {
    id: 'local-1',
    category: 'rejected',
    task: 'local:abc',
    prompt: 'Fix the bug',
    answer: 'I cannot.',
  });
  const cloud = at('2024-05-01T10:05:00.000Z', {
    id: 'cloud-1',
    category: 'accepted',
    task: 'cloud:abc',
    prompt: 'Fix the bug',
    answer: 'Patched line 3.',
    escalatedFrom: 'local-1',
  });
  const { pairs, kto } = minePreferences([local, cloud], [], opts);
  assert.deepEqual(
    pairs.map((p) => [p.pair_type, p.chosen_id, p.rejected_id, txt(p.chosen), txt(p.rejected)]),
    [['outcome', 'cloud-1', 'local-1', 'Patched line 3.', 'I cannot.']],
  );
  // the local attempt came first, with no partner then: a KTO row, which stays
  assert.deepEqual(
    kto.map((k) => [k.run_id, k.label]),
    [['local-1', false]],
  );
});

test('trials of one task are decided in time order: each pairs with the earlier trials of the other outcome, earliest first, up to the cap', () => {
  // run_id order is the reverse of time order: time decides
  const trials = [
    at('2024-05-01T13:00:00.000Z', {
      id: 't0',
      category: 'accepted',
      task: 'tau:7',
      answer: 'refund issued',
    }),
    at('2024-05-01T12:00:00.000Z', { id: 't1', category: 'rejected', task: 'tau:7', answer: 'sorry, no' }),
    at('2024-05-01T11:00:00.000Z', { id: 't2', category: 'accepted', task: 'tau:7', answer: 'refund done' }),
    at('2024-05-01T10:00:00.000Z', { id: 't3', category: 'rejected', task: 'tau:7', answer: 'transferred' }),
    at('2024-05-01T09:00:00.000Z', { id: 't4', category: 'rejected', task: 'tau:7', answer: 'error' }),
  ];
  const pairsOf = (m: { pairs: PreferenceSample[] }): string[] =>
    m.pairs.map((p) => `${p.chosen_id}>${p.rejected_id}`).sort();
  // t4, t3: no earlier accepted trial (KTO rows); t2 pairs with t4 and t3; t1 with t2; t0 with t4,
  // t3 and t1 (one pair each so far: earliest first)
  const all = minePreferences(trials, [], { cap: 10, testFraction: 0 });
  assert.deepEqual(pairsOf(all), ['t0>t1', 't0>t3', 't0>t4', 't2>t1', 't2>t3', 't2>t4']);
  assert.deepEqual(all.kto.map((k) => k.run_id).sort(), ['t3', 't4']);
  assert.equal(
    all.stats.runs_paired + all.stats.runs_kto,
    5,
    'each trial one unit: paired on arrival or a KTO row',
  );
  const capped = minePreferences(trials, [], { cap: 3, testFraction: 0 });
  assert.deepEqual(pairsOf(capped), ['t2>t1', 't2>t3', 't2>t4']);
  assert.equal(capped.stats.pairs_capped, 3, "t0's three candidates: the task was at the cap");
  assert.deepEqual(
    capped.kto.map((k) => k.run_id).sort(),
    ['t0', 't3', 't4'],
    't0 came when the task was at the cap',
  );
});

test('partners are taken fewest pairs first, then earliest: a run that joins two task groups pairs first with the side that has none', () => {
  const cap2 = { cap: 2, testFraction: 0 };
  const runs = [
    at('2024-05-01T09:00:00.000Z', {
      id: 'a1',
      category: 'accepted',
      task: 'T',
      answer: 'Refund issued to card 1.',
    }),
    at('2024-05-01T10:00:00.000Z', {
      id: 'r1',
      category: 'rejected',
      task: 'T',
      answer: 'I cannot refund it.',
    }),
    // another task, one accepted run: no partner in its own group
    at('2024-05-01T11:00:00.000Z', {
      id: 'a2',
      category: 'accepted',
      task: 'E',
      prompt: 'Question for T?',
      answer: 'Refund issued to card 2.',
    }),
    // a rejected retry of a2 under task T: joins both groups (T has 1 pair, the cap is 2)
    at('2024-05-01T12:00:00.000Z', {
      id: 'r2',
      category: 'rejected',
      task: 'T',
      escalatedFrom: 'a2',
      answer: 'Refunds are not possible.',
    }),
  ];
  const { pairs, kto, stats } = minePreferences(runs, [], cap2);
  // r2's candidates: a1 (1 pair, earlier) and a2 (0 pairs): a2 first, then the cap stops a1
  assert.deepEqual(pairs.map((p) => `${p.chosen_id}>${p.rejected_id}`).sort(), ['a1>r1', 'a2>r2']);
  assert.equal(stats.pairs_capped, 1);
  assert.deepEqual(kto.map((k) => k.run_id).sort(), ['a1', 'a2']);
});

test('runs left out by the cap or without a partner become KTO rows (true for accepted, false for rejected)', () => {
  const runs = [
    mkRun({ id: 'a1', category: 'accepted', task: 'T', answer: 'good 1' }),
    mkRun({ id: 'a2', category: 'accepted', task: 'T', answer: 'good 2' }),
    mkRun({ id: 'r1', category: 'rejected', task: 'T', answer: 'bad 1' }),
    mkRun({ id: 'r2', category: 'rejected', task: 'T', answer: 'bad 2' }),
    mkRun({ id: 'lonely-rej', category: 'rejected', task: 'U', prompt: 'p', answer: 'nope' }),
    mkRun({ id: 'lonely-acc', category: 'accepted', task: 'V', prompt: 'p2', answer: 'yes' }),
  ];
  const { pairs, kto, stats } = minePreferences(runs, [], { cap: 1, testFraction: 0 });
  // time order a1, a2, r1, r2: a1 and a2 find no earlier partner (KTO rows); r1 pairs with a1 (no
  // pairs yet, earliest) and the task is at the cap; r2 finds the task at the cap (a KTO row)
  assert.deepEqual(
    pairs.map((p) => `${p.chosen_id}>${p.rejected_id}`),
    ['a1>r1'],
  );
  assert.equal(stats.pairs_capped, 3, 'a2 for r1; a1 and a2 for r2');
  assert.deepEqual(kto.map((k) => [k.run_id, k.label, txt(k.completion)]).sort(), [
    ['a1', true, 'good 1'],
    ['a2', true, 'good 2'],
    ['lonely-acc', true, 'yes'],
    ['lonely-rej', false, 'nope'],
    ['r2', false, 'bad 2'],
  ]);
  const lonely = kto.find((k) => k.run_id === 'lonely-rej') as KtoSample;
  assert.deepEqual(
    { ...lonely, id: 'x' },
    {
      schema_version: 2,
      id: 'x',
      run_id: 'lonely-rej',
      task_key: 'U',
      prompt: [{ role: 'user', content: 'p' }],
      derived_tools: [],
      completion: [{ role: 'assistant', content: 'nope' }],
      repairs: [],
      label: false,
      split: 'train',
      provenance: prov('lonely-rej'),
    },
  );
  assert.equal(stats.runs_in, stats.runs_paired + stats.runs_kto + stats.runs_quarantined);
});

test('a human correction is the chosen side against the original answer, with the review row as provenance', () => {
  const review = editSignal('p1', 'Use `git rebase -i`.');
  const { pairs } = minePreferences(
    [
      mkRun({
        id: 'p1',
        category: 'partially_accepted',
        task: 'G',
        prompt: 'Squash commits?',
        answer: 'Use git merge.',
        correction: 'Use `git rebase -i`.',
        signals: [review],
      }),
    ],
    [],
    opts,
  );
  assert.deepEqual(
    pairs.map((p) => ({
      type: p.pair_type,
      chosen_id: p.chosen_id,
      rejected_id: p.rejected_id,
      chosen: txt(p.chosen),
      rejected: txt(p.rejected),
      cp: p.chosen_provenance,
      rp: p.rejected_provenance,
    })),
    [
      {
        type: 'correction',
        chosen_id: review.evidence_id,
        rejected_id: 'p1',
        chosen: 'Use `git rebase -i`.',
        rejected: 'Use git merge.',
        cp: review.provenance,
        rp: prov('p1'),
      },
    ],
  );
});

test('identical texts are never paired: corrections, judgments and same-answer runs are quarantined IDENTICAL_TEXT', () => {
  const runs = [
    mkRun({
      id: 'p-same',
      category: 'partially_accepted',
      task: 'A',
      answer: 'Same  answer',
      correction: 'Same answer ',
      signals: [editSignal('p-same', 'Same answer ')],
    }),
    mkRun({ id: 'acc', category: 'accepted', task: 'B', answer: 'forty two' }),
    mkRun({ id: 'rej', category: 'rejected', task: 'B', answer: 'forty  two' }),
  ];
  const { pairs, kto, drops } = minePreferences(runs, [mkJudgment('j', 'hi', 'Hello', 'Hello')], opts);
  assert.deepEqual(pairs, []);
  // acc comes first: a KTO row; rej, the same conversation rejected later, contradicts it and is
  // quarantined (the earlier run's row stands: a later run never changes it)
  assert.deepEqual(
    kto.map((k) => k.run_id),
    ['acc'],
  );
  assert.deepEqual(
    drops.map((d) => [d.record, d.reason, d.detail]).sort(),
    [
      [
        mkJudgment('j', '', '', '').evidence_id,
        'IDENTICAL_TEXT',
        'the two conversations are the same 2 messages',
      ],
      ['p-same', 'IDENTICAL_TEXT', 'after the 1 shared message both sides say the same (up to whitespace)'],
      [
        'rej',
        'IDENTICAL_TEXT',
        'same conversation as accepted run acc of the same task, an earlier run: contradicting outcomes',
      ],
    ].sort(),
  );
});

test("trials that part at the model's tool call pair: the prompt is what they share, each side the rest of its own trajectory", () => {
  const trial = (id: string, category: 'accepted' | 'rejected', action: string) =>
    mkRun({
      id,
      category,
      task: 'tau:9',
      messages: [
        { role: 'user', content: 'Cancel my booking' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: `c-${id}`, type: 'function', function: { name: action, arguments: '{"id":7}' } },
          ],
        },
        { role: 'tool', tool_call_id: `c-${id}`, content: 'ok' },
        { role: 'assistant', content: 'Done, your booking is cancelled.' },
        { role: 'user', content: 'Thanks!' },
        { role: 'assistant', content: "You're welcome! Have a great day!" },
      ],
    });
  const { pairs, kto, drops } = minePreferences(
    [trial('good', 'accepted', 'cancel_booking'), trial('bad', 'rejected', 'delete_account')],
    [],
    opts,
  );
  assert.deepEqual(drops, []);
  assert.deepEqual(
    kto.map((k) => k.run_id),
    ['bad'],
    'the earlier trial found no partner when it came',
  );
  const p = pairs[0] as PreferenceSample;
  assert.deepEqual(p.prompt, [{ role: 'user', content: 'Cancel my booking' }]);
  const side = (id: string, action: string) => [
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: `c-${id}`, type: 'function', function: { name: action, arguments: '{"id":7}' } }],
    },
    { role: 'tool', tool_call_id: `c-${id}`, content: 'ok' },
    // the trailing "Thanks!" / "You're welcome!" exchange is not part of either side
    { role: 'assistant', content: 'Done, your booking is cancelled.' },
  ];
  assert.deepEqual(p.chosen, side('good', 'cancel_booking'));
  assert.deepEqual(p.rejected, side('bad', 'delete_account'));
  // both called tools are declared, derived from their calls
  assert.deepEqual(p.derived_tools, ['cancel_booking', 'delete_account']);
  assert.deepEqual(
    p.tools?.map((t) => [t.function.name, t.function.parameters]),
    [
      ['cancel_booking', { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }],
      ['delete_account', { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }],
    ],
  );
});

test('two trials whose task is worded differently are not a pair: both become KTO rows, no candidate at all', () => {
  const runs = [
    mkRun({
      id: 'a',
      category: 'accepted',
      task: 'T',
      prompt: 'Cancel booking H8Q05L',
      answer: 'Cancelled.',
    }),
    mkRun({ id: 'r', category: 'rejected', task: 'T', prompt: 'Please cancel H8Q05L', answer: 'I cannot.' }),
  ];
  const { pairs, kto, drops, stats } = minePreferences(runs, [], opts);
  assert.deepEqual(pairs, []);
  assert.deepEqual(drops, []);
  assert.deepEqual(kto.map((k) => [k.run_id, k.label]).sort(), [
    ['a', true],
    ['r', false],
  ]);
  assert.equal(stats.runs_no_shared_opening, 2);
});

test('trials that part at a user turn are refused PARTED_BY_INPUT; sides that are only pleasantries COURTESY_ONLY', () => {
  const conv = (user2: string, last: string) => [
    { role: 'user' as const, content: 'Cancel my trip' },
    { role: 'assistant' as const, content: 'Which reservation?' },
    { role: 'user' as const, content: user2 },
    { role: 'assistant' as const, content: last },
  ];
  const parted = minePreferences(
    [
      mkRun({
        id: 'a',
        category: 'accepted',
        task: 'T',
        messages: conv('H8Q05L, I am ill', 'Cancelled with a refund.'),
      }),
      mkRun({
        id: 'r',
        category: 'rejected',
        task: 'T',
        messages: conv('H8Q05L, plans changed', 'No refund, sorry.'),
      }),
    ],
    [],
    opts,
  );
  assert.deepEqual(
    parted.drops.map((d) => [d.reason, d.detail]),
    [
      [
        'PARTED_BY_INPUT',
        "the conversations part at message 2 with a user turn (chosen) and a user turn (rejected): the input differed there, not the model's choice",
      ],
    ],
  );
  assert.equal(parted.kto.length, 2);
  const j = mkJudgment('j', 'Thanks for the help!', "You're welcome!", 'No problem, have a great day!');
  const courtesy = minePreferences([], [j], opts);
  assert.deepEqual(
    courtesy.drops.map((d) => [d.reason, d.detail]),
    [['COURTESY_ONLY', 'both sides are only pleasantries: there is nothing to prefer']],
  );
});

test('self-pairs are refused: same id, or two runs read from one source row', () => {
  const conv = (a: string): ChatMessage[] => [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: a },
  ];
  const side = { id: 'r1', messages: conv('a'), provenance: prov('r1'), tools: [], repairs: [] };
  const out = pairOrDrop(
    {
      pair_type: 'outcome',
      task_key: 'T',
      chosen: side,
      rejected: { ...side, messages: conv('b') },
      sameSourceRow: false,
    },
    0,
  );
  assert.equal(out.type, 'drop');
  assert.deepEqual(out.type === 'drop' && [out.reason, out.detail], [
    'SELF_PAIR',
    'chosen and rejected are both r1',
  ]);
  // two runs split out of one source row must not be paired with each other
  const shared = prov('one-row', 3);
  const { pairs, kto, drops } = minePreferences(
    [
      mkRun({ id: 'x1', category: 'accepted', task: 'S', answer: 'yes', provenance: shared }),
      mkRun({ id: 'x2', category: 'rejected', task: 'S', answer: 'no', provenance: shared }),
    ],
    [],
    opts,
  );
  assert.deepEqual(pairs, []);
  assert.deepEqual(
    drops.map((d) => [d.reason, d.detail, d.ref]),
    [['SELF_PAIR', 'x1 and x2 come from the same source row data/_kb/gateway.jsonl:3', 'x1']],
  );
  assert.deepEqual(kto.map((k) => [k.run_id, k.label]).sort(), [
    ['x1', true],
    ['x2', false],
  ]);
});

test('the PreferenceSample schema itself refuses a self-pair, identical sides and a side that does not start with the model', () => {
  const base = {
    schema_version: 2,
    id: 'pref_0123456789abcdef01234567',
    pair_type: 'outcome',
    task_key: null,
    prompt: [{ role: 'user', content: 'q' }],
    derived_tools: [],
    chosen: [{ role: 'assistant', content: 'a' }],
    rejected: [{ role: 'assistant', content: 'b' }],
    chosen_id: 'r1',
    rejected_id: 'r2',
    chosen_provenance: prov('r1'),
    rejected_provenance: prov('r2'),
    repairs: { chosen: [], rejected: [] },
    split: 'train',
  };
  assert.equal(PreferenceSample.safeParse(base).success, true);
  assert.deepEqual(
    PreferenceSample.safeParse({ ...base, rejected_id: 'r1' }).error?.issues.map((i) => i.message),
    ['self-pair: chosen_id equals rejected_id'],
  );
  assert.deepEqual(
    PreferenceSample.safeParse({
      ...base,
      rejected: [{ role: 'assistant', content: 'a' }],
    }).error?.issues.map((i) => i.message),
    ['chosen and rejected are identical'],
  );
  assert.deepEqual(
    PreferenceSample.safeParse({
      ...base,
      rejected: [
        { role: 'user', content: 'and?' },
        { role: 'assistant', content: 'b' },
      ],
    }).error?.issues.map((i) => i.message),
    ['a pair side starts with an assistant turn'],
  );
});

test('export-preference writes pairs, KTO rows and a quarantine; no written pair is a self-pair or identical', async () => {
  const { root, config } = await makeProject({ preference_cap_per_task: 2 });
  await writeScored(root, {
    'a.jsonl': [
      mkRun({ id: 'acc-1', category: 'accepted', task: 'T1', answer: 'right' }),
      mkRun({ id: 'rej-1', category: 'rejected', task: 'T1', answer: 'wrong' }),
      mkRun({ id: 'rev-1', category: 'needs_human_review', task: 'T1' }),
      mkRun({ id: 'part-1', category: 'partially_accepted', task: 'T2' }),
      mkRun({ id: 'rej-2', category: 'rejected', task: 'T3', messages: [{ role: 'user', content: 'q' }] }),
    ],
  });
  await writeEvidence(root, { 'docs.jsonl': [mkJudgment('j1', 'Greet me', 'Hello there!', 'What?')] });
  const res = await exportPreference(root, config);
  const pairs = await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected');
  assert.deepEqual(pairs.map((p) => [p.pair_type, p.chosen_id, p.rejected_id]).sort(), [
    [
      'judgment',
      `${mkJudgment('j1', '', '', '').evidence_id}#chosen`,
      `${mkJudgment('j1', '', '', '').evidence_id}#rejected`,
    ],
    ['outcome', 'acc-1', 'rej-1'],
  ]);
  for (const p of pairs) {
    assert.notEqual(p.chosen_id, p.rejected_id);
    assert.notEqual(txt(p.chosen).trim(), txt(p.rejected).trim());
    assert.equal(PreferenceSample.safeParse(p).success, true);
  }
  assert.deepEqual(
    (await readRows<KtoSample>(root, 'exports/preference/unpaired_kto')).map((k) => k.run_id),
    ['acc-1'],
    'acc-1 came first and found no partner then: a KTO row, and the earlier side of the pair',
  );
  const q = await readRows<QuarantineRecord>(root, 'exports/preference/_quarantine');
  assert.deepEqual(
    q.map((r) => [r.record_id, r.reason, r.stage]),
    [
      ['part-1', 'CATEGORY_EXCLUDED', 'export-preference'],
      ['rej-2', 'NO_SUBSTANCE', 'export-preference'],
      ['rev-1', 'CATEGORY_EXCLUDED', 'export-preference'],
    ],
  );
  assert.deepEqual(res.counts, {
    in: 6,
    out: 3,
    quarantined: 3,
    by_reason: { CATEGORY_EXCLUDED: 2, NO_SUBSTANCE: 1 },
  });
});

test('a correction without its review signal attached is still a pair (chosen id <run>#correction), not a self-pair', () => {
  const { pairs, drops } = minePreferences(
    [mkRun({ id: 'p2', category: 'partially_accepted', task: 'H', answer: 'old', correction: 'new' })],
    [],
    opts,
  );
  assert.deepEqual(drops, []);
  assert.deepEqual(
    pairs.map((p) => [p.chosen_id, p.rejected_id, p.chosen_provenance, p.rejected_provenance]),
    [['p2#correction', 'p2', prov('p2'), prov('p2')]],
  );
});
