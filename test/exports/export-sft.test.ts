import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { CATEGORIES } from '../../schemas/category.ts';
import { SftSample } from '../../schemas/sft-sample.ts';
import type { QuarantineRecord } from '../../schemas/quarantine-record.ts';
import type { Manifest } from '../../tasks/lib/manifest.ts';
import { exportSft, toSftSample, verifySftFile } from '../../tasks/phases/export-sft/run.ts';
import { isSftNever, SFT_NEVER } from '../../tasks/phases/export-sft/contract.ts';
import { editSignal, makeProject, mkRun, prov, readRows, snapshot, writeScored } from './fixture.ts';

const fourCategories = () => [
  mkRun({ id: 'run-acc', category: 'accepted', task: 'T1', prompt: 'What is 2+2?', answer: '4' }),
  mkRun({
    id: 'run-part',
    category: 'partially_accepted',
    task: 'T2',
    prompt: 'Capital of France?',
    answer: 'Lyon',
    correction: 'Paris',
    signals: [editSignal('run-part', 'Paris')],
  }),
  mkRun({ id: 'run-rej', category: 'rejected', task: 'T3' }),
  mkRun({ id: 'run-review', category: 'needs_human_review', task: 'T4' }),
];

test('strict export-sft writes only accepted runs; every other run is quarantined CATEGORY_EXCLUDED', async () => {
  const { root, config } = await makeProject();
  await writeScored(root, { '2024/05/01/runs.jsonl': fourCategories() });
  const res = await exportSft(root, config, { includePartial: false });
  const rows = await readRows<SftSample>(root, 'exports/sft/instruction_response');
  assert.deepEqual(
    rows.map((r) => [r.run_id, r.quality_score]),
    [['run-acc', 'accepted']],
  );
  const row = rows[0] as SftSample;
  assert.match(row.id, /^sft_[0-9a-f]{24}$/);
  assert.deepEqual(
    { ...row, id: 'x' },
    {
      schema_version: 2,
      id: 'x',
      run_id: 'run-acc',
      task_key: 'T1',
      quality_score: 'accepted',
      messages: [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4' },
      ],
      tools: [],
      derived_tools: [],
      repairs: [],
      split: 'train',
      provenance: prov('run-acc'),
    },
  );
  const q = await readRows<QuarantineRecord>(root, 'exports/sft/_quarantine');
  assert.deepEqual(
    q.map((r) => [r.record_id, r.reason, r.detail, r.stage]),
    [
      [
        'run-part',
        'CATEGORY_EXCLUDED',
        'partially_accepted runs are exported only with --include-partial (exports/sft-partial)',
        'export-sft',
      ],
      ['run-rej', 'CATEGORY_EXCLUDED', 'rejected runs never reach SFT (SFT_NEVER)', 'export-sft'],
      [
        'run-review',
        'CATEGORY_EXCLUDED',
        'needs_human_review runs never reach SFT (SFT_NEVER)',
        'export-sft',
      ],
    ],
  );
  assert.deepEqual(res.counts, { in: 4, out: 1, quarantined: 3, by_reason: { CATEGORY_EXCLUDED: 3 } });
  const manifest = JSON.parse(
    await fsp.readFile(join(root, 'exports/sft/_manifest.json'), 'utf8'),
  ) as Manifest;
  assert.deepEqual(manifest.parameters, {
    export_layout: 2,
    include_partial: false,
    quality_allowed: ['accepted'],
    test_fraction: 0,
  });
  assert.deepEqual(
    manifest.inputs.map((i) => [i.path, i.rows]),
    [['data/screened/runs/2024/05/01/runs.jsonl', 4]],
  );
  assert.deepEqual(manifest.counts, { runs_in: 4, rows: 1, train: 1, test: 0, quarantined: 3 });
  const sftEntry = manifest.files.find((f) => f.path === 'exports/sft/instruction_response/2024-05-01.jsonl');
  const bytes = await fsp.readFile(join(root, 'exports/sft/instruction_response/2024-05-01.jsonl'));
  assert.deepEqual(sftEntry && [sftEntry.bytes, sftEntry.rows], [bytes.length, 1]);
  assert.equal(
    existsSync(join(root, 'exports/sft-partial')),
    false,
    'the strict variant never writes the partial folder',
  );
});

test('--include-partial writes exports/sft-partial and uses the human correction as the final answer', async () => {
  const { root, config } = await makeProject();
  await writeScored(root, { 'runs.jsonl': fourCategories() });
  await exportSft(root, config, { includePartial: true });
  const rows = await readRows<SftSample>(root, 'exports/sft-partial/instruction_response');
  const byRun = Object.fromEntries(rows.map((r) => [r.run_id, r]));
  assert.deepEqual(Object.keys(byRun).sort(), ['run-acc', 'run-part']);
  assert.equal(byRun['run-part']?.quality_score, 'partially_accepted');
  assert.deepEqual(byRun['run-part']?.messages, [
    { role: 'user', content: 'Capital of France?' },
    { role: 'assistant', content: 'Paris' },
  ]);
  const q = await readRows<QuarantineRecord>(root, 'exports/sft-partial/_quarantine');
  assert.deepEqual(
    q.map((r) => r.record_id),
    ['run-rej', 'run-review'],
  );
  assert.equal(existsSync(join(root, 'exports/sft')), false, 'the partial variant has its own folder');
});

