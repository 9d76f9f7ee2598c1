import type { DriftReport } from '../../schemas/drift-report.ts';
import type { RunSummary } from '../../schemas/run-summary.ts';
import type { StageReceipt } from '../../schemas/stage-receipt.ts';
import { changedMetrics, movedMetrics } from './drift.ts';
import { n } from '../lib/log.ts';
import { PIPELINE } from '../phases/registry.ts';

/** The unit of a phase's `counts.in`, from the registry (rows for a phase it no longer lists). */
const unitOf = (phase: string): string => PIPELINE.find((p) => p.phase === phase)?.unit ?? 'rows';

/** Everything the text report of one run shows. */
export interface RunView {
  summary: RunSummary;
  drift: DriftReport | null;
  /** The receipts the summary points at, in phase order (null when missing or unreadable). */
  receipts: ReadonlyMap<string, StageReceipt | null>;
  /** Reconcile problems (receipts-check.ts); empty when the receipts reconcile. */
  problems: readonly string[];
  /** Whether the check compared the receipts with the manifests on disk (the latest run only). */
  onDisk: boolean;
}

/** A metric value: integers with thousands separators, shares as they are. */
function num(x: number): string {
  return Number.isInteger(x) ? n(x) : String(x);
}

/** A phase's counts in words: `1,300 source rows → 1,283 kept, 17 quarantined[, 242 excluded]`. */
export function countsText(r: StageReceipt, unit: string): string {
  const c = r.counts;
  const excluded = c.excluded ?? 0;
  return `${n(c.in)} ${unit} → ${n(c.out)} kept, ${n(c.quarantined)} quarantined${excluded ? `, ${n(excluded)} excluded` : ''}`;
}

/** The phases block: status, counts in the phase's unit and the receipt that describes each phase's outputs. */
export function formatPhases(v: RunView): string[] {
  const width = Math.max(...v.summary.phases.map((p) => p.phase.length), 5);
  const counts = v.summary.phases.map((p) => {
    const r = v.receipts.get(p.phase) ?? null;
    return r ? countsText(r, unitOf(p.phase)) : 'no receipt';
  });
  const cw = Math.max(...counts.map((c) => c.length), 0);
  const lines = v.summary.phases.map(
    (p, i) =>
      `  ${p.phase.padEnd(width)}  ${p.status.padEnd(6)}  ${p.receipt ? `${(counts[i] as string).padEnd(cw)}  ${p.receipt}` : counts[i]}`,
  );
  return [
    'phases (quarantined: bad rows; excluded: left out by policy, e.g. a category an export does not take)',
    ...lines,
  ];
}

/** The unit of an export's rows in the funnel (RAG rows are chunks, preference rows pairs). */
export const EXPORT_UNITS: Readonly<Record<string, string>> = { rag: 'chunks', preference: 'pairs' };

/** The funnel: source rows → evidence records → runs by category → export rows, and what was left out. */
export function formatFunnel(f: RunSummary['funnel']): string[] {
  const cats = Object.entries(f.runs_by_category)
    .map(([c, v]) => `${n(v)} ${c.replace(/_/g, ' ')}`)
    .join(', ');
  const exports = Object.entries(f.exports)
    .map(([k, v]) => `${k} ${n(v)} ${EXPORT_UNITS[k] ?? 'rows'}`)
    .join(', ');
  const lines = [
    'funnel',
    `  ${n(f.source_rows)} source rows`,
    `  → ${n(f.evidence)} evidence records from ${n(f.source_rows - f.quarantined)} source rows (${n(f.quarantined)} source rows quarantined; a row can give several records)`,
    `  → ${n(f.runs)} scored runs: ${cats}`,
    `  → export rows: ${exports || 'none'}`,
  ];
  if (f.left_out)
    lines.push(
      `  left out over all phases: ${n(f.left_out.quarantined)} rows quarantined (bad), ${n(f.left_out.excluded)} excluded by policy`,
    );
  lines.push(...waiting(f.runs_by_category['needs_human_review'] ?? 0));
  return lines;
}

/** The funnel's review line: how many runs wait for a human and the command that shows them. */
function waiting(count: number): string[] {
  if (count === 0) return [];
  return [
    `  ${n(count)} run${count === 1 ? ' waits' : 's wait'} for a human decision: \`distill review\` lists ${count === 1 ? 'it' : 'them'} (reports/review/queue.md) and records decisions`,
  ];
}

/** How many changed metrics the text report lists; drift.json has them all. */
export const DRIFT_LINES = 12;

/** The drift verdict line, then the metrics that changed, worst first (at most DRIFT_LINES). */
export function formatDrift(d: DriftReport | null): string[] {
  if (!d) return ['drift: not recorded for this run'];
  if (d.previous_run_id === null) return [`drift: ${d.severity} (first run, nothing to compare)`];
  const changed = changedMetrics(d);
  if (changed.length === 0) return [`drift: ${d.severity} vs run ${d.previous_run_id} (no metric changed)`];
  const past = movedMetrics(d).length;
  const t = `warn > ${d.thresholds.warn_pct} %, alert > ${d.thresholds.alert_pct} % or to/from zero`;
  const shown = changed.slice(0, DRIFT_LINES);
  const width = Math.max(...shown.map((m) => m.name.length));
  const lines = shown.map((m) => {
    const pct = m.delta_pct === null ? 'from 0' : `${m.delta_pct > 0 ? '+' : ''}${m.delta_pct} %`;
    return `  ${m.severity.padEnd(5)}  ${m.name.padEnd(width)}  ${num(m.previous ?? 0)} → ${num(m.current)} (${pct})`;
  });
  if (changed.length > shown.length)
    lines.push(
      `  … ${changed.length - shown.length} more changed metrics in reports/distillation/${d.run_id}/drift.json`,
    );
  const verdict = past === 0 ? `none more than ${d.thresholds.warn_pct} %` : `${past} past a threshold`;
  return [
    `drift: ${d.severity} vs run ${d.previous_run_id}: ${changed.length} of ${d.metrics.length} metrics changed, ${verdict} (${t})`,
    ...lines,
  ];
}

/** The reconcile verdict: ok, or one line per problem. */
export function formatCheck(problems: readonly string[], receipts: number, onDisk: boolean): string[] {
  if (problems.length === 0)
    return [
      `check: ok (${receipts} receipts reconcile: rows in = kept + quarantined + excluded, inputs = upstream outputs${onDisk ? ', outputs = files on disk' : '; an older run, not compared with the files on disk'})`,
    ];
  return [
    `check: FAILED, ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    ...problems.map((p) => `  ✖ ${p}`),
  ];
}

/** The header line of a run. */
export function formatHeader(s: RunSummary): string {
  const took = (Date.parse(s.finished_at) - Date.parse(s.started_at)) / 1000;
  return `run ${s.run_id}: ${s.ok ? 'ok' : 'FAILED'} · code ${s.code_version.slice(0, 12)} · started ${s.started_at} · took ${took.toFixed(1)} s`;
}

/** The whole text report of a run: header, errors, phases, check, funnel, drift (last). */
export function formatRunReport(v: RunView): string {
  const errors = v.summary.errors.filter((e) => !v.problems.includes(e)).map((e) => `  ✖ ${e}`);
  return [
    formatHeader(v.summary),
    ...errors,
    ...formatPhases(v),
    ...formatCheck(v.problems, [...v.receipts.values()].filter(Boolean).length, v.onDisk),
    ...formatFunnel(v.summary.funnel),
    ...formatDrift(v.drift),
  ].join('\n');
}
