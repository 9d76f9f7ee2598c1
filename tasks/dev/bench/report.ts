import type { StartupFigure } from './startup.ts';
import type { PhaseFigure, RunFigure } from './measure.ts';

/**
 * Pure: the bench's measurements → the ratios that matter, checked against the targets of issue
 * #9, and the table printed at the end. No I/O.
 */

/** The targets (2 cores, 24 GiB, 1M source rows). */
export const TARGETS = {
  cold_over_floor: 15,
  phase_rss_mb: 512,
  rss_growth: 1.2,
  noop_seconds: 1.5,
  incremental_over_cold: 0.1,
  startup_seconds: 0.5,
} as const;

/** build-evidence alone on one big source file (`npm run bench -- --big-file G`). */
export interface BigFileFigure {
  bytes: number;
  rows: number;
  seconds: number;
  cpu_seconds: number;
  rss_mb: number;
  rows_per_s: number | null;
}

/** Everything one bench run measured. */
export interface BenchInput {
  records: number;
  source: { files: number; rows: number; bytes: number };
  /** The floor pass alone (`seconds`) and its whole process with start-up (`process_seconds`). */
  floor: { seconds: number; process_seconds: number; rss_mb: number };
  cold: RunFigure;
  noop: RunFigure;
  incremental: RunFigure & { added_rows: number };
  /** A cold run on a corpus `records / 10` rows, for RSS growth (null when skipped). */
  small: (RunFigure & { records: number }) | null;
  /** build-evidence on one multi-GB source file (null or absent when skipped). */
  big_file?: BigFileFigure | null;
  machine: { cpus: number; memory_gib: number; node: string; platform: string };
  code: string;
  /** `--max-old-space-size` the phases ran with (`--heap-mb`), or null for Node's default. */
  heap_mb?: number | null;
  /** CLI start-up (absent in reports written before it was measured). */
  startup?: StartupFigure | null;
}