test('layer 1: the SftSample schema rejects rejected and needs_human_review quality scores', () => {
  const base = {
    schema_version: 2,
    id: 'sft_0123456789abcdef01234567',
    run_id: 'r',
    task_key: null,
    messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
    ],
    tools: [],
    derived_tools: [],
    repairs: [],
    split: 'train',
    provenance: prov('r'),
  };
  assert.equal(SftSample.safeParse({ ...base, quality_score: 'accepted' }).success, true);
  assert.equal(SftSample.safeParse({ ...base, quality_score: 'partially_accepted' }).success, true);
  for (const bad of ['rejected', 'needs_human_review']) {
    const r = SftSample.safeParse({ ...base, quality_score: bad });
    assert.equal(r.success, false, bad);
    assert.deepEqual(
      r.error?.issues.map((i) => i.path),
      [['quality_score']],
    );
  }
});

test('layer 2: SFT_NEVER drops rejected and needs_human_review even when the allowed set includes them', () => {
  assert.deepEqual([...SFT_NEVER], ['rejected', 'needs_human_review']);
  assert.deepEqual(CATEGORIES.filter(isSftNever), ['rejected', 'needs_human_review']);
  for (const category of ['rejected', 'needs_human_review'] as const) {
    const out = toSftSample(mkRun({ id: `r-${category}`, category }), {
      allowed: CATEGORIES,
      testFraction: 0,
    });
    assert.deepEqual(out, {
      type: 'drop',
      reason: 'CATEGORY_EXCLUDED',
      detail: `${category} runs never reach SFT (SFT_NEVER)`,
    });
  }
  assert.equal(
    toSftSample(mkRun({ id: 'ok', category: 'accepted' }), { allowed: CATEGORIES, testFraction: 0 }).type,
    'keep',
  );
});

test('layer 3: the re-read check throws on a forbidden quality_score in a written file', async () => {
  const { root } = await makeProject();
  const good = toSftSample(mkRun({ id: 'ok', category: 'accepted' }), {
    allowed: ['accepted'],
    testFraction: 0,
  });
  assert.equal(good.type, 'keep');
  const sample = (good as { sample: SftSample }).sample;
  const path = join(root, 'sft.jsonl');
  await fsp.writeFile(path, `${JSON.stringify(sample)}\n`);
  assert.equal(await verifySftFile(path, ['accepted']), 1);
  // a rejected row injected on line 2 (bypassing layers 1 and 2)
  await fsp.appendFile(
    path,
    `${JSON.stringify({ ...sample, id: 'sft_ffffffffffffffffffffffff', quality_score: 'rejected' })}\n`,
  );
  await assert.rejects(
    verifySftFile(path, ['accepted'], 'exports/sft/instruction_response/2024-05-01.jsonl'),
    {
      message:
        'SFT re-read check failed: exports/sft/instruction_response/2024-05-01.jsonl:2 (sft_ffffffffffffffffffffffff) has quality_score "rejected", allowed: accepted. A forbidden run got past the SFT_NEVER filter and the schema; nothing was published.',
    },
  );
  // in the strict variant a partially_accepted row is forbidden too
  await fsp.writeFile(path, `${JSON.stringify({ ...sample, quality_score: 'partially_accepted' })}\n`);
  await assert.rejects(
    verifySftFile(path, ['accepted']),
    /quality_score "partially_accepted", allowed: accepted/,
  );
  assert.equal(await verifySftFile(path, ['accepted', 'partially_accepted']), 1);
});

test('layer 3 in the phase: an injected forbidden row fails the export and the previous output stays', async () => {
  const { root, config } = await makeProject();
  await writeScored(root, { 'runs.jsonl': fourCategories() });
  await exportSft(root, config, { includePartial: false });
  const before = await snapshot(join(root, 'exports/sft'));
  await writeScored(root, {
    'runs.jsonl': [...fourCategories(), mkRun({ id: 'run-acc-2', category: 'accepted' })],
  });
  const inject = async (stagedFile: string): Promise<void> => {
    const [first] = (await fsp.readFile(stagedFile, 'utf8')).split('\n');
    await fsp.appendFile(
      stagedFile,
      `${JSON.stringify({ ...JSON.parse(first as string), quality_score: 'needs_human_review' })}\n`,
    );
  };
  await assert.rejects(
    exportSft(root, config, { includePartial: false, hooks: { beforeVerify: inject } }),
    /SFT re-read check failed: exports\/sft\/instruction_response\/runs.jsonl:3 .* has quality_score "needs_human_review"/,
  );
  assert.deepEqual(await snapshot(join(root, 'exports/sft')), before, 'nothing was published');
  assert.deepEqual(await fsp.readdir(join(root, '.distill/staging')), [], 'the staging folder was removed');
});

