import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, inProcess, keepLastDays, runCli, tempProject, treeHashes } from '../helpers/project.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { builtProject, RECENT_DAYS, template } from '../helpers/built.ts';

// The job-queue executor (issue #25, docs/scale-out.md) against a real redis-server: the last days
// of the bundled corpus built with 2 `distill worker` processes while a third is killed with
// SIGKILL in the middle of a job of each pooled phase (the SIGKILL test), and with 1 (the
// Redis-outage test, which builds through one worker while Redis is killed mid-run), give the
// bytes of the in-process build. The last DAYS days, not all 30: a sixth of the jobs (one per
// source file in build-evidence and screen), the same code paths.

const POOLED = ['build-evidence', 'score', 'screen'];
/** Short locks so a killed worker's job is retried within seconds (the default is 30 s). */
const FAST = { DISTILL_QUEUE_LOCK_MS: '1500', DISTILL_QUEUE_CONNECT_MS: '1500' };

let redis: TestRedis;
let db = 0;
const workers: ChildProcess[] = [];
const projects: string[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await redis?.stop();
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

/** How many days of the bundled corpus the projects hold (its latest). */
const DAYS = 6;

/** A fresh project holding the last DAYS days of the bundled corpus, nothing built. */
function recentProject(): string {
  const root = tempProject('distill-queue-');
  projects.push(root);
  keepLastDays(root, DAYS);
  return root;
}

/** A fresh project (recentProject) and a Redis database of its own. */
function project(): { root: string; url: string } {
  return { root: recentProject(), url: redis.url(++db) };
}

/**
 * What every queue build must equal: the same days built in-process, every phase, no queue. That is
 * the suite's `audit` template (test/helpers/built.ts: `distill run-all` on the last RECENT_DAYS
 * days, built once per suite; its datasets and exports are those of the phase commands run one by
 * one), read, never written.
 */
async function inProcessBuild(): Promise<string> {
  assert.equal(RECENT_DAYS, DAYS, 'the template holds the days the projects hold');
  return template('audit');
}

interface RunningWorker {
  proc: ChildProcess;
  err: () => string;
  exited: Promise<number | null>;
  /** SIGTERM, then its exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `distill worker --concurrency 1` on `root` and waits until it serves. */
async function startWorker(root: string, url: string, env: NodeJS.ProcessEnv = {}): Promise<RunningWorker> {
  const proc = spawn(process.execPath, [CLI, 'worker', '--concurrency', '1', '--root', root], {
    env: { ...process.env, ...FAST, DISTILL_QUIET: '0', DISTILL_QUEUE: url, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  workers.push(proc);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  for (const t0 = Date.now(); !/serving/.test(err);) {
    if (proc.exitCode !== null) throw new Error(`distill worker exited at start:\n${err}`);
    assert.ok(Date.now() - t0 < 30_000, `distill worker did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    err: () => err,
    exited,
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs phase commands in this process on the queue at `url`; every one must succeed. */
async function build(root: string, url: string, argvs: string[][]): Promise<void> {
  for (const argv of argvs) {
    const r = await inProcess([...argv, '--root', root], { env: { ...FAST, DISTILL_QUEUE: url } });
    assert.equal(r.code, 0, `distill ${argv.join(' ')} on the queue: ${r.stderr}`);
  }
}

/** sha256 of every file in the given folders of a project. */
function hashes(root: string, dirs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dirs)
    for (const [rel, h] of Object.entries(existsSync(join(root, d)) ? treeHashes(join(root, d)) : {}))
      out[`${d}/${rel}`] = h;
  return out;
}

const PHASE_DIRS = ['data/evidence', 'data/scored-runs', 'data/screened'];

/** The receipt's record of who built each partition. */
function executor(
  root: string,
  phase: string,
): { jobs: number; by_worker: Record<string, number> } | undefined {
  const r = JSON.parse(
    readFileSync(join(root, 'reports/distillation/latest', `${phase}.receipt.json`), 'utf8'),
  ) as {
    executor?: { jobs: number; by_worker: Record<string, number> };
  };
  return r.executor;
}

/** Every phase command of the pipeline, in order (the exports too: they run in-process, not pooled). */
async function pipelineArgv(): Promise<string[][]> {
  const { COMMANDS } = await import('../../tasks/cli/commands.ts');
  const { activePhases } = await import('../../tasks/phases/registry.ts');
  return activePhases((name) => name in COMMANDS).map((p) => [...p.argv]);
}

/** Every dataset, export and index folder. */
const ALL_DIRS = [...PHASE_DIRS, 'exports', 'data/rag-index'];

/**
 * What a whole build through `n` workers must show: every dataset and export byte-identical to the
 * in-process build, the pooled phases' receipts naming the workers (all `n` took screen jobs), the
 * exports without an executor record, no failed or waiting job left; then each worker stops
 * gracefully on SIGTERM (exit 0).
 */
async function assertFleetBuild(root: string, url: string, ws: RunningWorker[]): Promise<void> {
  const n = ws.length;
  const want = hashes(await inProcessBuild(), ALL_DIRS);
  assert.ok(Object.keys(want).length > 50, 'the build has many files');
  assert.deepEqual(hashes(root, ALL_DIRS), want, `${n} worker(s)`);
  for (const phase of POOLED) {
    const ex = executor(root, phase);
    assert.ok(ex && ex.jobs > 0, `${phase}: the receipt names the workers`);
    assert.equal(
      Object.values(ex.by_worker).reduce((s, v) => s + v, 0),
      ex.jobs,
    );
  }
  // every worker took jobs (build-evidence and screen have one job per source file here)
  assert.equal(Object.keys(executor(root, 'screen')?.by_worker ?? {}).length, n);
  // the exports are not pooled: no executor record
  assert.equal(executor(root, 'export-sft'), undefined);
  const q = await inProcess(['queue', '--json', '--root', root], { env: { DISTILL_QUEUE: url } });
  assert.equal(q.code, 0, q.stderr);
  const status = JSON.parse(q.stdout) as {
    phases: { phase: string; completed: number; failed: number; waiting: number }[];
  };
  for (const p of status.phases) assert.deepEqual([p.failed, p.waiting], [0, 0], p.phase);
  // SIGTERM: a graceful stop, exit 0
  for (const w of ws) assert.equal(await w.stop(), 0, w.err());
}

// 1 worker: the Redis-outage test below builds the whole pipeline through one worker; 2 workers
// (and a crashing third): the SIGKILL test, which then builds the rest of the pipeline through the
// two and makes the same checks; 1 vs 2 at 100k rows: the bench
test('workers killed (SIGKILL) in the middle of a job of each pooled phase while two steady workers serve: the run completes with the same bytes, and the whole build through the two is byte-identical to the in-process build', async () => {
  const local = await inProcessBuild();
  const { root, url } = project();
  // several score partitions, so the crashing worker surely gets a score job
  const env = { DISTILL_SCORE_PARTITION_BYTES: '20000' };
  const steady = await Promise.all([startWorker(root, url, env), startWorker(root, url, env)]);
  // one crashing worker per phase, serving before the phase starts (so it surely takes a job of
  // it, however fast the steady workers are): it dies at its 2nd job of build-evidence, at its 1st
  // score job, at its 1st screen job; the job it held is retried once its lock expires
  const crashAt = ['queue:build-evidence:job:2', 'queue:score:job:1', 'queue:screen:job:1'];
  for (const [i, phase] of POOLED.entries()) {
    const point = crashAt[i] as string;
    const w = await startWorker(root, url, { ...env, DISTILL_CRASH_AT: point });
    const r = await inProcess([phase, '--root', root], { env: { ...FAST, ...env, DISTILL_QUEUE: url } });
    assert.equal(r.code, 0, `${phase}: ${r.stderr}`);
    const code = await Promise.race([
      w.exited,
      new Promise<string>((res) => setTimeout(() => res('alive'), 10_000)),
    ]);
    assert.notEqual(code, 'alive', `a worker died in a job of ${phase}:\n${w.err()}`);
    assert.match(
      w.err(),
      new RegExp(`DISTILL_CRASH_AT: killing at ${point.slice(0, point.lastIndexOf(':'))}`),
    );
  }
  assert.deepEqual(hashes(root, PHASE_DIRS), hashes(local, PHASE_DIRS));
  // every source line accounted for once: the same counts as the in-process build
  for (const phase of POOLED) {
    const counts = (r: string) =>
      (
        JSON.parse(readFileSync(join(r, 'reports/distillation/latest', `${phase}.receipt.json`), 'utf8')) as {
          counts: unknown;
        }
      ).counts;
    assert.deepEqual(counts(root), counts(local), phase);
  }
  // the rest of the pipeline on the queue setting: the whole build through the two steady workers
  // (the screen crasher completed no job, so the two are screen's only workers)
  await build(
    root,
    url,
    (await pipelineArgv()).filter((argv) => !POOLED.includes(argv[0] as string)),
  );
  await assertFleetBuild(root, url, steady);
});

test('Redis killed in the middle of a phase: it fails naming the queue, nothing is published; rerun once Redis is back gives the same bytes; the whole build through this one worker is byte-identical to the in-process build', async () => {
  const local = await inProcessBuild();
  const { root, url } = project();
  const w = await startWorker(root, url, { DISTILL_PAUSE_AT: 'queue:screen:job:4000' });
  await build(root, url, [['build-evidence'], ['score']]);
  const screen = inProcess(['screen', '--root', root], { env: { ...FAST, DISTILL_QUEUE: url } });
  for (const t0 = Date.now(); !/DISTILL_PAUSE_AT: pausing/.test(w.err());) {
    assert.ok(Date.now() - t0 < 60_000, `the worker never took a screen job:\n${w.err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await redis.kill();
  const r = await screen;
  assert.equal(r.code, 74, r.stderr);
  assert.match(
    r.stderr,
    /cannot reach the job queue's Redis at redis:\/\/127\.0\.0\.1:\d+\/\d+.*Nothing was published.*\[QUEUE_UNREACHABLE\]/s,
  );
  assert.equal(existsSync(join(root, 'data/screened')), false, 'nothing published');
  await redis.restart();
  // the same worker rides out the outage
  const again = await inProcess(['screen', '--root', root], { env: { ...FAST, DISTILL_QUEUE: url } });
  assert.equal(again.code, 0, `${again.stderr}\nworker:\n${w.err()}`);
  assert.deepEqual(hashes(root, PHASE_DIRS), hashes(local, PHASE_DIRS));
  // the rest of the pipeline on the queue setting: the whole build through one worker
  await build(
    root,
    url,
    (await pipelineArgv()).filter((argv) => !POOLED.includes(argv[0] as string)),
  );
  await assertFleetBuild(root, url, [w]);
});

test('a worker whose folder is another project refuses the job: the phase fails naming the partition, the worker and why; nothing is published', async () => {
  const { root, url } = project();
  const other = mkdtempSync(join(tmpdir(), 'distill-queue-other-'));
  projects.push(other);
  cpSync(root, other, { recursive: true }); // a copy: same files, but a project id of its own
  const w = await startWorker(other, url);
  const r = await inProcess(['build-evidence', '--root', root], { env: { ...FAST, DISTILL_QUEUE: url } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /build-evidence: partition \d+ \(batch \d+; job [0-9a-f]+\) failed after 1 attempt\(s\), last on worker [^:]+:\d+: worker [^ ]+ refuses job [0-9a-f]+: it is for project [0-9a-f-]+, but this worker's folder .* is project [0-9a-f-]+.*\[QUEUE_JOB_FAILED\]/s,
  );
  assert.equal(existsSync(join(root, 'data/evidence')), false);
  const q = await runCli(['queue', '--root', root], { env: { DISTILL_QUEUE: url } });
  assert.equal(q.code, 1);
  assert.match(q.stdout, /failed: build-evidence partition \d+ .*refuses job/);
  assert.equal(await w.stop(), 0);
});

test('Redis unreachable: a phase and a worker fail at once with QUEUE_UNREACHABLE, nothing published; without DISTILL_QUEUE nothing needs Redis', async () => {
  const root = recentProject();
  const dead = `redis://127.0.0.1:${redis.port + 1 === 65536 ? 1 : redis.port + 1}/0`;
  const t0 = performance.now();
  const r = await inProcess(['build-evidence', '--root', root], { env: { ...FAST, DISTILL_QUEUE: dead } });
  assert.equal(r.code, 74, r.stderr);
  assert.match(
    r.stderr,
    /cannot reach the job queue's Redis at redis:\/\/127\.0\.0\.1:\d+\/0 .*\[QUEUE_UNREACHABLE\]/s,
  );
  assert.ok(performance.now() - t0 < 20_000, 'no endless retry');
  assert.equal(existsSync(join(root, 'data/evidence')), false);
  const w = await runCli(['worker', '--root', root], { env: { ...FAST, DISTILL_QUEUE: dead } });
  assert.equal(w.code, 74, w.stderr);
  assert.match(w.stderr, /\[QUEUE_UNREACHABLE\]/);
  // DISTILL_QUEUE=local (or unset) builds in this process
  const ok = await inProcess(['build-evidence', '--root', root], { env: { DISTILL_QUEUE: 'local' } });
  assert.equal(ok.code, 0, ok.stderr);
});

test('an eval set edited between two screen runs served by one long-lived worker: the queue screens against the new eval rows, as in-process does', async () => {
  // evidence and scored runs of the last days built in-process (the suite's template): only screen
  // is on the queue here
  const root = await builtProject('scored-recent', 'distill-queue-');
  projects.push(root);
  const url = redis.url(++db);
  // the project protects evals/*.jsonl from the start (one unrelated row), so only the file's content changes
  const cfgPath = join(root, 'distill.config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { eval_sets: string[] };
  cfg.eval_sets = ['evals/*.jsonl'];
  writeFileSync(cfgPath, `${JSON.stringify(cfg, null, 2)}\n`);
  mkdirSync(join(root, 'evals'));
  const evalFile = join(root, 'evals/a.jsonl');
  writeFileSync(
    evalFile,
    `${JSON.stringify({ question: 'an unrelated held-out question about tide tables' })}\n`,
  );
  const w = await startWorker(root, url);
  await build(root, url, [['screen']]);
  assert.ok(executor(root, 'screen')?.jobs, 'screen ran on the queue');
  const before = hashes(root, ['data/screened']);
  // three kept runs become eval rows: screen must now drop them as contamination
  const runsDir = join(root, 'data/screened/runs');
  const day = (readdirSync(runsDir, { recursive: true }) as string[])
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .find((n) => readFileSync(join(runsDir, n), 'utf8').split('\n').filter(Boolean).length >= 3);
  assert.ok(day, 'a screened day file with three runs');
  const rows = readFileSync(join(runsDir, day), 'utf8').split('\n').filter(Boolean).slice(0, 3);
  appendFileSync(evalFile, `${rows.join('\n')}\n`);
  // the same worker (its thread pools live a minute) serves the second screen run
  await build(root, url, [['screen']]);
  const local = mkdtempSync(join(tmpdir(), 'distill-queue-local-'));
  projects.push(local);
  cpSync(root, local, { recursive: true });
  rmSync(join(local, 'data/screened'), { recursive: true, force: true });
  rmSync(join(local, '.distill/cache/screen-dedup'), { recursive: true, force: true });
  const r = await inProcess(['screen', '--root', local], { env: { DISTILL_QUEUE: 'local' } });
  assert.equal(r.code, 0, r.stderr);
  const onQueue = hashes(root, ['data/screened']);
  assert.notDeepEqual(onQueue, before, 'the new eval rows changed what screen kept');
  assert.deepEqual(onQueue, hashes(local, ['data/screened']));
  assert.equal(await w.stop(), 0, w.err());
});

test('a job result naming a file other than its own result file is refused: the phase fails, nothing is published, the named file is left alone', async () => {
  const { root, url } = project();
  // a file outside the project, which a forged result names (its sha256 given, so only the path is wrong)
  const victimDir = mkdtempSync(join(tmpdir(), 'distill-queue-victim-'));
  projects.push(victimDir);
  const victim = join(victimDir, 'victim.bin');
  writeFileSync(victim, 'not a job result');
  const { Worker } = await import('bullmq');
  const { QUEUE_PREFIX } = await import('../../tasks/lib/queue/settings.ts');
  const { createHash } = await import('node:crypto');
  const forged = new Worker(
    'build-evidence',
    async () => ({
      path: relative(root, victim),
      sha256: createHash('sha256').update(readFileSync(victim)).digest('hex'),
      bytes: 16,
      worker: 'forger',
      ms: 1,
    }),
    { connection: { url }, prefix: QUEUE_PREFIX },
  );
  try {
    await forged.waitUntilReady();
    const r = await inProcess(['build-evidence', '--root', root], { env: { ...FAST, DISTILL_QUEUE: url } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /came back naming .*victim\.bin.* as its result, not \.distill\/queue\/build-evidence\/[0-9a-f]{40}\.res; refused.*\[QUEUE_JOB_FAILED\]/s,
    );
    assert.equal(existsSync(join(root, 'data/evidence')), false);
    assert.equal(readFileSync(victim, 'utf8'), 'not a job result');
  } finally {
    await forged.close();
  }
});
