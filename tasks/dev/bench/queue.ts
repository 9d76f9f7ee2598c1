import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../redis-server.ts';
import type { BenchProject } from './temp-project.ts';
import { readProcLog } from './measure.ts';

/**
 * `npm run bench -- --workers N [--records R]`: the job-queue executor (issue #25, docs/scale-out.md)
 * on a generated corpus. Against a redis-server of its own, it builds the pooled phases
 * (build-evidence, score, screen) cold with 1 worker process, then with N (each `--concurrency 1`,
 * so N processes = N cores of work), and reports each phase's time, the speed-up N vs 1, and the
 * queue's own cost per job: the median round trip of jobs that do no work (an empty batch), one
 * at a time, through the same path as a real job (request file, Redis, worker, result file).
 * The local executor's figures are the main bench's (`npm run bench`), which this does not change.
 */

const POOLED = ['build-evidence', 'score', 'screen'] as const;

export interface QueueBenchReport {
  records: number;
  workers: number;
  phases: {
    phase: string;
    jobs: number;
    seconds_1: number;
    seconds_n: number;
    speedup: number;
    /** CPU seconds of the phase process itself (the reduce step and the job traffic), 1 worker. */
    phase_cpu_s_1: number;
  }[];
  total: { seconds_1: number; seconds_n: number; speedup: number };
  /** With 1 worker: CPU seconds of the phase processes (serial) and of the worker (the partition work). */
  cpu_s_1: { phase_processes: number; workers: number };
  /** The 1-minute load average when it ended (other work on the machine skews the figures). */
  load_average: number;
  /** The same three phases in-process (DISTILL_QUEUE=local), right after, on the same machine. */
  local_seconds: number;
  /** The datasets of the 1-worker, N-worker and in-process builds are byte-identical. */
  identical: boolean;
  overhead_ms: { median: number; p90: number; jobs: number };
  target: { speedup_min: number; overhead_max_ms: number; speedup_met: boolean; overhead_met: boolean };
}

function say(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code: code ?? 1, err }));
  });
}

/** The bench's exit hook (temp-project.ts): each process appends its CPU time to `log`. */
function hooked(project: BenchProject, log: string): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `--import=${pathToFileURL(project.hook).href}`, DISTILL_BENCH_LOG: log };
}

/** CPU seconds of the processes in a hook log whose argv includes `word`. */
function cpuOf(log: string, word: string): number {
  if (!existsSync(log)) return 0;
  return readProcLog(log)
    .filter((r) => r.argv.includes(word))
    .reduce((s, r) => s + r.cpu_us / 1e6, 0);
}

