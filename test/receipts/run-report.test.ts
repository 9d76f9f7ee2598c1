import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDrift } from '../../tasks/run/drift.ts';
import { DRIFT_LINES, formatCheck, formatDrift, formatFunnel } from '../../tasks/run/report.ts';

test('the funnel names the unit of every count: source rows → evidence records → scored runs → export rows, and what was left out', () => {
  const funnel = {
    source_rows: 1300,
    evidence: 1307,
    quarantined: 17,
    runs: 549,
    runs_by_category: { accepted: 229, partially_accepted: 51, rejected: 174, needs_human_review: 95 },
    exports: { rag: 149, sft: 227, preference: 12, kto: 1168 },
  };
  const lines = [
    'funnel',
    '  1,300 source rows',
    '  → 1,307 evidence records from 1,283 source rows (17 source rows quarantined; a row can give several records)',
    '  → 549 scored runs: 229 accepted, 51 partially accepted, 174 rejected, 95 needs human review',
    '  → export rows: rag 149 chunks, sft 227 rows, preference 12 pairs, kto 1,168 rows',
  ];
  const review =
    '  95 runs wait for a human decision: `distill review` lists them (reports/review/queue.md) and records decisions';
  assert.deepEqual(formatFunnel(funnel), [...lines, review]);
  assert.deepEqual(formatFunnel({ ...funnel, left_out: { quarantined: 79, excluded: 1035 } }), [
    ...lines,
    '  left out over all phases: 79 rows quarantined (bad), 1,035 excluded by policy',
    review,
  ]);
  const none = { ...funnel, runs_by_category: { ...funnel.runs_by_category, needs_human_review: 0 } };
  assert.equal(formatFunnel(none).filter((l) => l.includes('human decision')).length, 0);
  const one = { ...funnel, runs_by_category: { ...funnel.runs_by_category, needs_human_review: 1 } };
  assert.equal(
    formatFunnel(one).at(-1),
    '  1 run waits for a human decision: `distill review` lists it (reports/review/queue.md) and records decisions',
  );
});

test('drift text: first run, no change, and the changed metrics worst first', () => {
  assert.deepEqual(formatDrift(computeDrift('r1', { a: 1 }, null)), [
    'drift: ok (first run, nothing to compare)',
  ]);
  assert.deepEqual(formatDrift(computeDrift('r2', { a: 1 }, { run_id: 'r1', metrics: { a: 1 } })), [
    'drift: ok vs run r1 (no metric changed)',
  ]);
  assert.deepEqual(
    formatDrift(
      computeDrift(
        'r2',
        { 'funnel.source_rows': 1341, 'mix.accepted': 41.2, q: 3 },
        { run_id: 'r1', metrics: { 'funnel.source_rows': 1300, 'mix.accepted': 41.71, q: 0 } },
      ),
    ),
    [
      'drift: alert vs run r1: 3 of 3 metrics changed, 1 past a threshold (warn > 20 %, alert > 50 % or to/from zero)',
      '  alert  q                   0 → 3 (from 0)',
      '  ok     funnel.source_rows  1,300 → 1,341 (+3.15 %)',
      '  ok     mix.accepted        41.71 → 41.2 (-1.22 %)',
    ],
  );
  assert.equal(formatDrift(null)[0], 'drift: not recorded for this run');
});

test(`drift text lists at most ${DRIFT_LINES} metrics and points at drift.json for the rest`, () => {
  const prev = Object.fromEntries(
    Array.from({ length: 15 }, (_, i) => [`m${String(i).padStart(2, '0')}`, 100]),
  );
  const cur = Object.fromEntries(Object.keys(prev).map((k, i) => [k, 101 + i]));
  const lines = formatDrift(computeDrift('r2', cur, { run_id: 'r1', metrics: prev }));
  assert.equal(lines.length, 1 + DRIFT_LINES + 1);
  assert.equal(
    lines[0],
    'drift: ok vs run r1: 15 of 15 metrics changed, none more than 20 % (warn > 20 %, alert > 50 % or to/from zero)',
  );
  assert.equal(lines[1], '  ok     m14  100 → 115 (+15 %)');
  assert.equal(lines.at(-1), '  … 3 more changed metrics in reports/distillation/r2/drift.json');
});

test('check text: ok, and one line per problem', () => {
  assert.deepEqual(formatCheck([], 3, true), [
    'check: ok (3 receipts reconcile: rows in = kept + quarantined + excluded, inputs = upstream outputs, outputs = files on disk)',
  ]);
  assert.deepEqual(formatCheck(['score: x', 'export-sft: y'], 3, false), [
    'check: FAILED, 2 problems',
    '  ✖ score: x',
    '  ✖ export-sft: y',
  ]);
});
