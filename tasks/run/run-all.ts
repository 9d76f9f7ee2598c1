import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { DriftReport } from '../../schemas/drift-report.ts';
import type { RunSummary } from '../../schemas/run-summary.ts';
import type { StageReceipt } from '../../schemas/stage-receipt.ts';
import { computeDrift } from './drift.ts';
import { withCurrentNames } from './metric-names.ts';
import { clearCurrentRun, inheritedRun } from '../lib/current-run.ts';
import { acquireRunLock, releaseRunLock } from '../lib/lock.ts';
import { startOf } from '../lib/process-tree.ts';
import { loadConfig } from '../lib/project.ts';
import { watchBuild } from '../lib/stop.ts';
import { refuseIfPhaseLocked } from './preflight.ts';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { log } from '../lib/log.ts';
import { codeVersion } from '../lib/project.ts';
import { currentRunId, startRun } from '../lib/receipts.ts';
import {
  DRIFT_FILE,
  manifestFiles,
  previousSummary,
  readReceipt,
  receiptForOutputs,
  receiptPath,
  runFile,
  SUMMARY_FILE,
} from './run-reports.ts';
import type { PipelinePhase } from '../phases/registry.ts';
import { reconcile, type ReceiptUnderCheck } from './receipts-check.ts';
import { formatRunReport } from './report.ts';
import { writeRunReports } from './write-run-reports.ts';
import { buildSummary, metricsOf, type PhaseOutcome } from './summary.ts';

/** What run-all needs from the CLI: the phases to build and a way to run one. */
export interface RunAllDeps {
  phases: readonly PipelinePhase[];
  runPhase: (argv: readonly string[]) => Promise<number>;
}

/** Runs every phase in order in this process; a failed phase stops the ones after it. */
async function runPhases(
  root: string,
  runId: string,
  deps: RunAllDeps,
): Promise<{ outcomes: PhaseOutcome[]; exitCode: number }> {
  const outcomes: PhaseOutcome[] = [];
  let failed: { phase: string; code: number } | null = null;
  for (const p of deps.phases) {
    if (failed) {
      outcomes.push({
        phase: p,
        status: 'failed',
        receiptPath: null,
        receipt: null,
        error: `not run, because ${failed.phase} failed`,
      });
      continue;
    }
    const code = await deps.runPhase(p.argv);
    const rel = receiptPath(runId, p.phase);
    const r = existsSync(join(root, rel)) ? await readReceipt(root, rel) : null;
    if (code !== 0 || !r || !r.ok || !r.value.ok) {
      failed = { phase: p.phase, code: code || 1 };
      const why = r?.ok ? r.value.errors.join('; ') : r?.error;
      outcomes.push({
        phase: p,
        status: 'failed',
        receiptPath: r ? rel : null,
        receipt: null,
        error: why || `distill ${p.argv.join(' ')} exited with code ${code}`,
      });
      continue;
    }
    outcomes.push({ phase: p, status: 'ran', receiptPath: rel, receipt: r.value, error: null });
  }
  return { outcomes, exitCode: failed?.code ?? 0 };
}

/**
 * After wireit built the phases: a phase with a receipt in this run's folder ran; any other was
 * fresh, and is described by the earlier receipt whose outputs are the files its manifest lists now.
 */
async function collectPhases(
  root: string,
  runId: string,
  phases: readonly PipelinePhase[],
): Promise<PhaseOutcome[]> {
  const outcomes: PhaseOutcome[] = [];
  for (const p of phases) {
    const rel = receiptPath(runId, p.phase);
    if (existsSync(join(root, rel))) {
      const r = await readReceipt(root, rel);
      if (!r.ok)
        outcomes.push({ phase: p, status: 'failed', receiptPath: rel, receipt: null, error: r.error });
      else if (!r.value.ok)
        outcomes.push({
          phase: p,
          status: 'failed',
          receiptPath: rel,
          receipt: null,
          error: r.value.errors.join('; ') || 'failed',
        });
      else outcomes.push({ phase: p, status: 'ran', receiptPath: rel, receipt: r.value, error: null });
      continue;
    }
    const files = await manifestFiles(root, p.outDir);
    if (!files) {
      outcomes.push({
        phase: p,
        status: 'failed',
        receiptPath: null,
        receipt: null,
        error: `not built: ${p.outDir}/_manifest.json is missing or invalid; build it with \`npm run ${p.script}\``,
      });
      continue;
    }
    const found = await receiptForOutputs(root, p.phase, files);
    if (found)
      outcomes.push({
        phase: p,
        status: 'fresh',
        receiptPath: found.path,
        receipt: found.receipt,
        error: null,
      });
    else
      outcomes.push({
        phase: p,
        status: 'failed',
        receiptPath: null,
        receipt: null,
        error: `skipped as fresh, but no receipt under reports/distillation/ lists the files in ${p.outDir}/ (receipts deleted, or outputs edited); rebuild it with \`distill ${p.argv.join(' ')}\``,
      });
  }
  return outcomes;
}

