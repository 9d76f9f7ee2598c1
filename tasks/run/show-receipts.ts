import type { DriftReport } from '../../schemas/drift-report.ts';
import type { StageReceipt } from '../../schemas/stage-receipt.ts';
import { REPORTS_DIR } from '../lib/receipts.ts';
import { UserError } from '../lib/result.ts';
import { readDrift, readReceipt, readSummary, runIds, summaryRunIds } from './run-reports.ts';
import { PIPELINE, type PipelinePhase } from '../phases/registry.ts';
import { reconcile } from './receipts-check.ts';
import { checkItems } from './run-all.ts';
import { formatCheck, formatRunReport } from './report.ts';

/** Options of `distill receipts`. */
export interface ShowReceiptsOptions {
  /** The run to show; the latest run-all when absent. */
  runId?: string;
  /** Print only the reconcile verdict. */
  check: boolean;
  json: boolean;
}

/** The pipeline entry of a phase named in a summary (a phase since removed gets a bare entry). */
function phaseNamed(name: string): PipelinePhase {
  return (
    PIPELINE.find((p) => p.phase === name) ?? {
      phase: name,
      argv: [name],
      script: name,
      outDir: `(unknown output folder of ${name})`,
      folder: name,
      upstream: [],
      reasons: [],
      excluded: [],
      unit: 'rows',
    }
  );
}

/** Picks the run: the given id, or the latest run-all; errors say which runs exist. */
async function pickRun(
  root: string,
  wanted: string | undefined,
): Promise<{ runId: string; latest: boolean }> {
  const ids = await summaryRunIds(root);
  if (ids.length === 0)
    throw new UserError(
      'NOTHING_BUILT',
      `no run-all summary under ${REPORTS_DIR}/; run \`npm run run-all\` (or \`distill run-all\`) first`,
    );
  const latest = ids[ids.length - 1] as string;
  if (wanted === undefined) return { runId: latest, latest: true };
  if (ids.includes(wanted)) return { runId: wanted, latest: wanted === latest };
  const recent = ids.slice(-5).reverse().join(', ');
  if ((await runIds(root)).includes(wanted))
    throw new UserError(
      'NO_SUCH_RUN',
      `run ${wanted} has receipts but no summary.json: it was a single phase, not a run-all (see ${REPORTS_DIR}/${wanted}/). Run-all runs: ${recent}`,
    );
  throw new UserError(
    'NO_SUCH_RUN',
    `no run ${wanted} under ${REPORTS_DIR}/; the most recent run-all runs are: ${recent}`,
  );
}

/**
 * `distill receipts [--run-id ID] [--check] [--json]`: prints a run-all's phases, the reconcile
 * check, the funnel and the drift verdict. The latest run is also compared with the files on disk.
 * Exit code 1 when the receipts do not reconcile.
 */
export async function showReceipts(root: string, opts: ShowReceiptsOptions): Promise<number> {
  const { runId, latest } = await pickRun(root, opts.runId);
  const s = await readSummary(root, runId);
  if (!s.ok)
    throw new UserError('UPSTREAM_DAMAGED', `${s.error}; it was written by another version, or edited`);
  const summary = s.value;
  const d = await readDrift(root, runId);
  const drift: DriftReport | null = d.ok ? d.value : null;
  const receipts = new Map<string, StageReceipt | null>();
  const problems: string[] = [];
  const outcomes: { phase: PipelinePhase; receiptPath: string | null; receipt: StageReceipt | null }[] = [];
  for (const p of summary.phases) {
    let receipt: StageReceipt | null = null;
    if (p.receipt) {
      const r = await readReceipt(root, p.receipt);
      if (r.ok) receipt = r.value;
      else if (p.status !== 'failed') problems.push(`${p.phase}: ${r.error}`);
    }
    receipts.set(p.phase, p.status === 'failed' ? null : receipt);
    if (p.status !== 'failed' && (receipt || !p.receipt))
      outcomes.push({ phase: phaseNamed(p.phase), receiptPath: p.receipt, receipt });
  }
  problems.push(...reconcile(await checkItems(root, outcomes, latest)));
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ summary, drift, check: { ok: problems.length === 0, compared_with_disk: latest, problems } }, null, 2)}\n`,
    );
  } else if (opts.check) {
    process.stdout.write(
      `${[`run ${runId}`, ...formatCheck(problems, outcomes.length, latest)].join('\n')}\n`,
    );
  } else {
    process.stdout.write(`${formatRunReport({ summary, drift, receipts, problems, onDisk: latest })}\n`);
  }
  return problems.length === 0 ? 0 : 1;
}