/** One target, its measured value, and whether it holds. */
export interface TargetCheck {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

/** The bench report (reports/bench/bench.json). */
export interface BenchReport extends BenchInput {
  schema_version: 1;
  ratios: {
    cold_over_floor: number;
    incremental_over_cold: number;
    noop_seconds: number;
    max_phase_rss_mb: number;
    /** Per phase: peak RSS at `records` over peak RSS at `records / 10`. */
    rss_growth: Record<string, number>;
  };
  targets: TargetCheck[];
}

/** The phase processes of the pipeline (run-all's begin / collect steps excluded). */
function pipelinePhases(run: RunFigure): PhaseFigure[] {
  return run.phases.filter((p) => p.phase !== 'begin-run' && p.phase !== 'run-all');
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Computes the ratios and target checks. */
export function buildReport(input: BenchInput): BenchReport {
  const coldPhases = pipelinePhases(input.cold);
  const maxRss = Math.max(0, ...input.cold.phases.map((p) => p.rss_mb));
  const growth: Record<string, number> = {};
  if (input.small) {
    for (const p of coldPhases) {
      const s = input.small.phases.find((x) => x.phase === p.phase);
      if (s && s.rss_mb > 0) growth[p.phase] = round(p.rss_mb / s.rss_mb);
    }
  }
  const ratios = {
    cold_over_floor: round(input.cold.seconds / input.floor.seconds),
    incremental_over_cold: round(input.incremental.seconds / input.cold.seconds),
    noop_seconds: round(input.noop.seconds),
    max_phase_rss_mb: round(maxRss, 1),
    rss_growth: growth,
  };
  const worstGrowth = Object.entries(growth).sort((a, b) => b[1] - a[1])[0];
  const worstRss = [...input.cold.phases].sort((a, b) => b.rss_mb - a.rss_mb)[0];
  const targets: TargetCheck[] = [
    {
      name: 'cold run-all / floor',
      target: `≤ ${TARGETS.cold_over_floor}×`,
      value: `${ratios.cold_over_floor}× (${input.cold.seconds.toFixed(1)} s / ${input.floor.seconds.toFixed(1)} s)`,
      met: ratios.cold_over_floor <= TARGETS.cold_over_floor,
    },
    {
      name: 'peak RSS of every phase',
      target: `≤ ${TARGETS.phase_rss_mb} MB`,
      value: `${ratios.max_phase_rss_mb} MB${worstRss ? ` (${worstRss.phase})` : ''}`,
      met: maxRss <= TARGETS.phase_rss_mb,
    },
    {
      name: `RSS growth ${input.small ? `${input.small.records} → ${input.records}` : '(small run skipped)'} rows`,
      target: `≤ ${TARGETS.rss_growth}×`,
      value: worstGrowth ? `${worstGrowth[1]}× (${worstGrowth[0]})` : 'not measured',
      met: worstGrowth ? worstGrowth[1] <= TARGETS.rss_growth : false,
    },
    {
      name: 'no-op rerun',
      target: `≤ ${TARGETS.noop_seconds} s`,
      value: `${ratios.noop_seconds} s`,
      met: ratios.noop_seconds <= TARGETS.noop_seconds,
    },
    {
      name: 'incremental (+1 day) / cold',
      target: `≤ ${TARGETS.incremental_over_cold}`,
      value: `${ratios.incremental_over_cold} (${input.incremental.seconds.toFixed(1)} s)`,
      met: ratios.incremental_over_cold <= TARGETS.incremental_over_cold,
    },
  ];
  const st = input.startup;
  if (st) {
    const slowest = Object.entries(st.commands).sort((a, b) => b[1] - a[1])[0] ?? ['--help', st.help_seconds];
    const worst = Math.max(st.help_seconds, slowest[1]);
    targets.push({
      name: 'CLI start-up (slowest command)',
      target: `≤ ${TARGETS.startup_seconds} s`,
      value: `${worst} s (${worst === st.help_seconds ? '--help' : `${slowest[0]} --help`}; npx distill --help ${st.npx_help_seconds} s, of which npx itself ${st.npx_overhead_seconds} s)`,
      met: worst <= TARGETS.startup_seconds,
    });
  }
  const big = input.big_file;
  if (big) {
    // the reliability catalogue's case #12: a multi-GB file is read streaming, within the phase limit
    targets.push({
      name: `one ${(big.bytes / 2 ** 30).toFixed(2)} GiB source file`,
      target: `≤ ${TARGETS.phase_rss_mb} MB`,
      value: `${round(big.rss_mb, 1)} MB (build-evidence)`,
      met: big.rss_mb <= TARGETS.phase_rss_mb,
    });
  }
  return { schema_version: 1, ...input, ratios, targets };
}

const fmt = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined ? '–' : x.toFixed(digits);
const int = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US');

/** The table printed at the end of a bench run. */
export function formatReport(r: BenchReport): string {
  const head = [
    'phase',
    'cold s',
    'cpu s',
    'rows in',
    'rows/s',
    'RSS MB',
    r.small ? `RSS@${int(r.small.records)}` : 'RSS small',
    'growth',
    'incr s',
    'no-op s',
  ];
  const rows: string[][] = [head];
  for (const p of r.cold.phases) {
    const s = r.small?.phases.find((x) => x.phase === p.phase);
    const inc = r.incremental.phases.find((x) => x.phase === p.phase);
    const noop = r.noop.phases.find((x) => x.phase === p.phase);
    rows.push([
      p.phase,
      fmt(p.seconds),
      fmt(p.cpu_seconds),
      int(p.rows_in),
      int(p.rows_per_s),
      fmt(p.rss_mb),
      fmt(s?.rss_mb),
      r.ratios.rss_growth[p.phase]?.toFixed(2) ?? '–',
      inc ? fmt(inc.seconds) : 'fresh',
      noop ? fmt(noop.seconds) : 'fresh',
    ]);
  }
  rows.push([
    'floor',
    fmt(r.floor.seconds),
    '',
    int(r.source.rows),
    int(r.source.rows / r.floor.seconds),
    fmt(r.floor.rss_mb),
    '',
    '',
    '',
    '',
  ]);
  rows.push([
    'TOTAL (wall)',
    fmt(r.cold.seconds),
    '',
    '',
    '',
    '',
    r.small ? fmt(r.small.seconds) : '',
    '',
    fmt(r.incremental.seconds),
    fmt(r.noop.seconds, 2),
  ]);
  const widths = head.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const mb = (r.source.bytes / 1024 / 1024).toFixed(0);
  const big = r.big_file;
  const cold = r.cold.phases.find((p) => p.phase === 'build-evidence');
  const bigLines = big
    ? [
        '',
        `one big source file, build-evidence alone: ${(big.bytes / 2 ** 30).toFixed(2)} GiB, ${int(big.rows)} rows in ${fmt(big.seconds)} s (${int(big.rows_per_s)} rows/s, ${fmt(big.cpu_seconds)} cpu s), peak RSS ${fmt(big.rss_mb)} MB` +
          (cold ? ` (${fmt(cold.rss_mb)} MB for the ${mb} MB corpus in ${r.source.files} files)` : ''),
      ]
    : [];
  return [
    `bench: ${int(r.source.rows)} source rows (${mb} MB in ${r.source.files} files), +${int(r.incremental.added_rows)} rows for the incremental run; ${r.machine.cpus} cores, ${r.machine.memory_gib} GiB, node ${r.machine.node}${r.heap_mb ? `; phases run with --max-old-space-size=${r.heap_mb}` : ''}`,
    '',
    line(rows[0] as string[]),
    ...rows.slice(1).map(line),
    ...bigLines,
    '',
    'targets',
    ...r.targets.map((t) => `  ${t.met ? '✔' : '✖'} ${t.name.padEnd(34)} ${t.target.padEnd(10)} ${t.value}`),
  ].join('\n');
}
