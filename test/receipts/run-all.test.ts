import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { activePhases } from '../../tasks/phases/registry.ts';
import { writeCorpus } from '../../tasks/dev/corpus.ts';
import { RECENT_DAYS } from '../helpers/built.ts';
import { inProcess, keepLastDays, REPO, tempProject } from '../helpers/project.ts';

const FUNNEL =
  /\nfunnel\n {2}([\d,]+) source rows\n {2}→ ([\d,]+) evidence records from [\d,]+ source rows \(([\d,]+) source rows quarantined; a row can give several records\)\n {2}→ ([\d,]+) scored runs: ([\d,]+) accepted, ([\d,]+) partially accepted, ([\d,]+) rejected, ([\d,]+) needs human review\n {2}→ export rows: rag ([\d,]+) chunks, sft ([\d,]+) rows, sft-partial ([\d,]+) rows, preference ([\d,]+) pairs, kto ([\d,]+) rows\n {2}left out over all phases: ([\d,]+) rows quarantined \(bad\), ([\d,]+) excluded by policy\n/;

const num = (s: string | undefined): number => Number((s ?? '').replace(/,/g, ''));
const readJson = (dir: string, rel: string) => JSON.parse(readFileSync(join(dir, rel), 'utf8'));

async function runAll(dir: string, runId: string) {
  const r = await inProcess(['run-all', '--root', dir], { env: { DISTILL_RUN_ID: runId } });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** Copies one day of rows (every stream's 2026-10-31 file) from a corpus generated with another start date. */
async function addDay(dir: string): Promise<void> {
  const gen = mkdtempSync(join(tmpdir(), 'distill-day-'));
  // `npm run corpus -- --start-date 2026-10-31` (its other options at their defaults), in this process
  await writeCorpus(join(gen, 'kb'), { records: 1200, seed: 7, startDate: '2026-10-31', days: 30 });
  for (const stream of readdirSync(join(gen, 'kb'))) {
    const day = join(gen, 'kb', stream, '2026-10-31.jsonl');
    if (existsSync(day)) cpSync(day, join(dir, 'data', '_kb', stream, '2026-10-31.jsonl'));
  }
}

/**
 * A project holding the bundled corpus's last RECENT_DAYS days and its first day (every stream):
 * the day addDay adds repeats the first day's trace ids (the same seed from another start date).
 * Returns the number of rows of its JSONL day files.
 */
function recentDaysAndFirst(dir: string): number {
  const kb = join(REPO, 'data', '_kb');
  const streams = readdirSync(kb, { withFileTypes: true }).filter((d) => d.isDirectory());
  const first = readdirSync(join(kb, 'gateway_calls')).sort()[0] as string;
  keepLastDays(dir, RECENT_DAYS);
  let rows = 0;
  for (const { name } of streams) {
    if (existsSync(join(kb, name, first)))
      cpSync(join(kb, name, first), join(dir, 'data', '_kb', name, first));
    for (const f of readdirSync(join(dir, 'data', '_kb', name)))
      if (/^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f))
        rows += readFileSync(join(dir, 'data', '_kb', name, f), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '').length;
  }
  return rows;
}

test('distill run-all prints the funnel and drift: ok; an identical second run has no drift; a new day of rows names what moved', async () => {
  const dir = tempProject();
  const dayRows = recentDaysAndFirst(dir);
  const first = await runAll(dir, 'run-1');
  const m = FUNNEL.exec(first.stderr);
  assert.ok(m, `no funnel in:\n${first.stderr}`);
  assert.ok(first.stderr.endsWith('drift: ok (first run, nothing to compare)\n'), first.stderr);
  // the printed funnel is the one in summary.json, and it agrees with the receipts
  const s1 = readJson(dir, 'reports/distillation/run-1/summary.json');
  const f = s1.funnel;
  assert.deepEqual(m.slice(1).map(num), [
    f.source_rows,
    f.evidence,
    f.quarantined,
    f.runs,
    f.runs_by_category.accepted,
    f.runs_by_category.partially_accepted,
    f.runs_by_category.rejected,
    f.runs_by_category.needs_human_review,
    f.exports.rag,
    f.exports.sft,
    f.exports['sft-partial'],
    f.exports.preference,
    f.exports.kto,
    f.left_out.quarantined,
    f.left_out.excluded,
  ]);
  // bad rows and policy exclusions are counted apart in every receipt: in = kept + quarantined + excluded
  const rag = readJson(dir, 'reports/distillation/run-1/export-rag.receipt.json');
  assert.equal(rag.counts.in, rag.counts.out + rag.counts.quarantined + rag.counts.excluded);
  assert.ok(rag.counts.excluded_by_reason.CATEGORY_EXCLUDED > 0);
  assert.equal(
    rag.counts.by_reason.CATEGORY_EXCLUDED,
    undefined,
    'a policy exclusion is not a quarantine reason',
  );
  const ev = readJson(dir, 'reports/distillation/run-1/build-evidence.receipt.json');
  assert.equal(f.source_rows, ev.counts.in);
  // every row of the day files is a source row (the JSON and .traj files add more)
  assert.ok(f.source_rows >= dayRows && f.runs > 0 && f.exports.sft > 0, `${f.source_rows} < ${dayRows}`);
  assert.equal(s1.ok, true);
  const phases = activePhases((name) => name in COMMANDS).map((p) => p.phase);
  assert.deepEqual(phases.slice(0, 2), ['build-evidence', 'score']);
  assert.deepEqual(
    s1.phases.map(
      (p: { phase: string; status: string; receipt: string }) => `${p.phase} ${p.status} ${p.receipt}`,
    ),
    phases.map((p) => `${p} ran reports/distillation/run-1/${p}.receipt.json`),
  );
  assert.match(first.stderr, new RegExp(`\\ncheck: ok \\(${phases.length} receipts reconcile`));

  const second = await runAll(dir, 'run-2');
  assert.ok(second.stderr.endsWith('drift: ok vs run run-1 (no metric changed)\n'), second.stderr);
  assert.equal(readJson(dir, 'reports/distillation/run-2/drift.json').previous_run_id, 'run-1');

  await addDay(dir);
  const third = await runAll(dir, 'run-3');
  const drift = readJson(dir, 'reports/distillation/run-3/drift.json');
  assert.equal(drift.previous_run_id, 'run-2');
  assert.notEqual(drift.severity, 'ok');
  assert.match(
    third.stderr,
    new RegExp(
      `\\ndrift: ${drift.severity} vs run run-2: \\d+ of \\d+ metrics changed, \\d+ past a threshold \\(warn > 20 %, alert > 50 % or to/from zero\\)\\n`,
    ),
  );
  // the same seed from another start date reuses trace ids: runs now conflict, a new quarantine reason
  const conflict = drift.metrics.find((x: { name: string }) => x.name === 'quarantine.score.ID_CONFLICT');
  assert.equal(conflict.previous, 0);
  assert.equal(conflict.severity, 'alert');
  assert.match(
    third.stderr,
    new RegExp(`\\n  alert  quarantine\\.score\\.ID_CONFLICT +0 → ${conflict.current} \\(from 0\\)\\n`),
  );
  const rows = drift.metrics.find((x: { name: string }) => x.name === 'funnel.source_rows');
  assert.ok(rows.current > rows.previous, 'more source rows than before');
  assert.equal(readJson(dir, 'reports/distillation/run-3/summary.json').drift_severity, drift.severity);
});
