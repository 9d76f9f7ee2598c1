import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/project.ts';
import { jsonl, ls, reward, SRC_DIR, tempDir, writeConfig, writeFiles } from './fixture.ts';

/** Helpers for the process-control and disk-full tests: real `npm run run-all` builds of a small project. */

export const TSX = import.meta.resolve('tsx');
/** Holds a phase before its publish for a minute (DISTILL_PAUSE_AT). */
export const PAUSE = 'publish:staged:60000';

/** A small project that can run `npm run run-all`: the repo's code, one source of 40 rows. */
export function smallRepo(): string {
  const dir = tempDir('distill-proc-');
  for (const f of ['package.json', 'tsconfig.json', 'tasks', 'schemas', 'bin'])
    cpSync(join(REPO, f), join(dir, f), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeConfig(dir, [{}]);
  const rows = Array.from({ length: 40 }, (_, i) => reward(`t${i}`, `2026-10-0${1 + (i % 9)}T10:00:00Z`));
  writeFiles(dir, { [`${SRC_DIR}/a.jsonl`]: jsonl(...rows) });
  return dir;
}

/** The environment of a user typing the command (no npm script of the test runner, no run id). */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', DISTILL_QUIET: '1', ...extra };
  for (const k of ['DISTILL_RUN_ID', 'DISTILL_ROOT', 'WIREIT_LOGGER', 'npm_lifecycle_event', 'NODE_OPTIONS'])
    delete env[k];
  return env;
}

export interface Started {
  child: ChildProcess;
  out: () => string;
  done: Promise<number>;
}

/** Starts a command as the leader of a process group of its own (as a shell starts a job). */
export function startJob(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  return { child, out: () => out, done };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until a phase holds its whole output staged and is paused before the publish: the
 * staging folder `.distill/staging/<slug>.tmp-<pid>/` holds its `_manifest.json`. Returns the pid.
 */
export async function pausedPhase(root: string, slug: string, job: Started): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const name = ls(join(root, '.distill/staging')).find((n) => n.startsWith(`${slug}.tmp-`));
    if (name && existsSync(join(root, '.distill/staging', name, '_manifest.json')))
      return Number(name.slice(`${slug}.tmp-`.length));
    assert.equal(job.child.exitCode, null, `the run ended before its phase was seen paused:\n${job.out()}`);
    await sleep(50);
  }
  assert.fail(`no paused ${slug} phase after 30 s:\n${job.out()}`);
}

/** Waits up to `ms` for a process to be gone. */
export async function gone(pid: number, ms = 5000): Promise<boolean> {
  for (let t = 0; t < ms; t += 50) {
    if (!pidAlive(pid)) return true;
    await sleep(50);
  }
  return !pidAlive(pid);
}

/** Every path under `dir` (node_modules skipped) whose name marks a temp file or folder. */
export function temps(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of ls(d)) {
      if (name === 'node_modules') continue;
      const p = join(d, name);
      if (/\.tmp(-\d+)?$/.test(name)) out.push(`${rel}${name}`);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return out.sort();
}
