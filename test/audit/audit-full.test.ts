import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditBaselineEntry } from '../../schemas/audit-baseline-entry.ts';
import { AUDIT_CHECKS } from '../../tasks/gates/audit/check-list.ts';
import { AUDIT_CHART, AUDIT_REPORT } from '../../tasks/gates/audit/report.ts';
import {
  appendBaseline,
  BASELINE_FILE,
  BASELINE_HEAD,
  readBaseline,
} from '../../tasks/gates/audit/baseline.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import { inProcess } from '../helpers/project.ts';
import { auditedProject, builtProject, firstAudit } from './fixture.ts';

/**
 * audit-full end to end on the bundled corpus built by run-all: the verdict, the chained baseline
 * rows, the report and chart, the drift against the previous row, and the refusal to run on a
 * damaged baseline.
 */

const rowsOf = (dir: string): string[] =>
  readFileSync(join(dir, BASELINE_FILE), 'utf8').split('\n').filter(Boolean);
/** Rows of one export family (every day shard `<folder>/<family>/<shard>.jsonl`) as its phase manifest lists them. */
const manifestRows = (dir: string, folder: string, family: string): number =>
  (
    JSON.parse(readFileSync(join(dir, folder, '_manifest.json'), 'utf8')) as {
      files: { path: string; rows: number }[];
    }
  ).files
    .filter((f) => f.path.startsWith(`${folder}/${family}/`))
    .reduce((n, f) => n + f.rows, 0);

test('there are exactly 16 required checks with unique ids', () => {
  assert.equal(AUDIT_CHECKS.length, 16);
  assert.equal(new Set(AUDIT_CHECKS.map((c) => c.id)).size, 16);
});