async function startWorker(root: string, url: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const p = spawn(process.execPath, [join('bin', 'distill.js'), 'worker', '--concurrency', '1'], {
    cwd: root,
    env: { ...process.env, DISTILL_QUEUE: url, DISTILL_QUIET: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  for (const t0 = Date.now(); !/serving/.test(err);) {
    if (p.exitCode !== null || Date.now() - t0 > 60_000)
      throw new Error(`bench: distill worker did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return p;
}

async function stopWorkers(ws: ChildProcess[]): Promise<void> {
  await Promise.all(
    ws.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null) return resolve();
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
}

/** Builds the pooled phases cold with `n` workers: seconds, jobs and CPU per phase, and the workers' CPU. */
async function coldBuild(
  project: BenchProject,
  url: string,
  n: number,
): Promise<{
  phases: Map<string, { seconds: number; jobs: number; phase_cpu_s: number }>;
  worker_cpu_s: number;
  digest: string;
}> {
  const root = project.root;
  for (const d of ['data/evidence', 'data/scored-runs', 'data/screened', '.distill/cache', '.distill/queue'])
    rmSync(join(root, d), { recursive: true, force: true });
  const log = join(root, '.bench', `queue-${n}.procs.jsonl`);
  rmSync(log, { force: true });
  const ws: ChildProcess[] = [];
  for (let i = 0; i < n; i++) ws.push(await startWorker(root, url, hooked(project, log)));
  const out = new Map<string, { seconds: number; jobs: number; phase_cpu_s: number }>();
  try {
    for (const phase of POOLED) {
      const t0 = performance.now();
      const r = await run(process.execPath, [join('bin', 'distill.js'), phase], root, {
        DISTILL_QUEUE: url,
        DISTILL_QUIET: '1',
        ...hooked(project, log),
      });
      const seconds = (performance.now() - t0) / 1000;
      if (r.code !== 0) throw new Error(`bench: ${phase} with ${n} worker(s) exited ${r.code}:\n${r.err}`);
      const receipt = JSON.parse(
        readFileSync(join(root, 'reports/distillation/latest', `${phase}.receipt.json`), 'utf8'),
      ) as { executor?: { jobs: number } };
      out.set(phase, { seconds, jobs: receipt.executor?.jobs ?? 0, phase_cpu_s: cpuOf(log, phase) });
      say(`${phase} with ${n} worker(s): ${seconds.toFixed(1)} s, ${receipt.executor?.jobs ?? 0} jobs`);
    }
  } finally {
    await stopWorkers(ws);
  }
  return { phases: out, worker_cpu_s: cpuOf(log, 'worker'), digest: datasetDigest(root) };
}

/** One sha256 over every file (path and bytes) the pooled phases published. */
function datasetDigest(root: string): string {
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    const p = join(root, rel);
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const name of readdirSync(p).sort()) walk(`${rel}/${name}`);
    else h.update(`${rel}\0`).update(readFileSync(p)).update('\0');
  };
  for (const d of ['data/evidence', 'data/scored-runs', 'data/screened']) walk(d);
  return h.digest('hex');
}

/** Round trips of `jobs` empty jobs, one at a time, with one worker: the queue's own cost per job. */
async function overhead(root: string, url: string, jobs: number): Promise<number[]> {
  const ws = [await startWorker(root, url)];
  try {
    // in a child process running the bench project's copy of the code, as the worker does (a worker
    // refuses jobs enqueued by other code)
    const r = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        ['--import', 'tsx', join('tasks', 'dev', 'bench', 'queue-overhead.ts'), root, String(jobs)],
        { cwd: root, env: { ...process.env, DISTILL_QUEUE: url }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (code) => resolve({ code: code ?? 1, out, err }));
    });
    if (r.code !== 0) throw new Error(`bench: the overhead run exited ${r.code}:\n${r.err}`);
    return JSON.parse(r.out.trim()) as number[];
  } finally {
    await stopWorkers(ws);
  }
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

export async function benchQueue(
  project: BenchProject,
  records: number,
  workers: number,
): Promise<QueueBenchReport> {
  const redis = await startRedis();
  try {
    say(`redis-server on 127.0.0.1:${redis.port}; queue overhead (empty jobs)…`);
    const times = await overhead(project.root, redis.url(0), 200);
    const med = quantile(times, 0.5);
    say(`overhead: median ${med.toFixed(1)} ms per job; cold build with 1 worker…`);
    const one = await coldBuild(project, redis.url(1), 1);
    say(`cold build with ${workers} workers…`);
    const many = await coldBuild(project, redis.url(2), workers);
    say('cold build in-process (the local executor, for the bytes and a reference time)…');
    const local = await coldBuild(project, 'local', 0);
    const phases = POOLED.map((phase) => {
      const a = one.phases.get(phase) as { seconds: number; jobs: number; phase_cpu_s: number };
      const b = many.phases.get(phase) as { seconds: number; jobs: number };
      return {
        phase,
        jobs: b.jobs,
        seconds_1: a.seconds,
        seconds_n: b.seconds,
        speedup: a.seconds / b.seconds,
        phase_cpu_s_1: a.phase_cpu_s,
      };
    });
    const s1 = phases.reduce((s, p) => s + p.seconds_1, 0);
    const sn = phases.reduce((s, p) => s + p.seconds_n, 0);
    return {
      records,
      workers,
      phases,
      total: { seconds_1: s1, seconds_n: sn, speedup: s1 / sn },
      cpu_s_1: {
        phase_processes: phases.reduce((s, p) => s + p.phase_cpu_s_1, 0),
        workers: one.worker_cpu_s,
      },
      load_average: loadavg()[0] as number,
      local_seconds: POOLED.reduce((t, ph) => t + (local.phases.get(ph)?.seconds ?? 0), 0),
      identical: one.digest === local.digest && many.digest === local.digest,
      overhead_ms: { median: med, p90: quantile(times, 0.9), jobs: times.length },
      target: {
        speedup_min: 1.6,
        overhead_max_ms: 50,
        speedup_met: s1 / sn >= 1.6,
        overhead_met: med <= 50,
      },
    };
  } finally {
    await redis.stop();
  }
}

export function formatQueueBench(r: QueueBenchReport): string {
  const lines = [
    `job queue, ${r.records.toLocaleString('en-US')} rows: 1 vs ${r.workers} worker processes (cold build of the pooled phases)`,
    `  ${'phase'.padEnd(16)}${'jobs'.padStart(6)}${'1 worker'.padStart(11)}${`${r.workers} workers`.padStart(11)}${'speed-up'.padStart(10)}`,
    ...r.phases.map(
      (p) =>
        `  ${p.phase.padEnd(16)}${String(p.jobs).padStart(6)}${`${p.seconds_1.toFixed(1)} s`.padStart(11)}${`${p.seconds_n.toFixed(1)} s`.padStart(11)}${`${p.speedup.toFixed(2)}x`.padStart(10)}`,
    ),
    `  ${'total'.padEnd(22)}${`${r.total.seconds_1.toFixed(1)} s`.padStart(11)}${`${r.total.seconds_n.toFixed(1)} s`.padStart(11)}${`${r.total.speedup.toFixed(2)}x`.padStart(10)}  ${r.target.speedup_met ? '✔' : '✖'} target ≥ ${r.target.speedup_min}x`,
    `  in-process (local executor) ${r.local_seconds.toFixed(1)} s; datasets of 1 worker, ${r.workers} workers and in-process ${r.identical ? 'byte-identical ✔' : 'DIFFER ✖'}`,
    `  CPU with 1 worker: phase processes ${r.cpu_s_1.phase_processes.toFixed(1)} s (serial: reduce step + job traffic), worker ${r.cpu_s_1.workers.toFixed(1)} s (partition work); load average ${r.load_average.toFixed(1)} at the end`,
    `  queue overhead per job: median ${r.overhead_ms.median.toFixed(1)} ms, p90 ${r.overhead_ms.p90.toFixed(1)} ms (${r.overhead_ms.jobs} empty jobs)  ${r.target.overhead_met ? '✔' : '✖'} target ≤ ${r.target.overhead_max_ms} ms`,
  ];
  return lines.join('\n');
}
