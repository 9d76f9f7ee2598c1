import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { dayStart, isoDate } from './corpus/clock.ts';
import { writeCorpus } from './corpus.ts';
import { measure, readProcLog, type RunFigure } from './bench/measure.ts';
import { buildReport, formatReport, type BenchInput, type BigFileFigure } from './bench/report.ts';
import { measureStartup } from './bench/startup.ts';
import { createBenchProject, type BenchProject } from './bench/temp-project.ts';
import { UserError } from '../lib/result.ts';

/**
 * `npm run bench`: performance at scale (issue #9). Generates a corpus with the committed
 * generator in a throw-away project, then measures on this machine, in one run:
 *   - the floor: one process reading every source file and JSON.parse-ing every row, nothing else;
 *   - a cold `npm run run-all` (no wireit cache: WIREIT_CACHE=none, nothing built yet);
 *   - a no-op rerun (every phase fresh);
 *   - an incremental rerun after one new day of rows (~1 % of the corpus, another seed, so no
 *     trace id collides);
 *   - a cold run on a corpus a tenth the size, for peak-RSS growth;
 *   - CLI start-up: `distill --help` and `distill <command> --help` for every command, and
 *     `npx distill --help` (`--startup-only`: this alone, in the checkout, no corpus);
 *   - with `--big-file G`, build-evidence alone on one source file of G GiB (every gateway call of
 *     one generated day), for the reliability catalogue's "multi-GB file" case (#12);
 * with wall time, CPU time, peak RSS (getrusage of each phase process) and rows per second per
 * phase. Prints a table and writes reports/bench/bench.json.
 *
 *   npm run bench -- [--records N] [--small N] [--big-file G] [--seed S] [--code DIR] [--heap-mb N] [--keep] [--startup-only] [--workers N] [--out FILE]
 *
 * `--heap-mb N` runs every phase with `--max-old-space-size=N` (through NODE_OPTIONS): with it the
 * resident set shows the live data a phase needs, without the slack V8 leaves itself otherwise.
 */

const USAGE =
  'usage: npm run bench -- [--records 1000000] [--small N (default records/10, 0 = skip)] [--big-file GiB (default 0 = skip)] [--seed 7] [--code DIR] [--heap-mb N] [--keep] [--startup-only] [--workers N (the job queue: 1 vs N worker processes)] [--out reports/bench/bench.json]';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const START_DATE = '2026-10-01';
const DAYS = 30;

function say(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function options(argv: string[]): {
  records: number;
  small: number;
  bigFileGib: number;
  seed: number;
  code: string;
  heapMb: number | null;
  keep: boolean;
  out: string;
  startupOnly: boolean;
  workers: number | null;
} {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        records: { type: 'string', default: '1000000' },
        small: { type: 'string' },
        'big-file': { type: 'string', default: '0' },
        seed: { type: 'string', default: '7' },
        code: { type: 'string', default: REPO },
        'heap-mb': { type: 'string' },
        keep: { type: 'boolean', default: false },
        'startup-only': { type: 'boolean', default: false },
        workers: { type: 'string' },
        out: { type: 'string', default: join(REPO, 'reports', 'bench', 'bench.json') },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UserError('USAGE', `bench: ${(e as Error).message}\n${USAGE}`);
  }
  const int = (name: string, v: string, min: number): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min)
      throw new UserError('USAGE', `bench: --${name} expects an integer >= ${min}, got "${v}"\n${USAGE}`);
    return Number(v);
  };
  const records = int('records', values.records, 100);
  const heapMb = values['heap-mb'] === undefined ? null : int('heap-mb', values['heap-mb'], 64);
  const big = values['big-file'];
  if (!/^[0-9]+(\.[0-9]+)?$/.test(big) || Number(big) > 64)
    throw new UserError(
      'USAGE',
      `bench: --big-file expects a size in GiB between 0 (skip) and 64, got "${big}"\n${USAGE}`,
    );
  return {
    records,
    small: values.small === undefined ? Math.floor(records / 10) : int('small', values.small, 0),
    bigFileGib: Number(big),
    seed: int('seed', values.seed, 0),
    code: resolve(values.code),
    heapMb,
    keep: values.keep,
    out: resolve(values.out),
    startupOnly: values['startup-only'],
    workers: values.workers === undefined ? null : int('workers', values.workers, 2),
  };
}

