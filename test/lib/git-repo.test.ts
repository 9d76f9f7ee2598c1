import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendOnlyHistory, committedFile, filesAt, isRepo } from '../../tasks/gates/release/git.ts';
import { mayBeInGitRepo } from '../../tasks/lib/git-repo.ts';

test('a folder no repository can hold: no git process is started for it; one under a .git folder or file, or in a bare repository: git runs and decides', (t) => {
  if (process.platform === 'win32') return t.skip('a shell script stands in for git');
  if (mayBeInGitRepo(tmpdir())) return t.skip('the temp folder is inside a git repository');
  const dir = mkdtempSync(join(tmpdir(), 'distill-git-repo-'));
  // a `git` first on PATH that records its arguments and fails as git does outside a repository
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const calls = join(dir, 'calls');
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$@" >> '${calls}'\nexit 128\n`);
  chmodSync(join(bin, 'git'), 0o755);
  const project = join(dir, 'project', 'sub');
  mkdirSync(project, { recursive: true });
  const saved = { PATH: process.env['PATH'], GIT_DIR: process.env['GIT_DIR'] };
  process.env['PATH'] = `${bin}:${saved.PATH ?? ''}`;
  delete process.env['GIT_DIR'];
  try {
    assert.equal(mayBeInGitRepo(project), false);
    assert.equal(committedFile(project, 'data/x.jsonl'), null);
    assert.equal(isRepo(project), false);
    assert.equal(existsSync(calls), false, 'no git process outside a repository');
    // GIT_DIR names a repository wherever the command runs: git is asked
    process.env['GIT_DIR'] = join(dir, 'elsewhere.git');
    assert.equal(mayBeInGitRepo(project), true);
    delete process.env['GIT_DIR'];
    // a .git folder above the project (a clone), a .git file (a worktree), a bare repository
    mkdirSync(join(dir, 'project', '.git'));
    assert.equal(mayBeInGitRepo(project), true);
    assert.equal(committedFile(project, 'data/x.jsonl'), null, 'what git answered');
    assert.equal(readFileSync(calls, 'utf8'), 'show HEAD:./data/x.jsonl\n', 'git was run');
    const wt = join(dir, 'worktree');
    mkdirSync(wt);
    writeFileSync(join(wt, '.git'), 'gitdir: /somewhere/.git/worktrees/wt\n');
    assert.equal(mayBeInGitRepo(wt), true);
    const bare = join(dir, 'bare.git');
    mkdirSync(join(bare, 'objects'), { recursive: true });
    mkdirSync(join(bare, 'refs'));
    writeFileSync(join(bare, 'HEAD'), 'ref: refs/heads/main\n');
    assert.equal(mayBeInGitRepo(join(bare, 'refs')), true);
    assert.equal(
      mayBeInGitRepo(join(dir, 'worktree-less')),
      false,
      'a folder that does not exist, nothing above',
    );
  } finally {
    process.env['PATH'] = saved.PATH;
    if (saved.GIT_DIR === undefined) delete process.env['GIT_DIR'];
    else process.env['GIT_DIR'] = saved.GIT_DIR;
  }
});

test('filesAt: the bytes of a file at each of many commits from one git process, null where a commit does not hold it (a project in a subfolder of its repository)', (t) => {
  if (process.platform === 'win32') return t.skip('a shell script stands in for git');
  const realGit = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  if (!realGit) return t.skip('no git');
  const dir = mkdtempSync(join(tmpdir(), 'distill-git-batch-'));
  const repo = join(dir, 'repo');
  const project = join(repo, 'sub');
  mkdirSync(join(project, 'data'), { recursive: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.invalid',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.invalid',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'maintenance.auto',
    GIT_CONFIG_VALUE_0: 'false',
  };
  const git = (...args: string[]): string => {
    const r = spawnSync(realGit, args, { cwd: repo, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  git('init', '-q', '-b', 'main');
  const f = join(project, 'data', 'f.txt');
  const versions = ['a\n', 'a\nb\n', null, '', 'z\n'];
  const shas: string[] = [];
  for (const [i, v] of versions.entries()) {
    if (v === null) rmSync(f);
    else writeFileSync(f, v);
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', `v${i}`);
    shas.push(git('rev-parse', 'HEAD'));
  }
  // every git process the code starts, recorded, then run
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const calls = join(dir, 'calls');
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$@" >> '${calls}'\nexec '${realGit}' "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  const saved = process.env['PATH'];
  process.env['PATH'] = `${bin}:${saved ?? ''}`;
  try {
    const got = filesAt(project, shas, 'data/f.txt');
    assert.deepEqual(
      got.map((b) => (b === null ? null : b.toString('utf8'))),
      versions,
    );
    assert.deepEqual(readFileSync(calls, 'utf8').split('\n').filter(Boolean), [
      'rev-parse --show-prefix',
      'cat-file --batch',
    ]);
    assert.deepEqual(filesAt(project, [], 'data/f.txt'), []);
  } finally {
    process.env['PATH'] = saved;
  }
  // what release-freeze makes of it: the commit that deleted the file rewrote its history
  assert.match(appendOnlyHistory(project, 'data/f.txt').rewrite?.problem ?? '', /deleted it/);
});
