import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AnyAuditBaselineEntry,
  AuditBaselineEntry,
  SCHEMA_VERSION as ENTRY_V,
} from '../../../schemas/audit-baseline-entry.ts';
import { acceptance } from './acceptance-check.ts';
import { diagnoseBaseline } from './baseline-damage.ts';
import {
  AUDIT_CHECKS,
  type AuditContext,
  type CheckFn,
  type CheckId,
  type CheckResult,
} from './check-list.ts';
import { scoreDeterminism } from './determinism-check.ts';
import { exportsDigest } from './export-digest.ts';
import type { CheckOutcome } from './findings.ts';
import { evidenceAccounting, lineage, manifests, receipts } from './integrity-checks.ts';
import { evalDecontamination, exportSecrets } from './leak-checks.ts';
import {
  compareMetrics,
  corpusCounts,
  trackedMetrics,
  type CorpusCounts,
  type MetricDrift,
  type Metrics,
} from './metrics.ts';
import { provenance } from './provenance-check.ts';
import {
  AUDIT_CHART,
  AUDIT_REPORT,
  formatAuditSummary,
  metricSeries,
  renderAuditReport,
  type AuditReportInput,
  type RowRef,
} from './report.ts';
import { evidenceSchema, exportSchema, scoredSchema, screenedSchema } from './schema-checks.ts';
import { preferencePairs, sftCategories, splitLeakage } from './training-checks.ts';
import {
  appendBaseline,
  BASELINE_FILE,
  BASELINE_HEAD,
  ChainBroken,
  readBaseline,
  type BaselineRow,
} from './baseline.ts';
import { buildState } from './phase-digests.ts';
import { codeFingerprint } from '../../lib/code-fingerprint.ts';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import { acquireLock } from '../../lib/lock.ts';
import { log } from '../../lib/log.ts';
import { codeVersion, loadConfig } from '../../lib/project.ts';
import { UserError } from '../../lib/result.ts';
import { historyChart } from './svg-chart.ts';
import type { PipelinePhase } from '../../phases/registry.ts';

/**
 * `distill audit-full`: verifies every phase from what is on disk (16 required checks), tracks 10
 * metrics against the latest row of the append-only baseline `data/_kb/audit_baselines.jsonl`,
 * writes reports/distillation/phase8-full-audit-report.md and audit-metrics.svg, and appends a
 * chained baseline row that records each phase's manifest digest (the `manifests` check compares
 * them with the latest passing row of the same build: tasks/gates/audit/phase-digests.ts). Refuses
 * to run when the baseline was truncated, edited or deleted, no longer starts with the rows
 * committed at git HEAD, or its head is missing or corrupt (AUDIT_CHAIN_BROKEN, with the recovery
 * command). Never cached: it reads and appends state.
 */

/** The implementation of each required check. */
const IMPLEMENTATIONS: Record<CheckId, CheckFn> = {
  'evidence-schema': evidenceSchema,
  'evidence-accounting': evidenceAccounting,
  'scored-schema': scoredSchema,
  'score-determinism': scoreDeterminism,
  'screened-schema': screenedSchema,
  'export-schema': exportSchema,
  manifests,
  receipts,
  lineage,
  provenance,
  'sft-categories': sftCategories,
  'preference-pairs': preferencePairs,
  'export-secrets': exportSecrets,
  'eval-decontamination': evalDecontamination,
  'split-leakage': splitLeakage,
  acceptance,
};

/** What audit-full found and recorded. */
export interface AuditResult {
  passed: number;
  total: number;
  checks: CheckResult[];
  counts: CorpusCounts;
  metrics: Metrics;
  drift: MetricDrift[];
  /** The baseline row appended by this audit. */
  row: BaselineRow<AuditBaselineEntry>;
  previous: RowRef | null;
  report: string;
  chart: string;
}

/** Options: the phases run-all builds (the CLI passes the active ones) and, for tests, the clock. */
export interface AuditOptions {
  phases: readonly PipelinePhase[];
  now?: () => Date;
}

/** Runs one check; a check that throws is a failed check naming the error, never a crashed audit. */
async function runCheck(ctx: AuditContext, id: CheckId): Promise<CheckOutcome> {
  try {
    return await IMPLEMENTATIONS[id](ctx);
  } catch (e) {
    if (!(e instanceof UserError))
      log.error(
        `audit-full: check ${id} crashed (a bug; please report it):\n${(e as Error).stack ?? String(e)}`,
      );
    const msg = `the check could not run: ${(e as Error).message}`;
    return { ok: false, detail: msg, problems: [msg], problem_count: 1 };
  }
}

