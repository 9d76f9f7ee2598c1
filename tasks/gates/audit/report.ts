import { withCurrentNames } from '../../run/metric-names.ts';
import { n } from '../../lib/log.ts';
import type { Series } from './svg-chart.ts';
import type { CheckResult } from './check-list.ts';
import type { ExportDigest } from './export-digest.ts';
import { AUDIT_DRIFT_WARN_PCT, TRACKED_METRICS, type MetricDrift } from './metrics.ts';

/** Where audit-full writes its report, relative to the project root (regenerated on every run). */
export const AUDIT_REPORT = 'reports/distillation/phase8-full-audit-report.md';
/** Where audit-full writes the SVG history of the tracked metrics. */
export const AUDIT_CHART = 'reports/distillation/audit-metrics.svg';

/** A baseline row as the report names it. */
export interface RowRef {
  seq: number;
  audited_at: string;
  git_head: string;
}

/** Everything the report shows. */
export interface AuditReportInput {
  row: RowRef;
  baselineFile: string;
  checks: readonly CheckResult[];
  drift: readonly MetricDrift[];
  /** The row the drift compares with; null on the first audit. */
  previous: RowRef | null;
  digest: ExportDigest;
  /** Rows in the chart (rows whose entry has metrics). */
  chartRows: number;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const short = (sha: string): string => sha.slice(0, 12);
const passed = (checks: readonly CheckResult[]): number => checks.filter((c) => c.ok).length;

/** The verdict line: `N/16 required pass`. */
export function verdictLine(checks: readonly CheckResult[]): string {
  return `${passed(checks)}/${checks.length} required pass`;
}

function changeText(d: MetricDrift): string {
  if (d.previous === null) return '–';
  if (d.change_pct === null) return `from 0 to ${n(d.current)}`;
  return `${d.change_pct > 0 ? '+' : ''}${d.change_pct.toFixed(2)} %`;
}

/** One line on the drift for the console. */
export function driftLine(drift: readonly MetricDrift[], previous: RowRef | null): string {
  if (!previous) return 'drift: first audit (no earlier baseline row), nothing to compare';
  const warns = drift.filter((d) => d.status === 'warn');
  if (warns.length === 0)
    return `drift: ok vs baseline row ${previous.seq} (no tracked metric moved more than ${AUDIT_DRIFT_WARN_PCT} %)`;
  const shown = warns
    .map((d) => `${d.metric} ${n(d.previous ?? 0)} → ${n(d.current)} (${changeText(d)})`)
    .join(', ');
  return `drift: ${warns.length} warn vs baseline row ${previous.seq}: ${shown}; intentional or a regression? see docs/recovery-runbook.md`;
}

/** The console summary (stderr): one line per check, failed checks with their first problems, the verdict, the drift. */
export function formatAuditSummary(input: AuditReportInput): string {
  const width = Math.max(...input.checks.map((c) => c.id.length));
  const lines = [
    `audit-full: baseline row ${input.row.seq} of ${input.baselineFile} · code ${short(input.row.git_head)} · export sha256 ${short(input.digest.sha256)}… (${n(input.digest.files)} files)`,
  ];
  for (const c of input.checks) {
    lines.push(`${c.ok ? '✔' : '✖'} ${c.id.padEnd(width)}  ${c.ok ? c.detail : c.name}`);
    if (!c.ok) {
      for (const p of c.problems.slice(0, 5)) lines.push(`    ${p}`);
      if (c.problem_count > 5) lines.push(`    … and ${n(c.problem_count - 5)} more (see the report)`);
    }
  }
  const failed = input.checks.filter((c) => !c.ok).map((c) => c.id);
  lines.push(`${verdictLine(input.checks)}${failed.length ? ` (failing: ${failed.join(', ')})` : ''}`);
  lines.push(driftLine(input.drift, input.previous));
  lines.push(`report: ${AUDIT_REPORT} (chart: ${AUDIT_CHART})`);
  lines.push(
    `baseline: row ${input.row.seq} appended to ${input.baselineFile}, which is tracked: commit it (docs/operator-handoff.md, "The audit baseline")`,
  );
  return lines.join('\n');
}

/** The Markdown report (deterministic for a given input). */
export function renderAuditReport(input: AuditReportInput): string {
  const { row, checks, drift, previous, digest } = input;
  const failed = checks.filter((c) => !c.ok);
  const out: string[] = [
    '# Full audit (phase 8)',
    '',
    'Written by `npm run audit-full` on every run (git-ignored; the durable record is the baseline row). How to act on it: [docs/recovery-runbook.md](../../docs/recovery-runbook.md).',
    '',
    '| | |',
    '| --- | --- |',
    `| audited at | ${row.audited_at} |`,
    `| git head | \`${row.git_head}\` |`,
    `| baseline row | ${row.seq} of \`${input.baselineFile}\` (hash chain verified before the audit) |`,
    `| export sha256 | \`${digest.sha256}\` (${n(digest.files)} files, ${n(digest.bytes)} bytes under exports/) |`,
    `| verdict | **${verdictLine(checks)}**${failed.length ? ` — failing: ${failed.map((c) => `\`${c.id}\``).join(', ')}` : ''} |`,
    '',
    '## Required checks',
    '',
    '| # | check | phase | what must hold | result | detail |',
    '| --- | --- | --- | --- | --- | --- |',
    ...checks.map(
      (c, i) =>
        `| ${i + 1} | \`${c.id}\` | ${c.phase} | ${cell(c.name)} | ${c.ok ? '✔ pass' : '✖ FAIL'} | ${cell(c.detail)} |`,
    ),
  ];
  if (failed.length > 0) {
    out.push('', '### Problems', '');
    for (const c of failed) {
      out.push(`#### \`${c.id}\` (${n(c.problem_count)})`, '');
      for (const p of c.problems) out.push(`- ${p}`);
      if (c.problem_count > c.problems.length)
        out.push(`- … and ${n(c.problem_count - c.problems.length)} more`);
      out.push('');
    }
  } else out.push('');
  out.push(
    previous
      ? `## Drift against baseline row ${previous.seq} (${previous.audited_at}, code \`${short(previous.git_head)}\`)`
      : '## Drift',
    '',
    previous
      ? `A tracked metric that moved by more than ${AUDIT_DRIFT_WARN_PCT} % of its previous value, or to or from zero, is \`warn\`. Drift never fails the audit: decide whether the move was intended.`
      : 'First audit: there is no earlier baseline row to compare with; every metric is `new`.',
    '',
    '| metric | previous | current | change | status |',
    '| --- | ---: | ---: | ---: | --- |',
    ...drift.map(
      (d) =>
        `| \`${d.metric}\` | ${d.previous === null ? '–' : n(d.previous)} | ${n(d.current)} | ${changeText(d)} | ${d.status === 'warn' ? '⚠ warn' : d.status} |`,
    ),
    '',
    '## Metric history',
    '',
    `![tracked metrics across the baseline rows](${AUDIT_CHART.split('/').pop()})`,
    '',
    `One panel per tracked metric, across the ${n(input.chartRows)} baseline rows that carry metrics (x = row number, the last point is this audit).`,
    '',
  );
  return `${out.join('\n')}\n`;
}

/** The chart's series: each tracked metric's value in each baseline entry that has it. */
export function metricSeries(entries: readonly { metrics: Readonly<Record<string, number>> }[]): Series[] {
  return TRACKED_METRICS.map((name) => ({
    name,
    values: entries
      .map((e) => withCurrentNames(e.metrics)[name])
      .filter((v): v is number => typeof v === 'number'),
  }));
}