/** A bench project with a generated corpus of `records` rows. */
async function projectWithCorpus(
  code: string,
  records: number,
  seed: number,
  label: string,
): Promise<{ project: BenchProject; source: BenchInput['source'] }> {
  const project = createBenchProject(code, join(REPO, 'node_modules'), label);
  const summary = await writeCorpus(join(project.root, 'data', '_kb'), {
    records,
    seed,
    startDate: START_DATE,
    days: DAYS,
  });
  const rows = Object.values(summary.rows).reduce((a, b) => a + b, 0);
  return { project, source: { files: summary.files, rows, bytes: summary.bytes } };
}

/**
 * Adds one new day of rows (the day after the corpus, `records / 100` rows, seed + 1) as new daily
 * files; the tau-bench array of that generation is left out (it would replace the corpus's own).
 */
async function addOneDay(project: BenchProject, records: number, seed: number): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), 'distill-bench-day-'));
  try {
    const summary = await writeCorpus(tmp, {
      records: Math.max(1, Math.round(records / 100)),
      seed: seed + 1,
      startDate: isoDate(dayStart(START_DATE, DAYS)),
      days: 1,
    });
    for (const stream of readdirSync(tmp)) {
      if (stream === 'tau_bench') continue;
      cpSync(join(tmp, stream), join(project.root, 'data', '_kb', stream), { recursive: true });
    }
    return Object.entries(summary.rows).reduce((s, [stream, n]) => s + (stream === 'tau_bench' ? 0 : n), 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * build-evidence alone on one source file of about `gib` GiB: every gateway call of one generated
 * day (the largest stream; the generator's other streams are generated but not written). The
 * records to generate come from a small probe of the same kind.
 */
async function bigFile(
  code: string,
  gib: number,
  seed: number,
  env: NodeJS.ProcessEnv,
  keep: boolean,
): Promise<BigFileFigure> {
  const probeDir = mkdtempSync(join(tmpdir(), 'distill-bench-probe-'));
  let perRecord: number;
  try {
    const probe = 20_000;
    perRecord =
      (
        await writeCorpus(probeDir, { records: probe, seed, startDate: START_DATE, days: 1 }, false, [
          'gateway_calls',
        ])
      ).bytes / probe;
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
  const project = createBenchProject(code, join(REPO, 'node_modules'), 'big-file');
  try {
    const records = Math.ceil((gib * 2 ** 30) / perRecord);
    say(
      `one ${gib} GiB source file: generating ${records.toLocaleString('en-US')} records' gateway calls for one day…`,
    );
    const summary = await writeCorpus(
      join(project.root, 'data', '_kb'),
      { records, seed, startDate: START_DATE, days: 1 },
      false,
      ['gateway_calls'],
    );
    if (summary.files !== 1)
      throw new Error(`bench: expected one gateway_calls file, the generator wrote ${summary.files}`);
    say(
      `${(summary.bytes / 2 ** 30).toFixed(2)} GiB, ${summary.rows.gateway_calls.toLocaleString('en-US')} rows in one file; build-evidence…`,
    );
    const run = await measure(
      project,
      'big-file',
      process.execPath,
      [join('bin', 'distill.js'), 'build-evidence'],
      env,
    );
    const p = run.phases.find((x) => x.phase === 'build-evidence');
    if (!p) throw new Error('bench: the big-file run recorded no build-evidence process');
    return {
      bytes: summary.bytes,
      rows: summary.rows.gateway_calls,
      seconds: p.seconds,
      cpu_seconds: p.cpu_seconds,
      rss_mb: p.rss_mb,
      rows_per_s: p.rows_per_s,
    };
  } finally {
    if (keep) say(`kept ${project.root}`);
    else rmSync(project.root, { recursive: true, force: true });
  }
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const RUN_ALL = ['run', '--silent', 'run-all'];
// no wireit cache: a cold run really runs, and no run pays for copying GBs of outputs into .wireit
const WIREIT_CACHE_OFF: NodeJS.ProcessEnv = { WIREIT_CACHE: 'none' };

async function floor(project: BenchProject): Promise<BenchInput['floor']> {
  const run = await measure(project, 'floor', process.execPath, [
    '--import',
    'tsx',
    join(REPO, 'tasks', 'dev', 'bench', 'floor.ts'),
    join(project.root, 'data', '_kb'),
  ]);
  const rec = readProcLog(join(project.root, '.bench', 'floor.procs.jsonl')).find((r) =>
    r.argv.some((a) => a.endsWith('floor.ts')),
  );
  const pass = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { seconds?: number };
  if (typeof pass.seconds !== 'number')
    throw new Error(`bench: the floor pass printed no result: ${run.stdout}`);
  return { seconds: pass.seconds, process_seconds: run.seconds, rss_mb: rec ? rec.max_rss_kb / 1024 : 0 };
}

async function main(argv: string[]): Promise<number> {
  const o = options(argv);
  const runEnv: NodeJS.ProcessEnv =
    o.heapMb === null
      ? WIREIT_CACHE_OFF
      : {
          ...WIREIT_CACHE_OFF,
          NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=${o.heapMb}`.trim(),
        };
  const machine = {
    cpus: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  };
  if (o.startupOnly) {
    // start-up alone, in the checkout itself: no corpus is needed to start a command
    const st = await measureStartup(o.code, o.code);
    process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
    return 0;
  }
  const cleanup: BenchProject[] = [];
  if (o.workers !== null) {
    // the job-queue executor: 1 vs N worker processes and the per-job overhead (tasks/dev/bench/queue.ts)
    const { benchQueue, formatQueueBench } = await import('./bench/queue.ts');
    say(`generating ${o.records.toLocaleString('en-US')} rows (seed ${o.seed}) in a temp project…`);
    const { project, source } = await projectWithCorpus(o.code, o.records, o.seed, 'queue');
    try {
      const report = await benchQueue(project, source.rows, o.workers);
      const out = o.out.replace(/\.json$/, '-queue.json');
      mkdirSync(resolve(out, '..'), { recursive: true });
      writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`${formatQueueBench(report)}\n`);
      say(`wrote ${relative(process.cwd(), out)}`);
      return report.identical ? 0 : 1; // different bytes between executors is a bug
    } finally {
      if (!o.keep) rmSync(project.root, { recursive: true, force: true });
    }
  }
  try {
    say(`generating ${o.records.toLocaleString('en-US')} rows (seed ${o.seed}) in a temp project…`);
    const { project, source } = await projectWithCorpus(o.code, o.records, o.seed, 'main');
    cleanup.push(project);
    say(
      `${source.rows.toLocaleString('en-US')} rows, ${(source.bytes / 2 ** 20).toFixed(0)} MB in ${project.root}; floor…`,
    );
    say('CLI start-up…');
    const startup = await measureStartup(o.code, project.root);
    const floorFig = await floor(project);
    say(`floor ${floorFig.seconds.toFixed(1)} s; cold run-all…`);
    const cold = await measure(project, 'cold', NPM, RUN_ALL, runEnv);
    say(`cold ${cold.seconds.toFixed(1)} s; no-op rerun…`);
    const noop = await measure(project, 'noop', NPM, RUN_ALL, runEnv);
    say(`no-op ${noop.seconds.toFixed(2)} s; adding one day…`);
    const added = await addOneDay(project, o.records, o.seed);
    const incremental = await measure(project, 'incremental', NPM, RUN_ALL, runEnv);
    say(`incremental (+${added.toLocaleString('en-US')} rows) ${incremental.seconds.toFixed(1)} s`);
    if (!o.keep) {
      rmSync(project.root, { recursive: true, force: true });
      cleanup.pop();
    }
    let small: (RunFigure & { records: number }) | null = null;
    if (o.small > 0) {
      say(`cold run-all on ${o.small.toLocaleString('en-US')} rows for RSS growth…`);
      const s = await projectWithCorpus(o.code, o.small, o.seed, 'small');
      cleanup.push(s.project);
      const { stdout: _s, ...fig } = await measure(s.project, 'cold', NPM, RUN_ALL, runEnv);
      small = { ...fig, records: s.source.rows };
    }
    const bigFileFig = o.bigFileGib > 0 ? await bigFile(o.code, o.bigFileGib, o.seed, runEnv, o.keep) : null;
    const strip = ({ stdout: _s, ...fig }: RunFigure & { stdout?: string }): RunFigure => fig;
    const report = buildReport({
      records: source.rows,
      source,
      floor: floorFig,
      cold: strip(cold),
      noop: strip(noop),
      incremental: { ...strip(incremental), added_rows: added },
      small,
      big_file: bigFileFig,
      machine,
      code: relative(REPO, o.code) || '.',
      heap_mb: o.heapMb,
      startup,
    });
    mkdirSync(resolve(o.out, '..'), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${formatReport(report)}\n`);
    say(
      `wrote ${relative(process.cwd(), o.out)}${o.keep ? `; kept ${cleanup.map((p) => p.root).join(', ')}` : ''}`,
    );
    return 0;
  } finally {
    if (!o.keep) for (const p of cleanup) rmSync(p.root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    process.stderr.write(`✖ ${e.message}\n`);
    process.exitCode = e.exitCode;
  }
}
