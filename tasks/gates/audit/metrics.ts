import { join } from 'node:path';
import { z } from 'zod';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { TRACKED_METRICS as TRACKED, withCurrentNames } from '../../run/metric-names.ts';
import { CATEGORIES } from '../../../schemas/category.ts';
import { metricSeverity } from '../../run/drift.ts';
import { KTO_FAMILY, PAIR_FAMILY } from '../../phases/export-preference/contract.ts';
import { RAG_FAMILY } from '../../phases/export-rag/contract.ts';
import { SFT_FAMILY } from '../../phases/export-sft/contract.ts';
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
  /** Bad rows every phase quarantined (their reason is not one of the phase's EXCLUDED). */
  quarantined: number;
  /** Rows every phase left out by policy (written to the same quarantine files, reason in EXCLUDED). */
  excluded: number;
  /** Bytes of the export data files (no manifests, no quarantine). */
  export_bytes: number;
}

/** The 10 metrics audit-full tracks across baseline rows, in report order (the seed's names). */
export const TRACKED_METRICS = TRACKED;
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
  // every day shard of an export family `<dir>/<family>/<shard>.jsonl`
  const file = (dir: string, family: string) => (p: string) =>
    p.startsWith(`${dir}/${family}/`) && !p.slice(dir.length + family.length + 2).includes('/');
  let quarantined = 0;
  let excluded = 0;
  let exportBytes = 0;
  for (const p of phases) {
    const m = await phaseManifest(root, p.outDir);
    if (!m.ok) continue;
    const policy = new Set(p.excluded);
    for (const f of m.value.files.filter((x) => /\/_quarantine(\.jsonl$|\/)/.test(x.path))) {
      // bad rows and policy exclusions share the file; each row's reason says which it is
      const out = policy.size === 0 ? 0 : await rowsWithReason(join(root, f.path), policy);
      excluded += out;
      quarantined += (f.rows ?? 0) - out;
    }
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
    rag: await rowsIn(EXPORT_DIRS.rag, file(EXPORT_DIRS.rag, RAG_FAMILY)),
    sft: await rowsIn(EXPORT_DIRS.sft, file(EXPORT_DIRS.sft, SFT_FAMILY)),
    sft_partial: await rowsIn(EXPORT_DIRS.sftPartial, file(EXPORT_DIRS.sftPartial, SFT_FAMILY)),
    preference: await rowsIn(EXPORT_DIRS.preference, file(EXPORT_DIRS.preference, PAIR_FAMILY)),
    kto: await rowsIn(EXPORT_DIRS.preference, file(EXPORT_DIRS.preference, KTO_FAMILY)),
    quarantined,
    excluded,
    export_bytes: exportBytes,
  };
}

/** The 10 tracked metrics of a corpus. */
export function trackedMetrics(c: CorpusCounts): Metrics {
  return {
    p2_evidence_records: c.evidence,
    p3_scored_runs: c.scored,
    p3_accepted: c.categories.accepted,
    p3_partially_accepted: c.categories.partially_accepted,
    p3_rejected: c.categories.rejected,
    p3_needs_human_review: c.categories.needs_human_review,
    p4_rag_rows: c.rag,
    p4_sft_rows: c.sft,
    p4_preference_pairs: c.preference,
    p4_total_quarantined: c.quarantined,
  };
}

/** Rows of a quarantine file whose reason (without a `:<rule>` suffix) is one of `reasons`. */
async function rowsWithReason(path: string, reasons: ReadonlySet<string>): Promise<number> {
  let count = 0;
  for await (const { text } of jsonlLines(path)) {
    if (text.trim() === '') continue;
    const reason = String((JSON.parse(text) as { reason?: unknown }).reason ?? '').split(':')[0] as string;
    if (reasons.has(reason)) count++;
  }
  return count;
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
  const before = previous ? withCurrentNames(previous) : null; // rows written under the earlier names
  return TRACKED_METRICS.map((metric) => {
    const cur = current[metric];
    const prev = before?.[metric];
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
