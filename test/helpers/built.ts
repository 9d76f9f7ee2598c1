import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASELINE_FILE, BASELINE_HEAD } from '../../tasks/gates/audit/baseline.ts';
import { inProcess, keepLastDays, REPO, tempProject } from './project.ts';

/**
 * The bundled corpus built once per suite, not once per test: the first test file that asks for a
 * stage builds it (in-process, one phase command after another, as a user would) into a template
 * folder under the OS temp dir, and every test gets its own copy (`cp -a`, a fraction of a second). The
 * template's key hashes everything a build reads (tasks/, schemas/, bin/, the config, the corpus,
 * package-lock.json), so a code change builds a new one; templates of other code are removed once
 * unused for an hour (another checkout's suite may be copying them). Test files
 * running at the same time wait for the one that builds (a lock folder naming its pid).
 */

/** The folder templates live in. */
export const TEMPLATES = join(tmpdir(), 'distill-test-templates');

/** The template's build log (removed from the copies). */
const LOG = '.template-log.json';

/**
 * How many of the corpus's last days the `-recent` templates and the audit templates hold
 * (`keepLastDays`: every stream and every file that is not a day file, a fifth of the rows): for
 * the tests whose subject is a phase's or a gate's behaviour on whatever it is given, not the
 * counts of the whole corpus (an incremental build compared with a cold one, an audit-full).
 */
export const RECENT_DAYS = 6;

/**
 * Which phases a template has run: evidence (build-evidence), scored (+ score), all (every phase,
 * one command each), evidence-recent / scored-recent (the same on the last RECENT_DAYS days of the
 * corpus), audit (`distill run-all` on the last RECENT_DAYS days, without the committed audit
 * baseline: the audit tests' start), audited (audit, then a passing acceptance.json and one
 * `distill audit-full`: a first baseline row).
 */
export type Stage = 'evidence' | 'scored' | 'all' | 'evidence-recent' | 'scored-recent' | 'audit' | 'audited';

/**
 * How a stage is built: from a copy of the template of `base` (when given; else the corpus, only
 * its last `days` days when given), the phase commands `argv` run in order. Each stage continues
 * an earlier one where it can, so no phase runs twice for the same inputs: scored continues
 * evidence, all continues scored, scored-recent continues evidence-recent, audited continues
 * audit (run-all without the committed audit baseline, which no phase reads).
 */
async function stagePlan(
  stage: Stage,
): Promise<{ base?: Stage; days?: number; argv: string[][]; dropBaseline?: boolean }> {
  if (stage === 'evidence') return { argv: [['build-evidence']] };
  if (stage === 'scored') return { base: 'evidence', argv: [['score']] };
  if (stage === 'evidence-recent') return { days: RECENT_DAYS, argv: [['build-evidence']] };
  if (stage === 'scored-recent') return { base: 'evidence-recent', argv: [['score']] };
  if (stage === 'audit') return { days: RECENT_DAYS, argv: [['run-all']], dropBaseline: true };
  if (stage === 'audited') return { base: 'audit', argv: [['audit-full']] };
  const { COMMANDS } = await import('../../tasks/cli/commands.ts');
  const { activePhases } = await import('../../tasks/phases/registry.ts');
  const all = activePhases((name) => name in COMMANDS).map((p) => [...p.argv]);
  assert.deepEqual(
    all.slice(0, 2),
    [['build-evidence'], ['score']],
    'the pipeline starts with build-evidence, score',
  );
  return { base: 'scored', argv: all.slice(2) };
}

/**
 * Copies the folder `from` to `to` (created when missing), timestamps and modes kept: `cp -a`
 * where there is one (one process in C: about half the CPU of node's cpSync, which stats, copies
 * and chmods file by file in JavaScript; a template holds up to ~3,000 files), else cpSync.
 */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  if (process.platform !== 'win32') {
    const r = spawnSync('cp', ['-a', `${from}/.`, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status === 0) return;
    assert.ok(r.error, `cp -a ${from} ${to}: ${r.stderr?.toString() ?? ''}`); // cp failed: say why
  }
  cpSync(from, to, { recursive: true, preserveTimestamps: true });
}

let codeKey: string | null = null;

