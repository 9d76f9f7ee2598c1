import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { BASELINE_FILE, BASELINE_HEAD } from '../../tasks/gates/audit/baseline.ts';
import { TOLERATED_PATHS } from '../../tasks/gates/release/gates.ts';
import { REPO } from '../helpers/project.ts';

/**
 * How audit-full and release-freeze sit in the graph: never cached, release-freeze after run-all,
 * the append-only baseline in no script's outputs and excluded wherever an input glob would match
 * it, and the git policy (reports ignored, baseline tracked).
 */

interface Script {
  command?: string;
  dependencies?: (string | { script: string })[];
  files?: string[];
  output?: string[];
}
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  wireit: Record<string, Script>;
};

/** A glob (`*`, `**`, `?`) as a regular expression over POSIX paths. */
function globRe(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

test('audit-full and release-freeze are commands and wireit scripts that wireit never caches; audit-full brings acceptance up to date first, release-freeze runs after run-all', () => {
  assert.ok('audit-full' in COMMANDS && 'release-freeze' in COMMANDS);
  assert.equal(PKG.scripts['audit-full'], 'wireit');
  const af = PKG.wireit['audit-full'] as Script;
  assert.equal(af.command, 'node bin/distill.js audit-full');
  assert.equal(af.files, undefined, 'no files: wireit runs it every time');
  assert.equal(af.output, undefined);
  assert.deepEqual(af.dependencies, ['acceptance'], 'a fresh clone audits with an acceptance result');
  assert.ok((PKG.wireit['acceptance'] as Script).files?.length, 'acceptance itself stays cached');
  assert.equal(PKG.scripts['release-freeze'], 'wireit');
  const rf = PKG.wireit['release-freeze'] as Script;
  assert.equal(rf.command, 'node bin/distill.js release-freeze');
  assert.equal(rf.files, undefined, 'no files: wireit runs it every time');
  assert.equal(rf.output, undefined);
  assert.deepEqual(rf.dependencies, ['run-all']);
});

test('the audit baseline is no script output and is excluded from every input glob that would match it', () => {
  assert.equal(globRe('data/_kb/**').test(BASELINE_FILE), true, 'the matcher works');
  for (const [name, s] of Object.entries(PKG.wireit)) {
    for (const path of [BASELINE_FILE, BASELINE_HEAD]) {
      for (const g of s.output ?? [])
        assert.equal(
          globRe(g).test(path),
          false,
          `wireit script "${name}" has output ${g}, which matches ${path}: wireit would delete or restore it`,
        );
      const files = s.files ?? [];
      if (files.some((g) => !g.startsWith('!') && globRe(g).test(path)))
        assert.ok(
          files.includes(`!${path}`),
          `wireit script "${name}" reads ${path} through its files; add "!${path}"`,
        );
    }
  }
});

test('git policy: the regenerated reports are ignored, the baseline and its head are tracked (not ignored)', (t) => {
  const ignored = (p: string): boolean | null => {
    const r = spawnSync('git', ['check-ignore', '-q', '--no-index', p], { cwd: REPO });
    return r.status === 0 ? true : r.status === 1 ? false : null;
  };
  if (ignored('package.json') === null) return t.skip('not a git checkout');
  for (const p of TOLERATED_PATHS.filter((x) => x.startsWith('reports/')))
    assert.equal(ignored(p), true, `${p} should be git-ignored (it is regenerated on every run)`);
  for (const p of [BASELINE_FILE, BASELINE_HEAD]) assert.equal(ignored(p), false, `${p} must be tracked`);
  assert.equal(ignored('node_modules'), true, 'node_modules is ignored even as a symlink');
});

test('baseline policy: the audit baseline and its head are committed at HEAD, so a fresh clone audits against them', (t) => {
  const tracked = (p: string): boolean | null => {
    const r = spawnSync('git', ['ls-files', '--error-unmatch', p], { cwd: REPO, stdio: 'ignore' });
    return r.error ? null : r.status === 0;
  };
  if (tracked('package.json') !== true) return t.skip('not a git checkout');
  for (const p of [BASELINE_FILE, BASELINE_HEAD])
    assert.equal(tracked(p), true, `${p} must be committed (docs/operator-handoff.md, "The audit baseline")`);
});
