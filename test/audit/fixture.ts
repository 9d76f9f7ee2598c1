import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { builtProject as builtTemplate, templateLog } from '../helpers/built.ts';

/** A passing acceptance result with `total` invariants, `failing` of them failing. */
export function acceptanceJson(total = 22, failing: number[] = []): string {
  const invariants = Array.from({ length: total }, (_, i) => ({
    id: i + 1,
    name: `invariant ${i + 1}`,
    ok: !failing.includes(i + 1),
    detail: failing.includes(i + 1) ? 'expected 0 rejected rows in SFT, got 1' : 'holds',
  }));
  return `${JSON.stringify({ schema_version: 1, passed: invariants.filter((i) => i.ok).length, total, invariants, fixture_sha256: 'a'.repeat(64), code_version: 'unknown' }, null, 2)}\n`;
}

/** Writes a file (relative path), creating its folder. */
export function put(root: string, rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

/**
 * A private copy of the bundled corpus built by `distill run-all` without its audit baseline (built
 * once per suite, test/helpers/built.ts), with a passing acceptance.json unless told otherwise.
 */
export async function builtProject(opts: { acceptance?: boolean } = {}): Promise<string> {
  const dir = await builtTemplate('audit', 'distill-audit-');
  if (opts.acceptance !== false) put(dir, 'reports/distillation/acceptance.json', acceptanceJson());
  return dir;
}

/**
 * A private copy of `builtProject()` after its first `distill audit-full` (exit 0, one baseline
 * row): the suite's `audited` template, audited once for every test that starts there.
 */
export async function auditedProject(): Promise<string> {
  return builtTemplate('audited', 'distill-audit-');
}

/** What that first audit-full printed (stdout + stderr, DISTILL_QUIET=1). */
export async function firstAudit(): Promise<string> {
  return (await templateLog('audited'))['audit-full'] as string;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  // no `git maintenance run --auto` process after each of the tests' commits (a scratch repository
  // of a few commits never needs it)
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'maintenance.auto',
  GIT_CONFIG_VALUE_0: 'false',
};

/** Runs git in `dir` and returns stdout; throws on failure. */
export function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd: dir, env: GIT_ENV, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A new git repository holding `files`, all committed on branch main; returns its path. */
export function scratchRepo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'distill-release-'));
  git(dir, 'init', '-q', '-b', 'main');
  for (const [rel, text] of Object.entries(files)) put(dir, rel, text);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'scratch release');
  return dir;
}
