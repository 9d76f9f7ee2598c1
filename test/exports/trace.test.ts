import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceRecord } from '../../schemas/evidence-record.ts';
import type { Provenance } from '../../schemas/provenance.ts';
import type { ScoredRun } from '../../schemas/scored-run.ts';
import { exportPreference } from '../../tasks/phases/export-preference/run.ts';
import { exportRag } from '../../tasks/phases/export-rag/run.ts';
import { exportSft } from '../../tasks/phases/export-sft/run.ts';
import { sigHash } from '../../tasks/lib/hash.ts';
import { formatTrace, traceRow } from '../../tasks/inspect/trace.ts';
import {
  editSignal,
  makeProject,
  mkDocument,
  mkJudgment,
  mkRun,
  readRows,
  runEvidence,
  writeEvidence,
  writeScored,
  writeSourceJsonl,
} from './fixture.ts';

/** A project whose scored runs and evidence point at real source rows in data/_kb/. */
async function tracedProject() {
  const { root, config } = await makeProject();
  const gw = [
    { trace_id: 'g-acc', request: { messages: [{ role: 'user', content: 'What is 2+2?' }] }, response: '4' },
    { trace_id: 'g-rej', request: { messages: [{ role: 'user', content: 'What is 2+2?' }] }, response: '5' },
  ];
  const gwProv = await writeSourceJsonl(root, 'data/_kb/gateway.jsonl', gw);
  // a tau-bench style JSON array: provenance is the element index with a `$[i]` locator
  const tau = [
    { task_id: 1, trial: 0, reward: 1 },
    { task_id: 2, trial: 0, reward: 1 },
  ];
  await fsp.writeFile(
    join(root, 'data/_kb/tau.json'),
    `[\n  ${tau.map((t) => JSON.stringify(t)).join(',\n  ')}\n]\n`,
  );
  const tauProv: Provenance = {
    source_file: 'data/_kb/tau.json',
    line_offset: 1,
    locator: '$[1]',
    sig_hash: sigHash(tau[1]),
    recorded_at: null,
  };
  const [reviewProv] = await writeSourceJsonl(root, 'data/_kb/reviews.jsonl', [
    { trace_id: 'g-part', verdict: 'edit', corrected: 'Paris' },
  ]);
  const [judgmentProv] = await writeSourceJsonl(root, 'data/_kb/judgments.jsonl', [
    { instruction: 'Greet', output_1: 'Hello!', output_2: 'Go away.', preference: 1 },
  ]);
  const [partProv] = await writeSourceJsonl(root, 'data/_kb/partial.jsonl', [
    { trace_id: 'g-part', prompt: 'Capital of France?', answer: 'Lyon' },
  ]);
  const review = editSignal('g-part', 'Paris', reviewProv);
  const runs: ScoredRun[] = [
    mkRun({
      id: 'g-acc',
      category: 'accepted',
      task: 'sum',
      prompt: 'What is 2+2?',
      answer: '4',
      provenance: gwProv[0],
    }),
    mkRun({
      id: 'g-rej',
      category: 'rejected',
      task: 'sum',
      prompt: 'What is 2+2?',
      answer: '5',
      provenance: gwProv[1],
    }),
    mkRun({
      id: 'tau-2',
      category: 'accepted',
      task: 'tau:2',
      prompt: 'Book a flight',
      answer: 'Booked.',
      provenance: tauProv,
    }),
    mkRun({
      id: 'g-part',
      category: 'partially_accepted',
      task: 'capital',
      prompt: 'Capital of France?',
      answer: 'Lyon',
      correction: 'Paris',
      signals: [review],
      provenance: partProv,
    }),
  ];
  const signalEv: EvidenceRecord = {
    schema_version: 1,
    evidence_id: review.evidence_id,
    stream: 'reviews',
    trace_id: 'g-part',
    task_key: null,
    recorded_at: null,
    flags: [],
    provenance: review.provenance,
    kind: 'signal',
    signal: review.signal,
  };
  const judgment = mkJudgment('j1', 'Greet', 'Hello!', 'Go away.', judgmentProv);
  const [docProv] = await writeSourceJsonl(root, 'data/_kb/docs.jsonl', [
    { id: 'd1', title: 'Playbook', body: 'Restart the service.' },
  ]);
  const doc = mkDocument('d1', 'Playbook', 'Restart the service.', docProv);
  await writeScored(root, { '2024/05/01/runs.jsonl': runs });
  await writeEvidence(root, {
    '2024/05/01/gateway.jsonl': [...runs.map(runEvidence), signalEv],
    'undated/other.jsonl': [judgment, doc],
  });
  await exportSft(root, config, { includePartial: false });
  await exportPreference(root, config);
  await exportRag(root, config);
  return { root, runs };
}

