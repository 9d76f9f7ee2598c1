import { CATEGORIES } from '../../schemas/category.ts';
import type { Severity } from '../../schemas/drift-report.ts';
import { RunSummary, SCHEMA_VERSION as SUMMARY_V } from '../../schemas/run-summary.ts';
import type { StageReceipt } from '../../schemas/stage-receipt.ts';
import type { PipelinePhase } from '../phases/registry.ts';
import { currentMetricName } from './metric-names.ts';

/** How one phase of a run-all ended and which receipt describes the outputs it left. */
export interface PhaseOutcome {
  phase: PipelinePhase;
  /** ran: a receipt of this run; fresh: skipped (wireit), described by an earlier receipt; failed. */
  status: 'ran' | 'fresh' | 'failed';
  /** Receipt path relative to the root, never `latest/` (that one is overwritten). */
  receiptPath: string | null;
  receipt: StageReceipt | null;
  /** Why the phase failed or has no receipt. */
  error: string | null;
}

const byPhase = (outcomes: readonly PhaseOutcome[], name: string): StageReceipt | null =>
  outcomes.find((o) => o.phase.phase === name)?.receipt ?? null;

/** Pure core: the funnel (source rows → evidence → runs by category → exports) from the receipts. */
export function funnelOf(outcomes: readonly PhaseOutcome[]): RunSummary['funnel'] {
  const ev = byPhase(outcomes, 'build-evidence');
  const sc = byPhase(outcomes, 'score');
  const runsByCategory = Object.fromEntries(CATEGORIES.map((c) => [c, sc?.stats[`category.${c}`] ?? 0]));
  const exports: Record<string, number> = {};
  for (const o of outcomes)
    for (const [name, key] of Object.entries(o.phase.exports ?? {}))
      exports[name] = o.receipt?.stats[key] ?? 0;
  const leftOut = { quarantined: 0, excluded: 0 };
  for (const o of outcomes) {
    leftOut.quarantined += o.receipt?.counts.quarantined ?? 0;
    leftOut.excluded += o.receipt?.counts.excluded ?? 0;
  }
  return {
    left_out: leftOut,
    source_rows: ev?.counts.in ?? 0,
    evidence: ev?.stats['records'] ?? 0,
    quarantined: ev?.counts.quarantined ?? 0,
    runs: sc?.stats['runs'] ?? 0,
    runs_by_category: runsByCategory,
    exports,
  };
}

/** Bytes of a phase's data files (not `_manifest.json`, `_quarantine*`, `_health.json`, ...). */
function dataBytes(r: StageReceipt): number {
  return r.outputs
    .filter((f) => !f.path.split('/').some((part) => part.startsWith('_')))
    .reduce((s, f) => s + f.bytes, 0);
}

/**
 * Pure core: the flat metrics drift compares (names in docs/receipts.md): the tracked `p2_` /
 * `p3_` / `p4_` metrics (evidence records, scored runs by category, rag / sft / preference rows,
 * rows quarantined over all phases), funnel counts, `mix.<category>` (percent of runs), other
 * `export.<name>` rows, `bytes.<phase>` per export phase, `quarantine.<phase>.<REASON>` (bad rows)
 * and `excluded.<phase>.<REASON>` (left out by policy).
 */
export function metricsOf(outcomes: readonly PhaseOutcome[]): Record<string, number> {
  const f = funnelOf(outcomes);
  // the tracked names (tasks/run/metric-names.ts) where the seed named the metric
  const m: Record<string, number> = {
    'funnel.source_rows': f.source_rows,
    p2_evidence_records: f.evidence,
    'funnel.quarantined': f.quarantined,
    p3_scored_runs: f.runs,
    p4_total_quarantined: f.left_out?.quarantined ?? 0,
    'funnel.excluded': f.left_out?.excluded ?? 0,
  };
  for (const [c, v] of Object.entries(f.runs_by_category)) {
    m[`p3_${c}`] = v;
    m[`mix.${c}`] = f.runs === 0 ? 0 : Math.round((10_000 * v) / f.runs) / 100;
  }
  for (const [name, v] of Object.entries(f.exports)) m[currentMetricName(`export.${name}`)] = v;
  for (const o of outcomes) {
    if (!o.receipt) continue;
    if (o.phase.exports) m[`bytes.${o.phase.phase}`] = dataBytes(o.receipt);
    for (const [reason, v] of Object.entries(o.receipt.counts.by_reason))
      m[`quarantine.${o.phase.phase}.${reason}`] = v;
    for (const [reason, v] of Object.entries(o.receipt.counts.excluded_by_reason ?? {}))
      m[`excluded.${o.phase.phase}.${reason}`] = v;
  }
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Pure core: the RunSummary of one run-all. `ok` needs every phase ran or fresh and no error. */
export function buildSummary(a: {
  runId: string;
  startedAt: string;
  finishedAt: string;
  codeVersion: string;
  outcomes: readonly PhaseOutcome[];
  metrics: Record<string, number>;
  driftSeverity: Severity;
  errors: readonly string[];
}): RunSummary {
  const errors = [
    ...a.outcomes.flatMap((o) => (o.error ? [`${o.phase.phase}: ${o.error}`] : [])),
    ...a.errors,
  ];
  return RunSummary.parse({
    schema_version: SUMMARY_V,
    run_id: a.runId,
    started_at: a.startedAt,
    finished_at: a.finishedAt,
    code_version: a.codeVersion,
    phases: a.outcomes.map((o) => ({ phase: o.phase.phase, status: o.status, receipt: o.receiptPath })),
    funnel: funnelOf(a.outcomes),
    metrics: a.metrics,
    drift_severity: a.driftSeverity,
    ok: errors.length === 0 && a.outcomes.every((o) => o.status !== 'failed'),
    errors,
  });
}