test('two audits in a row: 16/16 pass (exit 0) and append two chained rows; the second compares with the first', async () => {
  // the first audit (exit 0) is the suite's `audited` template, audited once; this copy is as it left it
  const dir = await auditedProject();
  const first = await firstAudit();
  assert.match(first, /^16\/16 required pass$/m);
  assert.match(first, /^drift: first audit \(no earlier baseline row\), nothing to compare$/m);
  assert.match(
    first,
    /^✔ provenance {12}\d[\d,]* export row sides resolve to evidence and re-hash \(\d+ source files read once each\)$/m,
  );
  const afterFirst = readFileSync(join(dir, BASELINE_FILE));
  const second = await inProcess(['audit-full', '--root', dir, '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /^drift: ok vs baseline row 1 \(no tracked metric moved more than 20 %\)$/m);
  const afterSecond = readFileSync(join(dir, BASELINE_FILE));
  assert.ok(
    afterSecond.subarray(0, afterFirst.length).equals(afterFirst),
    'the first row is a byte prefix of the file after the second audit',
  );
  const lines = rowsOf(dir);
  assert.equal(lines.length, 2);
  const state = await readBaseline<AuditBaselineEntry>(dir);
  assert.deepEqual(
    state.rows.map((r) => r.seq),
    [1, 2],
  );
  assert.equal(state.rows[0]?.prev, '0'.repeat(64));
  assert.equal(state.rows[1]?.prev, sha256(lines[0] as string));
  const [a, b] = state.rows.map((r) => r.entry) as [AuditBaselineEntry, AuditBaselineEntry];
  assert.deepEqual(Object.keys(a.metrics), [
    'p2_evidence_records',
    'p3_scored_runs',
    'p3_accepted',
    'p3_partially_accepted',
    'p3_rejected',
    'p3_needs_human_review',
    'p4_rag_rows',
    'p4_sft_rows',
    'p4_preference_pairs',
    'p4_total_quarantined',
  ]);
  assert.deepEqual(b.metrics, a.metrics);
  const sftRows = manifestRows(dir, 'exports/sft', 'instruction_response');
  assert.ok(sftRows > 0);
  assert.equal(a.metrics['p4_sft_rows'], sftRows);
  assert.equal(a.metrics['p4_preference_pairs'], manifestRows(dir, 'exports/preference', 'chosen_rejected'));
  assert.equal(
    a.metrics['p3_accepted'],
    JSON.parse(readFileSync(join(dir, 'data/scored-runs/_summary.json'), 'utf8')).by_category.accepted,
  );
  assert.deepEqual([a.checks_passed, a.checks_total, b.checks_passed], [16, 16, 16]);
  assert.equal(b.export_sha256, a.export_sha256);
  assert.equal(JSON.parse(readFileSync(join(dir, BASELINE_HEAD), 'utf8')).seq, 2);
  const json = JSON.parse(second.stdout) as {
    passed: number;
    total: number;
    row: { seq: number };
    previous: { seq: number };
  };
  assert.deepEqual([json.passed, json.total, json.row.seq, json.previous.seq], [16, 16, 2, 1]);
  const report = readFileSync(join(dir, AUDIT_REPORT), 'utf8');
  assert.match(report, /\| verdict \| \*\*16\/16 required pass\*\* \|/);
  assert.match(report, /^## Drift against baseline row 1 \(/m);
  assert.ok(report.includes(`| \`p4_sft_rows\` | ${sftRows} | ${sftRows} | 0.00 % | ok |`), report);
  assert.match(report, /!\[tracked metrics across the baseline rows\]\(audit-metrics\.svg\)/);
  const svg = readFileSync(join(dir, AUDIT_CHART), 'utf8');
  assert.match(svg, /tracked metrics by baseline row \(1–2\)/);
  assert.ok(svg.includes(`<title>row 2: ${sftRows}</title>`));
});

test('without acceptance.json: 15/16, exit 1, the acceptance check says how to produce it; the row still records the audit', async () => {
  const dir = await builtProject({ acceptance: false });
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^15\/16 required pass \(failing: acceptance\)$/m);
  assert.match(
    r.stderr,
    /^ {4}reports\/distillation\/acceptance\.json is missing: run `npm run acceptance`$/m,
  );
  const state = await readBaseline<AuditBaselineEntry>(dir);
  assert.equal(state.rows.length, 1);
  assert.equal(state.rows[0]?.entry.checks_passed, 15);
  assert.match(
    readFileSync(join(dir, AUDIT_REPORT), 'utf8'),
    /^#### `acceptance` \(1\)\n\n- reports\/distillation\/acceptance\.json is missing: run `npm run acceptance`$/m,
  );
});

test('a drift of more than 20 % from the latest row warns but does not fail the audit', async () => {
  const dir = await auditedProject(); // one passing audit: baseline row 1
  const state = await readBaseline<AuditBaselineEntry>(dir);
  assert.equal(state.rows.length, 1);
  const last = state.rows[0]?.entry as AuditBaselineEntry;
  const sft = last.metrics['p4_sft_rows'] as number;
  // a second row as if the previous audit had seen twice the SFT rows (current is -50 %) and 19 % more accepted runs (ok)
  const accepted = last.metrics['p3_accepted'] as number;
  await appendBaseline(dir, {
    ...last,
    metrics: { ...last.metrics, p4_sft_rows: 2 * sft, p3_accepted: Math.round(accepted * 1.19) },
  });
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stderr.includes(
      `\ndrift: 1 warn vs baseline row 2: p4_sft_rows ${2 * sft} → ${sft} (-50.00 %); intentional or a regression? see docs/recovery-runbook.md\n`,
    ),
    r.stderr,
  );
  assert.ok(
    readFileSync(join(dir, AUDIT_REPORT), 'utf8').includes(
      `| \`p4_sft_rows\` | ${2 * sft} | ${sft} | -50.00 % | ⚠ warn |`,
    ),
  );
  assert.equal((await readBaseline(dir)).rows.length, 3);
});

test('an edited baseline row: audit-full refuses to run, names the row, appends nothing and writes no report', async () => {
  const dir = await builtProject();
  for (let i = 1; i <= 3; i++) await appendBaseline(dir, { audit: i });
  const path = join(dir, BASELINE_FILE);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"audit":2', '"audit":7'));
  const before = readFileSync(path);
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 3);
  assert.match(
    r.stderr,
    /^✖ audit-full refuses to run: AUDIT_CHAIN_BROKEN: the first \d+ bytes of data\/_kb\/audit_baselines\.jsonl \(rows 1–3\) no longer hash to the recorded value: a row was edited\./m,
  );
  assert.match(r.stderr, /^Where: row 2 was edited or removed \(row 3 no longer chains to it\)\.$/m);
  assert.ok(readFileSync(path).equals(before), 'nothing appended');
  assert.equal(existsSync(join(dir, AUDIT_REPORT)), false);
});

test('a truncated baseline (last row cut off) is refused and named', async () => {
  const dir = await builtProject();
  for (let i = 1; i <= 3; i++) await appendBaseline(dir, { audit: i });
  const path = join(dir, BASELINE_FILE);
  writeFileSync(path, `${rowsOf(dir).slice(0, 2).join('\n')}\n`);
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 3);
  assert.match(
    r.stderr,
    /AUDIT_CHAIN_BROKEN: data\/_kb\/audit_baselines\.jsonl is \d+ bytes but \d+ were recorded after row 3: it was truncated/,
  );
  assert.match(r.stderr, /^Where: row 3 is missing: the file was truncated\.$/m);
  assert.equal(rowsOf(dir).length, 2);
});

test('nothing built: audit-full stops with exit 2 and appends no row', async () => {
  const { tempProject } = await import('../helpers/project.ts');
  const dir = tempProject('distill-audit-empty-');
  rmSync(join(dir, BASELINE_FILE), { force: true });
  rmSync(join(dir, BASELINE_HEAD), { force: true });
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /nothing to audit: no phase folder has a _manifest\.json; build the pipeline first with `npm run run-all`; no baseline row was appended/,
  );
  assert.equal(existsSync(join(dir, BASELINE_FILE)), false);
  assert.equal(existsSync(join(dir, AUDIT_REPORT)), false);
});
