import { PIPELINE } from '../phases/registry.ts';

/**
 * The tracked metric names: the seed's phase-numbered names (p2 = evidence, p3 = scoring,
 * p4 = exports and quarantine), the same in run-all's drift (summary.json `metrics`) and in
 * audit-full's baseline rows. Earlier names stay readable as aliases: a previous run or baseline
 * row that used them is renamed before comparing, so an upgrade does not look like drift.
 */

/** The 10 metrics audit-full tracks across baseline rows, in report order. */
export const TRACKED_METRICS = [
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
] as const;

/**
 * Earlier name → tracked name. `quarantined_total` has no alias on purpose: it also counted rows
 * left out by policy, so its successor `p4_total_quarantined` (bad rows only) starts as `new`.
 */
export const METRIC_ALIASES: Readonly<Record<string, string>> = {
  // audit-full's names before the seed's
  evidence_records: 'p2_evidence_records',
  scored_runs: 'p3_scored_runs',
  accepted: 'p3_accepted',
  partially_accepted: 'p3_partially_accepted',
  rejected: 'p3_rejected',
  needs_human_review: 'p3_needs_human_review',
  rag_rows: 'p4_rag_rows',
  sft_rows: 'p4_sft_rows',
  preference_pairs: 'p4_preference_pairs',
  // run-all's names before the seed's
  'funnel.evidence': 'p2_evidence_records',
  'funnel.runs': 'p3_scored_runs',
  'runs.accepted': 'p3_accepted',
  'runs.partially_accepted': 'p3_partially_accepted',
  'runs.rejected': 'p3_rejected',
  'runs.needs_human_review': 'p3_needs_human_review',
  'export.rag': 'p4_rag_rows',
  'export.sft': 'p4_sft_rows',
  'export.preference': 'p4_preference_pairs',
};

/** The current name of a metric: its alias target, or `excluded.<phase>.<R>` for a policy reason once counted as quarantine. */
export function currentMetricName(name: string): string {
  const alias = METRIC_ALIASES[name];
  if (alias) return alias;
  const m = /^quarantine\.([^.]+)\.(.+)$/.exec(name);
  if (m && PIPELINE.find((p) => p.phase === m[1])?.excluded.includes(m[2] as string))
    return `excluded.${m[1]}.${m[2]}`;
  return name;
}

/** Metrics under their current names (a name given twice keeps the current name's value). */
export function withCurrentNames(metrics: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    const name = currentMetricName(k);
    if (name === k || !(name in metrics)) out[name] = v;
  }
  return out;
}
