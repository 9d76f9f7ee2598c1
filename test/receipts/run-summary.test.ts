import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSummary, funnelOf, metricsOf, type PhaseOutcome } from '../../tasks/run/summary.ts';
import { withCurrentNames } from '../../tasks/run/metric-names.ts';
import { chain, phaseOf } from './fixture.ts';

function outcomes(): PhaseOutcome[] {
  const c = chain();
  return [
    {
      phase: phaseOf('build-evidence'),
      status: 'fresh',
      receiptPath: 'reports/distillation/r0/build-evidence.receipt.json',
      receipt: c.evidence,
      error: null,
    },
    {
      phase: phaseOf('score'),
      status: 'ran',
      receiptPath: 'reports/distillation/r1/score.receipt.json',
      receipt: c.score,
      error: null,
    },
    {
      phase: phaseOf('export-sft'),
      status: 'ran',
      receiptPath: 'reports/distillation/r1/export-sft.receipt.json',
      receipt: c.sft,
      error: null,
    },
  ];
}

test('the funnel reads source rows and evidence from build-evidence, runs from score, rows from each export', () => {
  assert.deepEqual(funnelOf(outcomes()), {
    source_rows: 10,
    evidence: 9,
    quarantined: 2,
    runs: 4,
    runs_by_category: { accepted: 2, partially_accepted: 1, rejected: 1, needs_human_review: 0 },
    exports: { sft: 2 },
    left_out: { quarantined: 3, excluded: 2 },
  });
});

test('metrics: the seed-named tracked counts, funnel counts, mix by category, export rows and data bytes, quarantine and exclusion by phase and reason', () => {
  assert.deepEqual(metricsOf(outcomes()), {
    'bytes.export-sft': 3500, // instruction_response.jsonl + openai/train.jsonl, not _quarantine.jsonl
    'excluded.export-sft.CATEGORY_EXCLUDED': 2,
    'funnel.excluded': 2,
    'funnel.quarantined': 2,
    'funnel.source_rows': 10,
    'mix.accepted': 50,
    'mix.needs_human_review': 0,
    'mix.partially_accepted': 25,
    'mix.rejected': 25,
    p2_evidence_records: 9,
    p3_accepted: 2,
    p3_needs_human_review: 0,
    p3_partially_accepted: 1,
    p3_rejected: 1,
    p3_scored_runs: 4,
    p4_sft_rows: 2,
    p4_total_quarantined: 3,
    'quarantine.build-evidence.JSON_PARSE': 1,
    'quarantine.build-evidence.SCHEMA_INVALID': 1,
    'quarantine.score.ORPHAN_SIGNAL': 1,
  });
});

test("a previous run's metrics under the earlier names compare under the current ones", () => {
  assert.deepEqual(
    withCurrentNames({
      'funnel.evidence': 9,
      'runs.accepted': 2,
      'export.sft': 2,
      'export.kto': 5,
      'quarantine.export-sft.CATEGORY_EXCLUDED': 2,
      'quarantine.export-sft.TOOL_ARGS_INVALID': 1,
    }),
    {
      p2_evidence_records: 9,
      p3_accepted: 2,
      p4_sft_rows: 2,
      'export.kto': 5,
      'excluded.export-sft.CATEGORY_EXCLUDED': 2,
      'quarantine.export-sft.TOOL_ARGS_INVALID': 1,
    },
  );
});

test('a summary lists fresh and ran phases with the receipt in use; ok', () => {
  const o = outcomes();
  const s = buildSummary({
    runId: 'r1',
    startedAt: '2026-11-27T10:00:00.000Z',
    finishedAt: '2026-11-27T10:00:03.000Z',
    codeVersion: 'abc',
    outcomes: o,
    metrics: metricsOf(o),
    driftSeverity: 'ok',
    errors: [],
  });
  assert.deepEqual(s.phases, [
    {
      phase: 'build-evidence',
      status: 'fresh',
      receipt: 'reports/distillation/r0/build-evidence.receipt.json',
    },
    { phase: 'score', status: 'ran', receipt: 'reports/distillation/r1/score.receipt.json' },
    { phase: 'export-sft', status: 'ran', receipt: 'reports/distillation/r1/export-sft.receipt.json' },
  ]);
  assert.equal(s.ok, true);
  assert.deepEqual(s.errors, []);
});

test('a failed phase or a reconcile problem makes the summary not ok, with the reason', () => {
  const o = outcomes();
  o[2] = {
    phase: phaseOf('export-sft'),
    status: 'failed',
    receiptPath: null,
    receipt: null,
    error: 'not run, because score failed',
  };
  const s = buildSummary({
    runId: 'r1',
    startedAt: '2026-11-27T10:00:00.000Z',
    finishedAt: '2026-11-27T10:00:03.000Z',
    codeVersion: 'abc',
    outcomes: o,
    metrics: metricsOf(o),
    driftSeverity: 'ok',
    errors: ['score: mismatch'],
  });
  assert.equal(s.ok, false);
  assert.deepEqual(s.errors, ['export-sft: not run, because score failed', 'score: mismatch']);
  assert.deepEqual(s.funnel.exports, { sft: 0 });
  assert.equal(s.metrics['bytes.export-sft'], undefined);
});