/** Runs the 16 required checks in order (`only`: a subset, for tests and diagnosis). */
export async function runChecks(ctx: AuditContext, only?: readonly CheckId[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of AUDIT_CHECKS)
    if (!only || only.includes(c.id))
      out.push({ id: c.id, phase: c.phase, name: c.name, ...(await runCheck(ctx, c.id)) });
  return out;
}

/** The entries of the baseline rows that carry a valid AuditBaselineEntry, with their row numbers. */
function validEntries(
  rows: readonly BaselineRow<unknown>[],
): { seq: number; entry: AnyAuditBaselineEntry }[] {
  return rows.flatMap((r) => {
    const res = AnyAuditBaselineEntry.safeParse(r.entry);
    return res.success ? [{ seq: r.seq, entry: res.data }] : [];
  });
}

const refOf = (seq: number, e: AnyAuditBaselineEntry): RowRef => ({
  seq,
  audited_at: e.audited_at,
  git_head: e.git_head,
});

/** The audit: lock, verify the baseline chain, run the checks, measure, compare, append, report. */
export async function auditFull(root: string, opts: AuditOptions): Promise<AuditResult> {
  const release = await acquireLock(root, 'audit-full');
  try {
    let baseline;
    try {
      baseline = await readBaseline<unknown>(root);
    } catch (e) {
      if (e instanceof UserError) {
        const located = e instanceof ChainBroken && e.located;
        const where = e.code === 'AUDIT_CHAIN_BROKEN' && !located ? await diagnoseBaseline(root) : null;
        throw new UserError(
          e.code,
          `audit-full refuses to run: ${e.message}${where ? `\nWhere: ${where}.` : ''}`,
        );
      }
      throw e;
    }
    if (baseline.recoveredTail !== null)
      log.warn(
        `${BASELINE_FILE}: cut off a torn partial last row (${baseline.recoveredTail} bytes, a crash during an earlier append); the chain is intact`,
      );
    if (baseline.fresh)
      log.warn(
        `no audit baseline yet (no rows in ${BASELINE_FILE}, none committed at git HEAD): this audit starts a new baseline at row 1; commit ${BASELINE_FILE} and ${BASELINE_HEAD} afterwards so that the baseline is anchored (docs/operator-handoff.md, "The audit baseline")`,
      );
    if (!opts.phases.some((p) => existsSync(join(root, p.outDir, '_manifest.json'))))
      throw new UserError(
        'NOTHING_BUILT',
        'nothing to audit: no phase folder has a _manifest.json; build the pipeline first with `npm run run-all`; no baseline row was appended',
      );
    const history = validEntries(baseline.rows);
    const config = loadConfig(root);
    const now = await buildState(root, config, opts.phases, codeFingerprint());
    const ctx: AuditContext = { root, config, phases: opts.phases, history: { rows: history, now } };
    const checks = await runChecks(ctx);
    const counts = await corpusCounts(root, opts.phases);
    const metrics = trackedMetrics(counts);
    const digest = await exportsDigest(root);
    const last = history.at(-1) ?? null;
    const drift = compareMetrics(metrics, last?.entry.metrics ?? null);
    const passed = checks.filter((c) => c.ok).length;
    const entry = AuditBaselineEntry.parse({
      schema_version: ENTRY_V,
      audited_at: (opts.now ?? (() => new Date()))().toISOString(),
      git_head: codeVersion(root),
      metrics,
      checks_passed: passed,
      checks_total: checks.length,
      export_sha256: digest.sha256,
      code_fingerprint: now.code,
      corpus_sha256: now.corpus,
      phases: now.digests,
    });
    const row = await appendBaseline<AuditBaselineEntry>(root, entry);
    const entries = [...history.map((h) => h.entry), entry];
    await writeFileAtomic(
      join(root, AUDIT_CHART),
      historyChart(metricSeries(entries), `audit-full: tracked metrics by baseline row (1–${row.seq})`),
    );
    const previous = last ? refOf(last.seq, last.entry) : null;
    const input: AuditReportInput = {
      row: refOf(row.seq, entry),
      baselineFile: BASELINE_FILE,
      checks,
      drift,
      previous,
      digest,
      chartRows: entries.length,
    };
    await writeFileAtomic(join(root, AUDIT_REPORT), renderAuditReport(input));
    log.report(formatAuditSummary(input));
    return {
      passed,
      total: checks.length,
      checks,
      counts,
      metrics,
      drift,
      row,
      previous,
      report: AUDIT_REPORT,
      chart: AUDIT_CHART,
    };
  } finally {
    await release();
  }
}
