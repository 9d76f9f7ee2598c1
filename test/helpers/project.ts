import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What a test's own node child process imports (`node --import CHILD_LOADER …`) to run the
 * checkout's TypeScript: the tests' precompiled build through module hooks (test/helpers/compiled.mjs;
 * tsx under DISTILL_TSX=1), ~0.25 CPU s less per child than `--import tsx`. The child's entry must
 * be JavaScript (a .mjs file, `-e`) or a .ts file of the checkout.
 */
export const CHILD_LOADER = pathToFileURL(join(REPO, 'test', 'helpers', 'compiled.mjs')).href;

/**
 * The `distill` launcher (bin/distill.js): children run the precompiled JavaScript, as every wireit
 * command does (compiled once per version of the code; DISTILL_TSX=1 in the environment runs tsx).
 */
export const CLI = join(REPO, 'bin', 'distill.js');

/** A fresh temp project: the bundled config and source corpus copied in, nothing built. */
export function tempProject(prefix = 'distill-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(REPO, 'distill.config.json'), join(dir, 'distill.config.json'));
  cpSync(join(REPO, 'data', '_kb'), join(dir, 'data', '_kb'), { recursive: true });
  return dir;
}

/**
 * Keeps only the last `days` days of the bundled corpus in the project at `root`: its day files
 * (data/_kb/<stream>/<YYYY-MM-DD>.jsonl) of earlier days are removed, every other file stays. For
 * the end-to-end tests whose subject is the processes, not the corpus (6 of the 30 days: a fifth
 * of the rows, a sixth of the source files).
 */
export function keepLastDays(root: string, days: number): void {
  const kb = join(root, 'data', '_kb');
  const dayFile = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
  const streams = readdirSync(kb, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  const all = new Set<string>();
  for (const s of streams)
    for (const f of readdirSync(join(kb, s))) {
      const day = dayFile.exec(f)?.[1];
      if (day !== undefined) all.add(day);
    }
  const first = [...all].sort().at(-days);
  if (first === undefined) return;
  for (const s of streams)
    for (const f of readdirSync(join(kb, s))) {
      const day = dayFile.exec(f)?.[1];
      if (day !== undefined && day < first) rmSync(join(kb, s, f));
    }
}

/** Runs the distill CLI in a child process; resolves with exit code and output. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: opts.cwd ?? REPO,
        env: { ...process.env, DISTILL_QUIET: '1', ...opts.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** sha256 of every file under `dir` (relative POSIX path → hash), sorted. */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else
        out[relative(dir, p).split('\\').join('/')] = createHash('sha256')
          .update(readFileSync(p))
          .digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Calls of `inProcess` run one at a time: each captures the process's stdout and stderr. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs the distill CLI in this process (`main` of tasks/cli/commands.ts, the code path of the bin
 * without node and tsx start-up), with the same result as `runCli`: `env` is set for the call
 * (DISTILL_QUIET=1 unless given) and every variable restored afterwards, `cwd` is entered and left.
 * Calls are serialized. What the command writes as text to stdout / stderr is captured; binary
 * writes pass through (node:test reports to its runner through stdout as Buffers). Use runCli
 * when the test is about the process: exit, signals, a crash, another process's lock.
 */
export function inProcess(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = queue.then(() => inProcessNow(args, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function inProcessNow(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../tasks/cli/commands.ts');
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  const capture =
    (stream: NodeJS.WriteStream, original: typeof process.stdout.write, add: (s: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      if (typeof chunk !== 'string')
        return (original as (c: Uint8Array, ...r: unknown[]) => boolean).call(stream, chunk, ...rest);
      add(chunk);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) queueMicrotask(cb);
      return true;
    };
  for (const [k, v] of Object.entries({ DISTILL_QUIET: '1', ...opts.env }))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  process.stdout.write = capture(process.stdout, ow, (s) => (stdout += s)) as typeof process.stdout.write;
  process.stderr.write = capture(process.stderr, ew, (s) => (stderr += s)) as typeof process.stderr.write;
  try {
    if (opts.cwd) process.chdir(opts.cwd);
    return { code: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.chdir(savedCwd);
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
}

/** Runs the CLI in-process (`main` of tasks/cli/commands.ts), capturing stdout and stderr. */
export async function cliInProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await inProcess(args, { env: { DISTILL_QUIET: process.env['DISTILL_QUIET'] } });
  return { code: r.code, out: r.stdout, err: r.stderr };
}
