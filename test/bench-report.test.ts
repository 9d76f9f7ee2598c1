import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PhaseFigure, RunFigure } from '../tasks/dev/bench/measure.ts';
import { phaseOf } from '../tasks/dev/bench/measure.ts';
import { buildReport, formatReport, type BenchInput } from '../tasks/dev/bench/report.ts';

const fig = (phase: string, seconds: number, rss: number, rows: number | null = 1000): PhaseFigure => ({
  phase,
  seconds,
  cpu_seconds: seconds,
  rss_mb: rss,
  rows_in: rows,
  rows_per_s: rows === null ? null : rows / seconds,
});
const run = (seconds: number, phases: PhaseFigure[]): RunFigure => ({ seconds, phases });

function input(over: Partial<BenchInput> = {}): BenchInput {
  return {
    records: 1000,
    source: { files: 3, rows: 1000, bytes: 2 * 1024 * 1024 },
    floor: { seconds: 2, process_seconds: 2.4, rss_mb: 80 },
    cold: run(7, [fig('begin-run', 0.5, 90, null), fig('build-evidence', 4, 300), fig('score', 2, 600)]),
    noop: run(1.5, [fig('begin-run', 0.5, 90, null)]),
    incremental: { ...run(0.6, [fig('build-evidence', 0.4, 200, 10)]), added_rows: 10 },
    small: { ...run(3, [fig('build-evidence', 1, 250, 100), fig('score', 1, 400, 100)]), records: 100 },
    machine: { cpus: 2, memory_gib: 24, node: '20.20.2', platform: 'linux-x64' },
    code: '.',
    ...over,
  };
}

test('bench ratios and target checks', () => {
  const r = buildReport(input());
  assert.deepEqual(r.ratios, {
    cold_over_floor: 3.5,
    incremental_over_cold: 0.086,
    noop_seconds: 1.5,
    max_phase_rss_mb: 600,
    rss_growth: { 'build-evidence': 1.2, score: 1.5 },
  });
  assert.deepEqual(
    r.targets.map((t) => [t.name, t.met, t.value]),
    [
      ['cold run-all / floor', true, '3.5× (7.0 s / 2.0 s)'],
      ['peak RSS of every phase', false, '600 MB (score)'],
      ['RSS growth 100 → 1000 rows', false, '1.5× (score)'],
      ['no-op rerun', true, '1.5 s'],
      ['incremental (+1 day) / cold', true, '0.086 (0.6 s)'],
    ],
  );
  const text = formatReport(r);
  assert.match(
    text,
    /^bench: 1,000 source rows \(2 MB in 3 files\), \+10 rows for the incremental run; 2 cores, 24 GiB, node 20\.20\.2$/m,
  );
  assert.match(text, /^score +2\.0 +2\.0 +1,000 +500 +600\.0 +400\.0 +1\.50 +fresh +fresh$/m);
  assert.match(text, /^ {2}✖ peak RSS of every phase {12}≤ 512 MB {3}600 MB \(score\)$/m);
});

test('without the small run, RSS growth is reported as not measured (never as met)', () => {
  const r = buildReport(input({ small: null }));
  const growth = r.targets.find((t) => t.name.startsWith('RSS growth'));
  assert.deepEqual([growth?.met, growth?.value], [false, 'not measured']);
});

test('phaseOf names distill phase processes from their argv, and nothing else', () => {
  assert.equal(phaseOf(['/p/tasks/cli/main.ts', 'score']), 'score');
  assert.equal(phaseOf(['/p/tasks/cli/main.ts', 'export-sft', '--include-partial']), 'export-sft-partial');
  assert.equal(phaseOf(['/p/tasks/cli/main.ts', 'run-all', '--begin']), 'begin-run');
  assert.equal(phaseOf(['/p/tasks/cli/main.ts', 'run-all', '--collect']), 'run-all');
  // the launcher the wireit commands run (precompiled code)
  assert.equal(phaseOf(['/p/bin/distill.js', 'score']), 'score');
  assert.equal(phaseOf(['/p/bin/distill.js', 'run-all', '--begin']), 'begin-run');
  assert.equal(phaseOf(['/p/node_modules/tsx/dist/cli.mjs', 'tasks/cli/main.ts', 'score']), null);
  assert.equal(phaseOf(['/p/node_modules/.bin/wireit']), null);
});

test('a big-file run adds its check (peak RSS within the phase limit) and a line beside the table', () => {
  const big = {
    bytes: 2.5 * 2 ** 30,
    rows: 2_000_000,
    seconds: 100,
    cpu_seconds: 180,
    rss_mb: 420,
    rows_per_s: 20_000,
  };
  const r = buildReport(input({ big_file: big }));
  assert.equal(r.targets.length, 6);
  assert.deepEqual(r.targets.map((t) => [t.name, t.met, t.value]).at(-1), [
    'one 2.50 GiB source file',
    true,
    '420 MB (build-evidence)',
  ]);
  const text = formatReport(r);
  assert.match(
    text,
    /^one big source file, build-evidence alone: 2\.50 GiB, 2,000,000 rows in 100\.0 s \(20,000 rows\/s, 180\.0 cpu s\), peak RSS 420\.0 MB \(300\.0 MB for the 2 MB corpus in 3 files\)$/m,
  );
  assert.match(text, /^ {2}✔ one 2\.50 GiB source file {11}≤ 512 MB {3}420 MB \(build-evidence\)$/m);
  const over = buildReport(input({ big_file: { ...big, rss_mb: 600 } }));
  assert.equal(over.targets.at(-1)?.met, false);
  assert.equal(buildReport(input({ big_file: null })).targets.length, 5);
  assert.doesNotMatch(formatReport(buildReport(input())), /big source file/);
});

test('bench: CLI start-up is checked on the slowest command, npx reported beside it', () => {
  const startup = {
    help_seconds: 0.41,
    commands: { score: 0.44, trace: 0.47 },
    npx_help_seconds: 0.9,
    npx_overhead_seconds: 0.45,
  };
  const ok = buildReport(input({ startup })).targets.find((t) => t.name.startsWith('CLI start-up'));
  assert.ok(ok?.met);
  assert.match(
    ok.value,
    /^0\.47 s \(trace --help; npx distill --help 0\.9 s, of which npx itself 0\.45 s\)$/,
  );
  const slow = buildReport(input({ startup: { ...startup, help_seconds: 0.52 } })).targets.find((t) =>
    t.name.startsWith('CLI start-up'),
  );
  assert.equal(slow?.met, false);
  assert.match(slow.value, /^0\.52 s \(--help;/);
  assert.equal(
    buildReport(input()).targets.some((t) => t.name.startsWith('CLI start-up')),
    false,
    'no figure, no target',
  );
});