test('conversations are cleaned: a trailing courtesy exchange dropped, reasoning removed', async () => {
  const run = mkRun({
    id: 'r',
    category: 'accepted',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        reasoning: 'I should call the tool',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '3°C' },
      { role: 'assistant', content: 'It is 3°C.', reasoning: 'easy' },
      { role: 'user', content: 'thanks!' },
      { role: 'assistant', content: "You're welcome! Have a great day!" },
    ],
  });
  const out = toSftSample(run, { allowed: ['accepted'], testFraction: 0 });
  assert.equal(out.type, 'keep');
  assert.deepEqual((out as { sample: SftSample }).sample.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather in Oslo?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: '3°C' },
    { role: 'assistant', content: 'It is 3°C.' },
  ]);
});

test('unusable accepted runs are quarantined with their reason codes and the counts reconcile', async () => {
  const { root, config } = await makeProject();
  const call = (args: string) => ({
    role: 'assistant' as const,
    content: null,
    tool_calls: [{ id: 'c1', type: 'function' as const, function: { name: 'f', arguments: args } }],
  });
  await writeScored(root, {
    'runs.jsonl': [
      mkRun({ id: 'empty', category: 'accepted', messages: [] }),
      mkRun({ id: 'no-assistant', category: 'accepted', messages: [{ role: 'user', content: 'hello?' }] }),
      mkRun({
        id: 'no-user',
        category: 'accepted',
        messages: [
          { role: 'system', content: 's' },
          { role: 'assistant', content: 'hi' },
        ],
      }),
      mkRun({
        id: 'bad-args',
        category: 'accepted',
        messages: [
          { role: 'user', content: 'q' },
          call('{city: Oslo}'),
          { role: 'tool', tool_call_id: 'c1', content: 'r' },
          { role: 'assistant', content: 'a' },
        ],
      }),
      mkRun({
        id: 'array-args',
        category: 'accepted',
        messages: [
          { role: 'user', content: 'q' },
          call('[1,2]'),
          { role: 'tool', tool_call_id: 'c1', content: 'r' },
          { role: 'assistant', content: 'a' },
        ],
      }),
      mkRun({
        id: 'orphan',
        category: 'accepted',
        messages: [
          { role: 'user', content: 'q' },
          { role: 'tool', tool_call_id: 'zz', content: 'r' },
          { role: 'assistant', content: 'a' },
        ],
      }),
      mkRun({
        id: 'empty-final',
        category: 'accepted',
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: '  ' },
        ],
      }),
      mkRun({ id: 'good', category: 'accepted' }),
    ],
  });
  const res = await exportSft(root, config, { includePartial: false });
  const q = await readRows<QuarantineRecord>(root, 'exports/sft/_quarantine');
  assert.deepEqual(
    q.map((r) => [r.record_id, r.reason, r.detail]),
    [
      [
        'array-args',
        'TOOL_ARGS_INVALID',
        'messages[1].tool_calls[0] (f): arguments must encode a JSON object, got an array',
      ],
      [
        'bad-args',
        'TOOL_ARGS_INVALID',
        `messages[1].tool_calls[0] (f): arguments is not valid JSON (${jsonError('{city: Oslo}')}); got "{city: Oslo}"`,
      ],
      ['empty', 'EMPTY_CONVERSATION', 'the run has no messages'],
      [
        'empty-final',
        'NO_SUBSTANCE',
        'no assistant turn does work: each is empty or only a pleasantry, so there is no answer to learn',
      ],
      ['no-assistant', 'NO_ASSISTANT_TURN', "the run's 1 messages have no assistant turn"],
      ['no-user', 'NO_USER_TURN', 'no user turn: there is no instruction to learn from'],
      [
        'orphan',
        'TOOL_RESULT_ORPHAN',
        'messages[1] is a tool result for call "zz", which the assistant turn before it did not make (or which was answered already)',
      ],
    ],
  );
  assert.deepEqual(
    (await readRows<SftSample>(root, 'exports/sft/instruction_response')).map((r) => r.run_id),
    ['good'],
  );
  assert.equal(res.counts.in, res.counts.out + res.counts.quarantined);
  assert.deepEqual(res.counts.by_reason, {
    EMPTY_CONVERSATION: 1,
    NO_ASSISTANT_TURN: 1,
    NO_SUBSTANCE: 1,
    NO_USER_TURN: 1,
    TOOL_ARGS_INVALID: 2,
    TOOL_RESULT_ORPHAN: 1,
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test('a missing screened manifest is a user error that names the command to run', async () => {
  const { root, config } = await makeProject();
  await assert.rejects(exportSft(root, config, { includePartial: false }), {
    name: 'UserError',
    message: 'data/screened/_manifest.json not found: build it first with `npm run screen`',
  });
});