/** The receipts of the phases that did not fail, with their manifests on disk, for reconcile(). */
export async function checkItems(
  root: string,
  outcomes: readonly Pick<PhaseOutcome, 'phase' | 'receiptPath' | 'receipt'>[],
  onDisk: boolean,
): Promise<ReceiptUnderCheck[]> {
  const items: ReceiptUnderCheck[] = [];
  for (const o of outcomes)
    items.push({ ...o, ...(onDisk ? { manifestFiles: await manifestFiles(root, o.phase.outDir) } : {}) });
  return items;
}

/**
 * `distill run-all` (mode `run`: runs every phase here) and the last step of `npm run run-all`
 * (mode `collect`: wireit built them). Writes reports/distillation/<run_id>/summary.json and
 * drift.json (against the most recent successful run-all), prints phases, check, funnel and drift.
 * Exit code: 0 when every phase ran or was fresh and the receipts reconcile.
 */
export async function runAll(
  root: string,
  opts: { mode: 'run' | 'collect'; json: boolean },
  deps: RunAllDeps,
): Promise<number> {
  if (opts.mode === 'collect') {
    // the build's owner (begin-run recorded it) must still be there: a killed build writes no run folder
    watchBuild(root);
    const inherited = inheritedRun(root);
    try {
      return await finishRun(root, opts, deps, inherited);
    } finally {
      if (inherited?.owner) await releaseRunLock(root, inherited.owner.pid);
    }
  }
  // refused before anything is written (no run folder, no drift): a config that does not load,
  // another build running, a phase lock held by another process
  loadConfig(root);
  const release = await acquireRunLock(root, {
    pid: process.pid,
    start: startOf(process.pid),
    command: 'distill run-all',
  });
  try {
    await refuseIfPhaseLocked(root);
    return await finishRun(root, opts, deps, null);
  } finally {
    await release();
  }
}

async function finishRun(
  root: string,
  opts: { mode: 'run' | 'collect'; json: boolean },
  deps: RunAllDeps,
  inherited: ReturnType<typeof inheritedRun>,
): Promise<number> {
  const runId = opts.mode === 'run' ? startRun() : currentRunId(root);
  const startedAt = inherited?.run_id === runId ? inherited.started_at : new Date().toISOString();
  const ran =
    opts.mode === 'run'
      ? await runPhases(root, runId, deps)
      : { outcomes: await collectPhases(root, runId, deps.phases), exitCode: 0 };
  const { outcomes } = ran;
  if (opts.mode === 'run' && outcomes[0]?.status === 'failed') {
    // the first phase refused or failed: nothing was built, so no run is recorded (its failed
    // receipt was the only file of the run folder; no summary, no drift against the last run)
    await fsp.rm(join(root, receiptPath(runId, outcomes[0].phase.phase)), { force: true });
    await fsp.rmdir(join(root, runFile(runId, ''))).catch(() => undefined); // only if now empty
    log.error(
      `run-all: ${outcomes[0].phase.phase} did not build (above), so nothing ran: no run is recorded (no run folder, no drift). Fix it and rerun.`,
    );
    return ran.exitCode || 1;
  }
  const checked = outcomes.filter((o) => o.status !== 'failed');
  const problems = reconcile(await checkItems(root, checked, true));
  const metrics = metricsOf(outcomes);
  const previous = await previousSummary(root, runId);
  const drift: DriftReport = computeDrift(
    runId,
    metrics,
    previous ? { run_id: previous.run_id, metrics: withCurrentNames(previous.metrics) } : null,
  );
  const summary: RunSummary = buildSummary({
    runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    codeVersion: codeVersion(root),
    outcomes,
    metrics,
    driftSeverity: drift.severity,
    errors: problems,
  });
  await writeFileAtomic(join(root, runFile(runId, DRIFT_FILE)), `${JSON.stringify(drift, null, 2)}\n`);
  await writeFileAtomic(join(root, runFile(runId, SUMMARY_FILE)), `${JSON.stringify(summary, null, 2)}\n`);
  const receipts = new Map<string, StageReceipt | null>(outcomes.map((o) => [o.phase.phase, o.receipt]));
  const page = await writeRunReports(root, { summary, drift, receipts, problems });
  if (inherited?.run_id === runId) clearCurrentRun(root);
  if (opts.json) process.stdout.write(`${JSON.stringify({ summary, drift }, null, 2)}\n`);
  else {
    // the page first: the report ends with the drift verdict, the line people read last
    log.report(`run page: ${page} (funnel, reasons, category mix, drift, audit history, dataset cards)`);
    log.report(formatRunReport({ summary, drift, receipts, problems, onDisk: true }));
  }
  if (summary.ok) return 0;
  return ran.exitCode || 1;
}
