import { z } from 'zod';
import { CATEGORIES } from '../../../schemas/category.ts';
import { metricSeverity } from '../../run/drift.ts';
import { KTO_FILE, PAIR_FILE } from '../../phases/export-preference/contract.ts';
import { RAG_FILE } from '../../phases/export-rag/contract.ts';
import { SFT_FILE } from '../../phases/export-sft/contract.ts';
import { EVIDENCE_DIR, EXPORT_DIRS, SCORED_DIR, SCREENED_DIR } from '../../phases/registry.ts';
import { readJson } from '../../run/run-reports.ts';
import type { PipelinePhase } from '../../phases/registry.ts';
import { phaseManifest } from './rows.ts';

/**
 * The corpus at a glance, from the phase manifests (which the manifests check ties to the bytes on
 * disk): record counts, the category distribution, export sizes and quarantine totals. audit-full
 * tracks 10 of them across audits; release-freeze records them all at freeze.
 */

/** Counts of every stage of the corpus. */
export interface CorpusCounts {
  evidence: number;
  scored: number;
  /** Runs, documents and judgments kept by screen. */
  screened: number;
  categories: Record<(typeof CATEGORIES)[number], number>;
  rag: number;
  sft: number;
  sft_partial: number;
  preference: number;
  kto: number;
  /** Quarantine rows of every phase. */
  quarantined: number;
  /** Bytes of the export data files (no manifests, no quarantine). */
  export_bytes: number;
}

/** The 10 metrics audit-full tracks across baseline rows, in report order. */
export const TRACKED_METRICS = [
  'evidence_records',
  'scored_runs',
  'accepted',
  'partially_accepted',
  'rejected',
  'needs_human_review',
  'rag_rows',
  'sft_rows',
  'preference_pairs',
  'quarantined_total',
] as const;
/** One tracked metric's name. */
export type TrackedMetric = (typeof TRACKED_METRICS)[number];
/** The 10 tracked metrics' values. */
export type Metrics = Record<TrackedMetric, number>;

const ScoredSummary = z.object({ by_category: z.record(z.string(), z.number()) });

/** Reads the corpus counts; a phase not built counts 0. */
export async function corpusCounts(root: string, phases: readonly PipelinePhase[]): Promise<CorpusCounts> {
  const rowsIn = async (dir: string, pred: (path: string) => boolean): Promise<number> => {
    const m = await phaseManifest(root, dir);
    return m.ok ? m.value.files.filter((f) => pred(f.path)).reduce((s, f) => s + (f.rows ?? 0), 0) : 0;
  };
  const data = (dir: string) => (p: string) => p.endsWith('.jsonl') && !p.slice(dir.length).includes('/_');
  const file = (dir: string, name: string) => (p: string) => p === `${dir}/${name}`;
  let quarantined = 0;
  let exportBytes = 0;
  for (const p of phases) {
    const m = await phaseManifest(root, p.outDir);
    if (!m.ok) continue;
    quarantined += m.value.files
      .filter((f) => /\/_quarantine(\.jsonl$|\/)/.test(f.path))
      .reduce((s, f) => s + (f.rows ?? 0), 0);
    if (p.outDir.startsWith('exports/'))
      exportBytes += m.value.files.filter((f) => !f.path.includes('/_')).reduce((s, f) => s + f.bytes, 0);
  }
  const summary = await readJson(root, `${SCORED_DIR}/_summary.json`, ScoredSummary);
  const categories = Object.fromEntries(
    CATEGORIES.map((c) => [c, summary.ok ? (summary.value.by_category[c] ?? 0) : 0]),
  ) as CorpusCounts['categories'];
  return {
    evidence: await rowsIn(EVIDENCE_DIR, data(EVIDENCE_DIR)),
    scored: await rowsIn(SCORED_DIR, data(SCORED_DIR)),
    screened: await rowsIn(SCREENED_DIR, data(SCREENED_DIR)),
    categories,
    rag: await rowsIn(EXPORT_DIRS.rag, file(EXPORT_DIRS.rag, RAG_FILE)),
    sft: await rowsIn(EXPORT_DIRS.sft, file(EXPORT_DIRS.sft, SFT_FILE)),
    sft_partial: await rowsIn(EXPORT_DIRS.sftPartial, file(EXPORT_DIRS.sftPartial, SFT_FILE)),
    preference: await rowsIn(EXPORT_DIRS.preference, file(EXPORT_DIRS.preference, PAIR_FILE)),
    kto: await rowsIn(EXPORT_DIRS.preference, file(EXPORT_DIRS.preference, KTO_FILE)),
    quarantined,
    export_bytes: exportBytes,
  };
}

/** The 10 tracked metrics of a corpus. */
export function trackedMetrics(c: CorpusCounts): Metrics {
  return {
    evidence_records: c.evidence,
    scored_runs: c.scored,
    accepted: c.categories.accepted,
    partially_accepted: c.categories.partially_accepted,
    rejected: c.categories.rejected,
    needs_human_review: c.categories.needs_human_review,
    rag_rows: c.rag,
    sft_rows: c.sft,
    preference_pairs: c.preference,
    quarantined_total: c.quarantined,
  };
}

/** A metric's move since the previous baseline row: `warn` above 20 % (or to / from zero), `new` with no previous row. */
export interface MetricDrift {
  metric: TrackedMetric;
  previous: number | null;
  current: number;
  /** Change in percent of the previous value (2 decimals); null when there is no previous value or it was 0. */
  change_pct: number | null;
  status: 'ok' | 'warn' | 'new';
}

/** The drift threshold of audit-full, in percent of the previous value. */
export const AUDIT_DRIFT_WARN_PCT = 20;

/**
 * Pure core: each tracked metric against the latest baseline row's value. A metric the previous row
 * lacks is `new`; a move of more than 20 % (exactly 20 % is ok), or to or from zero, is `warn`.
 */
export function compareMetrics(
  current: Metrics,
  previous: Readonly<Record<string, number>> | null,
): MetricDrift[] {
  return TRACKED_METRICS.map((metric) => {
    const cur = current[metric];
    const prev = previous?.[metric];
    if (prev === undefined)
      return { metric, previous: null, current: cur, change_pct: null, status: 'new' as const };
    const change =
      prev === 0 ? (cur === 0 ? 0 : null) : Math.round(((cur - prev) * 10000) / Math.abs(prev)) / 100;
    const sev = metricSeverity(prev, cur, {
      warn_pct: AUDIT_DRIFT_WARN_PCT,
      alert_pct: Number.POSITIVE_INFINITY,
    });
    return {
      metric,
      previous: prev,
      current: cur,
      change_pct: change,
      status: sev === 'ok' ? ('ok' as const) : ('warn' as const),
    };
  });
}
