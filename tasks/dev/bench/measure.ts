import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { latestReceipt } from '../../lib/receipts.ts';
import { PIPELINE } from '../../phases/registry.ts';
import type { BenchProject } from './temp-project.ts';

/** What the RSS preload recorded for one node process. */
export interface ProcRecord {
  argv: string[];
  pid: number;
  start_ms: number;
  wall_ms: number;
  max_rss_kb: number;
  cpu_us: number;
  code: number;
}

/** One phase process of a measured run. */
export interface PhaseFigure {
  phase: string;
  seconds: number;
  cpu_seconds: number;
  rss_mb: number;
  /** Rows the phase read (its receipt's counts.in); null when it wrote no receipt. */
  rows_in: number | null;
  rows_per_s: number | null;
}

/** One measured command: wall time of the whole command and every phase process it ran. */
export interface RunFigure {
  seconds: number;
  phases: PhaseFigure[];
}

/** A measured command's figures plus what it printed on stdout (the last 20,000 characters). */
export type MeasuredRun = RunFigure & { stdout: string };

/**
 * The phase a distill process ran, from its argv (`…/bin/distill.js score`, or
 * `…/tasks/cli/main.ts score` under tsx): a pipeline phase name, `begin-run` / `run-all` for
 * run-all's first and last steps, or null for any other process (npm, wireit, the tsx CLI).
 */
export function phaseOf(argv: readonly string[]): string | null {
  // argv[0] is the script: the tsx CLI (…/tsx/dist/cli.mjs tasks/cli/main.ts score) is not the phase
  const script = argv[0] ?? '';
  if (!script.endsWith('tasks/cli/main.ts') && !script.endsWith('bin/distill.js')) return null;
  const args = argv.slice(1);
  const p = PIPELINE.find((x) => x.argv.length === args.length && x.argv.every((a, i) => a === args[i]));
  if (p) return p.phase;
  if (args[0] === 'run-all') return args.includes('--begin') ? 'begin-run' : 'run-all';
  return args.join(' ') || null;
}

/** Reads the preload's log (one JSON line per process). */
export function readProcLog(path: string): ProcRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ProcRecord);
}

const MB = 1024 * 1024;

/** Phase figures of a run, in start order; rows from the phases' latest receipts. */
export async function phaseFigures(root: string, records: readonly ProcRecord[]): Promise<PhaseFigure[]> {
  const out: PhaseFigure[] = [];
  for (const r of [...records].sort((a, b) => a.start_ms - b.start_ms)) {
    const phase = phaseOf(r.argv);
    if (phase === null) continue;
    const receipt = PIPELINE.some((p) => p.phase === phase)
      ? await latestReceipt(root, phase).catch(() => null)
      : null;
    const seconds = r.wall_ms / 1000;
    const rows = receipt ? receipt.counts.in : null;
    out.push({
      phase,
      seconds,
      cpu_seconds: r.cpu_us / 1e6,
      rss_mb: (r.max_rss_kb * 1024) / MB,
      rows_in: rows,
      rows_per_s: rows !== null && seconds > 0 ? rows / seconds : null,
    });
  }
  return out;
}

/**
 * Runs a command in the bench project with the RSS preload on every node process; resolves with
 * its wall time and per-phase figures. Throws with the tail of its output when it fails.
 */
export async function measure(
  project: BenchProject,
  label: string,
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<MeasuredRun> {
  const logPath = join(project.root, '.bench', `${label}.procs.jsonl`);
  const nodeOptions = [
    env['NODE_OPTIONS'] ?? process.env['NODE_OPTIONS'] ?? '',
    `--import=${pathToFileURL(project.hook).href}`,
  ]
    .filter((s) => s !== '')
    .join(' ');
  const t0 = performance.now();
  const { code, output, stdout } = await new Promise<{ code: number; output: string; stdout: string }>(
    (resolveRun) => {
      const child = spawn(cmd, args, {
        cwd: project.root,
        env: {
          ...process.env,
          DISTILL_QUIET: '1',
          ...env,
          NODE_OPTIONS: nodeOptions,
          DISTILL_BENCH_LOG: logPath,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let stdout = '';
      const keep = (d: Buffer): void => {
        output = (output + d.toString('utf8')).slice(-20_000);
      };
      child.stdout.on('data', (d: Buffer) => {
        keep(d);
        stdout = (stdout + d.toString('utf8')).slice(-20_000);
      });
      child.stderr.on('data', keep);
      child.on('close', (c) => resolveRun({ code: c ?? 1, output, stdout }));
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0)
    throw new Error(`bench: \`${cmd} ${args.join(' ')}\` (${label}) exited with ${code}:\n${output}`);
  return { seconds, phases: await phaseFigures(project.root, readProcLog(logPath)), stdout };
}