async function idOf(
  root: string,
  file: string,
  pred: (r: Record<string, unknown>) => boolean,
): Promise<string> {
  const row = (await readRows(root, file)).find(pred);
  assert.ok(row, `a row in ${file}`);
  return row['id'] as string;
}

test('trace walks an SFT row back through scored run and evidence to its source line, and the hash matches', async () => {
  const { root, runs } = await tracedProject();
  const id = await idOf(root, 'exports/sft/instruction_response', (r) => r['run_id'] === 'g-acc');
  const report = await traceRow(root, id);
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.sides.map((s) => [
      s.label,
      s.hops.map((h) => [h.stage, h.at]),
      s.check.source_file,
      s.check.line_offset,
      s.check.ok,
    ]),
    [
      [
        'run g-acc',
        [
          ['scored run', 'data/scored-runs/2024/05/01/runs.jsonl:1'],
          ['evidence', 'data/evidence/2024/05/01/gateway.jsonl:1'],
        ],
        'data/_kb/gateway.jsonl',
        0,
        true,
      ],
    ],
  );
  const text = formatTrace(report);
  assert.equal(text.split('\n')[0], `${id}  exports/sft/instruction_response/2024-05-01.jsonl:1`);
  assert.match(
    text,
    new RegExp(`scored run  data/scored-runs/2024/05/01/runs.jsonl:1  g-acc  accepted by R00-test`),
  );
  assert.match(
    text,
    new RegExp(
      `evidence    data/evidence/2024/05/01/gateway.jsonl:1  ${runs[0]?.evidence_id}  run from stream gateway`,
    ),
  );
  assert.match(text, /source      data\/_kb\/gateway.jsonl:1 \(line_offset 0\)/);
  assert.match(text, /\n✔ 1 of 1 source rows unchanged$/);
});

test('trace of a row from a JSON array source re-reads the element by index', async () => {
  const { root } = await tracedProject();
  const id = await idOf(root, 'exports/sft/instruction_response', (r) => r['run_id'] === 'tau-2');
  const report = await traceRow(root, id);
  assert.equal(report.ok, true);
  assert.deepEqual([report.sides[0]?.check.locator, report.sides[0]?.check.line_offset], ['$[1]', 1]);
  assert.match(formatTrace(report), /source      data\/_kb\/tau.json \$\[1\] \(element 1\)/);
});

test('trace of a preference pair checks both sides; correction and judgment pairs walk to their evidence rows', async () => {
  const { root } = await tracedProject();
  const outcome = await traceRow(
    root,
    await idOf(root, 'exports/preference/chosen_rejected', (r) => r['pair_type'] === 'outcome'),
  );
  assert.deepEqual(
    outcome.sides.map((s) => [s.label, s.check.source_file, s.check.line_offset, s.check.ok]),
    [
      ['chosen g-acc', 'data/_kb/gateway.jsonl', 0, true],
      ['rejected g-rej', 'data/_kb/gateway.jsonl', 1, true],
    ],
  );
  const correction = await traceRow(
    root,
    await idOf(root, 'exports/preference/chosen_rejected', (r) => r['pair_type'] === 'correction'),
  );
  assert.deepEqual(
    correction.sides.map((s) => [s.hops.map((h) => h.stage), s.check.source_file, s.check.ok]),
    [
      [['evidence'], 'data/_kb/reviews.jsonl', true],
      [['scored run', 'evidence'], 'data/_kb/partial.jsonl', true],
    ],
  );
  const judgment = await traceRow(
    root,
    await idOf(root, 'exports/preference/chosen_rejected', (r) => r['pair_type'] === 'judgment'),
  );
  assert.deepEqual(
    judgment.sides.map((s) => [s.hops.map((h) => [h.stage, h.at]), s.check.ok]),
    [
      [[['evidence', 'data/evidence/undated/other.jsonl:1']], true],
      [[['evidence', 'data/evidence/undated/other.jsonl:1']], true],
    ],
  );
  const rag = await traceRow(
    root,
    await idOf(
      root,
      'exports/rag/documents',
      (r) => (r['metadata'] as Record<string, unknown>)['kind'] === 'document',
    ),
  );
  assert.deepEqual(
    rag.sides.map((s) => [s.hops.map((h) => h.at), s.check.source_file, s.check.ok]),
    [[['data/evidence/undated/other.jsonl:2'], 'data/_kb/docs.jsonl', true]],
  );
});