/** sha256 of what a build reads: the code, the schemas, the config, the corpus and the lock file. */
function inputsKey(): string {
  if (codeKey) return codeKey;
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    const p = join(REPO, rel);
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const name of readdirSync(p).sort()) walk(`${rel}/${name}`);
    else h.update(`${rel}\0`).update(readFileSync(p)).update('\0');
  };
  for (const rel of [
    'tasks',
    'schemas',
    // how the code runs and which code fingerprint its states record (bin/precompile.js), for the
    // launcher's build and the tests' own (test/helpers/compiled*.mjs)
    'bin',
    'test/helpers/compiled.mjs',
    'test/helpers/compiled-hooks.mjs',
    'data/_kb',
    'distill.config.json',
    'package-lock.json',
    'test/helpers/built.ts',
    'test/helpers/project.ts',
    'test/audit/fixture.ts',
  ])
    walk(rel);
  codeKey = h.digest('hex').slice(0, 16);
  return codeKey;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A template of other code is removed after this long unused. */
const UNUSED_MS = 60 * 60_000;

/** When a template was last handed out (the mtime of its done marker; 0 when it has none). */
function lastUsed(dir: string): number {
  try {
    return statSync(join(dir, '.template-done')).mtimeMs;
  } catch {
    return 0;
  }
}

/** Records that the template in `dir` is in use now (its done marker's mtime); returns `dir`. */
function used(dir: string): string {
  const now = new Date();
  try {
    utimesSync(join(dir, '.template-done'), now, now);
  } catch {
    // removed meanwhile: the copy that follows reports it
  }
  return dir;
}

/** The template of `stage` (built now if no test file built it yet); never modify it: copy it. */
export async function template(stage: Stage): Promise<string> {
  const key = `${stage}-${inputsKey()}`;
  const dir = join(TEMPLATES, key);
  const lock = `${dir}.lock`;
  mkdirSync(TEMPLATES, { recursive: true });
  for (const started = Date.now(); ;) {
    if (existsSync(join(dir, '.template-done'))) return used(dir);
    try {
      mkdirSync(lock);
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // the holder has not written its pid yet
      }
      if (holder > 0 && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      assert.ok(Date.now() - started < 10 * 60_000, `waited 10 minutes for ${lock}`);
      await sleep(100);
      continue;
    }
    try {
      writeFileSync(join(lock, 'pid'), String(process.pid));
      if (existsSync(join(dir, '.template-done'))) return used(dir);
      // templates of other code or corpus go once no suite has used them for an hour: another
      // checkout (a worktree, a branch) may be running its suite on them right now
      for (const name of readdirSync(TEMPLATES))
        if (
          !name.endsWith(`-${inputsKey()}`) &&
          !name.endsWith('.lock') &&
          !name.includes('.tmp-') &&
          lastUsed(join(TEMPLATES, name)) < Date.now() - UNUSED_MS
        )
          rmSync(join(TEMPLATES, name), { recursive: true, force: true });
      const tmp = `${dir}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      const plan = await stagePlan(stage);
      let root: string;
      let logs: Record<string, string> = {};
      if (plan.base) {
        root = mkdtempSync(join(tmpdir(), 'distill-template-'));
        copyTree(await template(plan.base), root);
        logs = JSON.parse(readFileSync(join(root, LOG), 'utf8')) as Record<string, string>;
        rmSync(join(root, '.template-done'));
        rmSync(join(root, LOG));
      } else {
        root = tempProject('distill-template-');
        if (plan.days !== undefined) keepLastDays(root, plan.days);
      }
      if (plan.dropBaseline)
        for (const f of [BASELINE_FILE, BASELINE_HEAD]) rmSync(join(root, f), { force: true });
      for (const argv of plan.argv) {
        if (argv[0] === 'audit-full') {
          const { acceptanceJson, put } = await import('../audit/fixture.ts');
          put(root, 'reports/distillation/acceptance.json', acceptanceJson());
        }
        const r = await inProcess([...argv, '--root', root]);
        assert.equal(r.code, 0, `template ${stage}: distill ${argv.join(' ')}: ${r.stderr}`);
        logs[argv.join(' ')] = r.stdout + r.stderr;
      }
      writeFileSync(join(root, LOG), JSON.stringify(logs));
      writeFileSync(join(root, '.template-done'), '');
      copyTree(root, tmp);
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
      rmSync(root, { recursive: true, force: true });
      return used(dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/**
 * A fresh temp project holding the bundled corpus built through `stage`: the same files a test
 * would get by running those phases itself in a `tempProject()`.
 */
export async function builtProject(stage: Stage, prefix = 'distill-test-'): Promise<string> {
  const from = await template(stage);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  copyTree(from, dir);
  rmSync(join(dir, '.template-done'));
  rmSync(join(dir, LOG));
  return dir;
}

/** What each phase command printed (stdout + stderr, DISTILL_QUIET=1) when the template of `stage` was built. */
export async function templateLog(stage: Stage): Promise<Record<string, string>> {
  return JSON.parse(readFileSync(join(await template(stage), LOG), 'utf8')) as Record<string, string>;
}
