import { globbySync } from 'globby';
import { spawn } from 'node:child_process';
import {
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
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sha256 } from '../../lib/hash.ts';
import { CONFIG_FILE, findRoot } from '../../lib/project.ts';

/**
 * `npm run verify:determinism` (RELIABILITY.md T1 + T2): runs the whole pipeline twice into two
 * fresh temp roots and compares the sha256 of every output file. The second run is perturbed:
 * another TZ, the tr_TR.UTF-8 locale (dotted-I trap), another working directory and absolute root,
 * the config's sources and globs in reverse order, UV_THREADPOOL_SIZE=1 instead of 16, umask 077
 * instead of 022. Any difference is printed and exits 1. Not a wireit script: it must always run.
 *
 * Options: --root DIR (the project to copy; default: the nearest distill.config.json), --keep
 * (keep the temp roots).
 */

/** The `distill` launcher: each build runs the precompiled CLI, as the wireit commands do. */
const CLI = fileURLToPath(new URL('../../../bin/distill.js', import.meta.url));

/** One environment of a build: variables, umask and working directory. */
export interface Perturbation {
  label: string;
  env: Record<string, string>;
  umask: string;
  /** null: the project root itself. */
  cwd: string | null;
  reverseSources: boolean;
}

/** The two builds compared. */
export function perturbations(otherCwd: string): [Perturbation, Perturbation] {
  return [
    {
      label: 'A (TZ=UTC, C.UTF-8, 16 threads, umask 022, cwd=root)',
      env: { TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', UV_THREADPOOL_SIZE: '16' },
      umask: '022',
      cwd: null,
      reverseSources: false,
    },
    {
      label: 'B (TZ=Pacific/Kiritimati, tr_TR.UTF-8, 1 thread, umask 077, other cwd, sources reversed)',
      env: { TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8', UV_THREADPOOL_SIZE: '1' },
      umask: '077',
      cwd: otherCwd,
      reverseSources: true,
    },
  ];
}

/** Copies what a build reads into `dest`: the config (sources reversed if asked), data/_kb and every file the config's globs match. */
export function copyProject(src: string, dest: string, reverseSources: boolean): void {
  const config = JSON.parse(readFileSync(join(src, CONFIG_FILE), 'utf8')) as {
    sources: { files: string[] }[];
    eval_sets?: string[];
  };
  if (existsSync(join(src, 'data', '_kb')))
    cpSync(join(src, 'data', '_kb'), join(dest, 'data', '_kb'), { recursive: true });
  const globs = [...config.sources.flatMap((s) => s.files), ...(config.eval_sets ?? [])];
  for (const f of globbySync(globs, { cwd: src, dot: false, followSymbolicLinks: false })) {
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    cpSync(join(src, f), join(dest, f));
  }
  if (reverseSources) {
    config.sources.reverse();
    for (const s of config.sources) s.files.reverse();
  }
  writeFileSync(join(dest, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/** Runs one CLI command in `root` under a perturbation; resolves with the exit code and stderr. */
function runCommand(
  root: string,
  args: string[],
  p: Perturbation,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...p.env, DISTILL_QUIET: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('DISTILL_') && k !== 'DISTILL_QUIET') delete env[k];
    // umask is a process attribute, not an environment variable: set it in a shell, then exec node
    const child = spawn(
      '/bin/sh',
      ['-c', `umask ${p.umask} && exec "$0" "$@"`, process.execPath, CLI, ...args, '--root', root],
      { cwd: p.cwd ?? root, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

/** sha256 of every output file: everything under data/ except the sources, and exports/. */
export function outputHashes(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const abs = join(root, rel);
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = `${rel}/${e.name}`;
      if (r === 'data/_kb') continue;
      if (e.isDirectory()) walk(r);
      else out.set(r, sha256(readFileSync(join(root, r))));
    }
  };
  walk('data');
  walk('exports');
  return out;
}

/** Every difference between two output hash maps, one line each, sorted by path. */
export function compareOutputs(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const ha = a.get(path);
    const hb = b.get(path);
    if (ha === undefined) diffs.push(`${path}: only in build B`);
    else if (hb === undefined) diffs.push(`${path}: only in build A`);
    else if (ha !== hb) diffs.push(`${path}: sha256 differs (A ${ha.slice(0, 12)}…, B ${hb.slice(0, 12)}…)`);
  }
  return diffs;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { root: { type: 'string' }, keep: { type: 'boolean', default: false } },
    allowPositionals: false,
  });
  const src = findRoot(values.root);
  const base = mkdtempSync(join(tmpdir(), 'distill-determinism-'));
  const otherCwd = join(base, 'elsewhere');
  mkdirSync(otherCwd);
  const commands = [['run-all']];
  const hashes: Map<string, string>[] = [];
  for (const [i, p] of perturbations(otherCwd).entries()) {
    const root = join(base, i === 0 ? 'a' : 'b-other-root');
    mkdirSync(root);
    copyProject(src, root, p.reverseSources);
    process.stderr.write(`build ${p.label}\n  in ${root}\n`);
    for (const args of commands) {
      const r = await runCommand(root, args, p);
      if (r.code !== 0) {
        process.stderr.write(
          `✖ verify:determinism: \`distill ${args.join(' ')}\` failed in build ${p.label.slice(0, 1)} (exit ${r.code}):\n${r.stderr}\nTemp roots kept in ${base}\n`,
        );
        return 2;
      }
    }
    hashes.push(outputHashes(root));
  }
  const [a, b] = hashes as [Map<string, string>, Map<string, string>];
  const diffs = compareOutputs(a, b);
  if (diffs.length > 0) {
    process.stderr.write(
      `✖ verify:determinism: ${diffs.length} of ${new Set([...a.keys(), ...b.keys()]).size} output files differ between the two builds:\n${diffs.map((d) => `  ${d}`).join('\n')}\nTemp roots kept in ${base} (compare them with diff -r)\n`,
    );
    return 1;
  }
  if (!values.keep) rmSync(base, { recursive: true, force: true });
  process.stderr.write(
    `✔ verify:determinism: ${a.size} output files byte-identical across TZ, locale, cwd, root, source order, thread pool size and umask (${commands.map((c) => c.join(' ')).join(', ')})${values.keep ? `; kept in ${base}` : ''}\n`,
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = await main(process.argv.slice(2));