test('trace detects a modified source row: the mismatching side fails, the other still matches', async () => {
  const { root } = await tracedProject();
  const id = await idOf(root, 'exports/preference/chosen_rejected', (r) => r['pair_type'] === 'outcome');
  const path = join(root, 'data/_kb/gateway.jsonl');
  const lines = (await fsp.readFile(path, 'utf8')).split('\n');
  lines[1] = JSON.stringify({ ...JSON.parse(lines[1] as string), response: '22' });
  await fsp.writeFile(path, lines.join('\n'));
  const report = await traceRow(root, id);
  assert.equal(report.ok, false);
  const [chosen, rejected] = report.sides;
  assert.equal(chosen?.check.ok, true);
  assert.equal(rejected?.check.ok, false);
  assert.equal(rejected?.check.actual, sigHash(JSON.parse(lines[1] as string)));
  const text = formatTrace(report);
  assert.match(
    text,
    new RegExp(
      `sig_hash    ✖ MISMATCH: recorded ${rejected?.check.expected}, the row now hashes to ${rejected?.check.actual} \\(the source row was modified after it was exported\\)`,
    ),
  );
  assert.match(
    text,
    /\n✖ 1 of 2 source rows changed or untraceable: rebuild with `npm run export-all`.*--accept-source-changes/,
  );
});

test('trace reports a source row that no longer exists, and a key order change is not a modification', async () => {
  const { root } = await tracedProject();
  const id = await idOf(root, 'exports/sft/instruction_response', (r) => r['run_id'] === 'g-acc');
  const path = join(root, 'data/_kb/gateway.jsonl');
  // same row, keys reordered and spaced: the canonical hash is unchanged
  const [first] = (await fsp.readFile(path, 'utf8')).split('\n');
  const obj = JSON.parse(first as string) as Record<string, unknown>;
  await fsp.writeFile(
    path,
    `${JSON.stringify(Object.fromEntries(Object.entries(obj).reverse()), null, 0).replace(/,/g, ', ')}\n`,
  );
  assert.equal((await traceRow(root, id)).ok, true);
  await fsp.writeFile(path, '');
  const report = await traceRow(root, id);
  assert.equal(report.ok, false);
  assert.equal(report.sides[0]?.check.detail, 'data/_kb/gateway.jsonl has no line 0 (0-based) any more');
  await fsp.rm(path);
  assert.match(
    (await traceRow(root, id)).sides[0]?.check.detail ?? '',
    /^cannot open data\/_kb\/gateway.jsonl: ENOENT$/,
  );
});

test('trace refuses ids that are not export ids (exit 2) and ids not in the export (exit 1)', async () => {
  const { root } = await tracedProject();
  await assert.rejects(traceRow(root, 'ev_123'), {
    name: 'UserError',
    exitCode: 2,
    message: '"ev_123" is not an export row id: expected one starting with sft_, pref_, kto_ or rag_',
  });
  await assert.rejects(traceRow(root, 'sft_000000000000000000000000'), {
    name: 'UserError',
    exitCode: 1,
    message:
      'sft_000000000000000000000000 not found in exports/sft/instruction_response/*.jsonl or exports/sft-partial/instruction_response/*.jsonl; is the export built (npm run export-all)?',
  });
});
