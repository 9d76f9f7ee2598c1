import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile, type ReceiptUnderCheck } from '../../tasks/run/receipts-check.ts';
import { chain, file, phaseOf, receipt } from './fixture.ts';

const P = 'reports/distillation/r1';

function items(c = chain()): ReceiptUnderCheck[] {
  return [
    {
      phase: phaseOf('build-evidence'),
      receiptPath: `${P}/build-evidence.receipt.json`,
      receipt: c.evidence,
      manifestFiles: c.evidence.outputs,
    },
    {
      phase: phaseOf('score'),
      receiptPath: `${P}/score.receipt.json`,
      receipt: c.score,
      manifestFiles: c.score.outputs,
    },
    {
      phase: phaseOf('export-sft'),
      receiptPath: `${P}/export-sft.receipt.json`,
      receipt: c.sft,
      manifestFiles: c.sft.outputs,
    },
  ];
}

test('consistent receipts reconcile', () => {
  assert.deepEqual(reconcile(items()), []);
});

test('an edited receipt whose rows in ≠ kept + quarantined + excluded is caught, in the phase unit', () => {
  const c = chain();
  c.score.counts.out = 7;
  assert.deepEqual(reconcile(items(c)), [
    `score: 9 evidence records in ≠ 7 out + 1 quarantined + 0 excluded = 8 (${P}/score.receipt.json); the receipt was edited or the phase miscounted: rebuild with \`npm run run-all\` (or \`distill run-all\`)`,
  ]);
});

test('excluded rows count apart: their reasons must add up to the rows excluded', () => {
  const c = chain();
  c.sft.counts.excluded_by_reason = { CATEGORY_EXCLUDED: 1 };
  assert.deepEqual(reconcile(items(c)), [
    `export-sft: exclusion reasons add up to 1, expected 2 rows excluded (${P}/export-sft.receipt.json); rebuild with \`npm run run-all\` (or \`distill run-all\`)`,
  ]);
});

test('quarantine reasons must add up to the rows quarantined, plus the files build-evidence refused whole', () => {
  const c = chain();
  c.evidence.counts.by_reason = { JSON_PARSE: 1, SCHEMA_INVALID: 1, BINARY_FILE: 1 };
  assert.deepEqual(reconcile(items(c)), [
    `build-evidence: quarantine reasons add up to 3, expected 2 (2 rows quarantined) (${P}/build-evidence.receipt.json); rebuild with \`npm run run-all\` (or \`distill run-all\`)`,
  ]);
  c.evidence.stats['files_refused'] = 1;
  assert.deepEqual(reconcile(items(c)), []);
});

test("an input hash that differs from the upstream receipt's output hash is caught", () => {
  const c = chain();
  c.sft.inputs = [file('data/scored-runs/2026/10/01/runs.jsonl', '9', 4, 400)];
  assert.deepEqual(reconcile(items(c)), [
    `export-sft: input data/scored-runs/2026/10/01/runs.jsonl has sha256 999999999999… (${P}/export-sft.receipt.json), but score wrote dddddddddddd…; export-sft did not read what score produced: rebuild with \`npm run run-all\` (or \`distill run-all\`)`,
  ]);
});

test('an input the upstream receipt does not list is caught; source files are not checked', () => {
  const c = chain();
  c.score.inputs.push(file('data/evidence/2026/10/02/a.jsonl', 'a'));
  c.evidence.inputs.push(file('data/_kb/b.jsonl', '2'));
  assert.deepEqual(reconcile(items(c)), [
    "score: input data/evidence/2026/10/02/a.jsonl is not among the outputs of build-evidence's receipt; score read files build-evidence no longer describes: rebuild with `npm run run-all` (or `distill run-all`)",
  ]);
});

test('outputs that are not the files on disk, a missing manifest, a missing or failed receipt are caught', () => {
  const c = chain();
  const list = items(c);
  (list[2] as ReceiptUnderCheck).manifestFiles = [
    file('exports/sft/instruction_response.jsonl', '0', 2, 2000),
  ];
  (list[1] as ReceiptUnderCheck).manifestFiles = null;
  list.push({ phase: phaseOf('export-rag'), receiptPath: null, receipt: null });
  list.push({
    phase: phaseOf('export-preference'),
    receiptPath: `${P}/export-preference.receipt.json`,
    receipt: receipt('export-preference', { ok: false, errors: ['boom'] }),
  });
  assert.deepEqual(reconcile(list), [
    `score: data/scored-runs/_manifest.json is missing or invalid, so its outputs cannot be matched to ${P}/score.receipt.json; rebuild with \`npm run run-all\` (or \`distill run-all\`)`,
    `export-sft: the files in exports/sft/ are not the outputs listed in ${P}/export-sft.receipt.json (they were rebuilt or edited since); rebuild with \`npm run run-all\` (or \`distill run-all\`)`,
    'export-rag: no receipt describes its outputs; rebuild with `npm run run-all` (or `distill run-all`)',
    `export-preference: the receipt records a failed run (${P}/export-preference.receipt.json): boom`,
  ]);
});

test('without manifests the on-disk comparison is skipped', () => {
  const list = items().map(({ manifestFiles: _m, ...rest }) => rest);
  assert.deepEqual(reconcile(list), []);
});
