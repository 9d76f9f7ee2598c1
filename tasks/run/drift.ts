import { DriftReport, SCHEMA_VERSION as DRIFT_V, type Severity } from '../../schemas/drift-report.ts';

/**
 * When a metric's move is worth a look (docs/receipts.md): `warn` above 20 % of the previous value,
 * `alert` above 50 %, and `alert` whenever a metric goes to or from zero.
 */
export const DRIFT_THRESHOLDS = { warn_pct: 20, alert_pct: 50 } as const;

/** Drift thresholds in percent of the previous value. */
export type DriftThresholds = { warn_pct: number; alert_pct: number };

const RANK: Record<Severity, number> = { ok: 0, warn: 1, alert: 2 };

/** The worse of two severities. */
export function worse(a: Severity, b: Severity): Severity {
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * Severity of one metric moving from `previous` to `current`. Compared as |Δ|·100 > pct·|previous|
 * so that exact thresholds stay exact (5 → 6 is 20 %, not 20.000000000000004 %).
 */
export function metricSeverity(
  previous: number,
  current: number,
  t: DriftThresholds = DRIFT_THRESHOLDS,
): Severity {
  if (previous === current) return 'ok';
  if (previous === 0 || current === 0) return 'alert';
  const moved = Math.abs(current - previous) * 100;
  if (moved > t.alert_pct * Math.abs(previous)) return 'alert';
  if (moved > t.warn_pct * Math.abs(previous)) return 'warn';
  return 'ok';
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The run a drift report compares against: its id and its metrics. */
export interface DriftBaseline {
  run_id: string;
  metrics: Readonly<Record<string, number>>;
}

/**
 * Pure core: this run's metrics against the previous run's. A metric missing on one side counts
 * as 0 there (a quarantine reason that did not occur); with no previous run every metric is `ok`
 * with `previous: null`. Metrics are sorted by name.
 */
export function computeDrift(
  runId: string,
  current: Readonly<Record<string, number>>,
  previous: DriftBaseline | null,
  t: DriftThresholds = DRIFT_THRESHOLDS,
): DriftReport {
  const names = [...new Set([...Object.keys(current), ...Object.keys(previous?.metrics ?? {})])].sort();
  let severity: Severity = 'ok';
  const metrics = names.map((name) => {
    const cur = current[name] ?? 0;
    if (!previous)
      return { name, previous: null, current: cur, delta: null, delta_pct: null, severity: 'ok' as const };
    const prev = previous.metrics[name] ?? 0;
    const sev = metricSeverity(prev, cur, t);
    severity = worse(severity, sev);
    const deltaPct = prev === 0 ? (cur === 0 ? 0 : null) : round(((cur - prev) * 100) / Math.abs(prev), 2);
    return {
      name,
      previous: prev,
      current: cur,
      delta: round(cur - prev, 6),
      delta_pct: deltaPct,
      severity: sev,
    };
  });
  return DriftReport.parse({
    schema_version: DRIFT_V,
    run_id: runId,
    previous_run_id: previous?.run_id ?? null,
    severity,
    thresholds: { ...t },
    metrics,
  });
}

/** The metrics that moved past a threshold (severity warn or alert). */
export function movedMetrics(report: DriftReport): DriftReport['metrics'] {
  return report.metrics.filter((m) => m.severity !== 'ok');
}

/**
 * The metrics that changed at all, worst first: by severity, then by size of the move (a move from
 * zero counts as the largest), then by name.
 */
export function changedMetrics(report: DriftReport): DriftReport['metrics'] {
  const size = (m: DriftReport['metrics'][number]): number =>
    m.delta_pct === null ? Infinity : Math.abs(m.delta_pct);
  return report.metrics
    .filter((m) => m.delta !== null && m.delta !== 0)
    .sort(
      (a, b) =>
        RANK[b.severity] - RANK[a.severity] ||
        size(b) - size(a) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
}
