import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireLock, LOCKED_EXIT } from '../../tasks/lib/lock.ts';
import { runCli } from '../helpers/project.ts';
import { cliInProcess, ls, pipelineProject, tree } from './fixture.ts';
import { smallRepo, startJob, userEnv } from './process-fixture.ts';

/**
 * docs/reliability.md "A refused run writes nothing": a refused run-all (usage or config error, another
 * build running, a phase lock held) writes nothing: no run folder under reports/distillation/,
 * no drift against the last run, no receipt, no run-state file.
 */

const runFolders = (root: string): string[] =>
  ls(join(root, 'reports/distillation')).filter((n) => /^\d{8}T/.test(n));

test('distill run-all refused for a usage error, a config error, a held phase lock, another build or a first phase that refuses: exit 2 / 75, no run folder, no drift', async () => {
  const root = pipelineProject();
  const ok = await cliInProcess(['run-all', '--root', root]);
  assert.equal(ok.code, 0, ok.stderr);
  const runs = runFolders(root);
  assert.equal(runs.length, 1, 'one successful run to compare against');
  const before = tree(root);

  const usage = await cliInProcess(['run-all', '--bogus', '--root', root]);
  assert.equal(usage.code, 2, usage.stderr);
  assert.deepEqual(tree(root), before, 'usage error: nothing changed');

  // a phase lock held by a live process (this one) refuses the whole build before any phase runs
  const release = await acquireLock(root, 'screen');
  const held = tree(root);
  try {
    const locked = await cliInProcess(['run-all', '--root', root]);
    assert.equal(locked.code, LOCKED_EXIT, locked.stderr);
    assert.match(
      locked.stderr,
      new RegExp(
        `screen is locked by pid ${process.pid} since .*; this build is refused and changed nothing\\.`,
      ),
    );
    assert.deepEqual(tree(root), held, 'phase lock held: nothing changed');
  } finally {
    await release();
  }

  // another build running (the run lock, held here by this process)
  const run = await acquireLock(root, 'run', { pid: process.pid, start: null, command: 'npm run run-all' });
  const busy = tree(root);
  try {
    const second = await cliInProcess(['run-all', '--root', root]);
    assert.equal(second.code, LOCKED_EXIT, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(
        `another build is running: npm run run-all \\(pid ${process.pid}, started \\d{4}-\\d\\d-\\d\\dT[^)]+\\); this one is refused and changed nothing`,
      ),
    );
    assert.deepEqual(tree(root), busy, 'another build: nothing changed');
  } finally {
    await run();
  }

  // the first phase refuses (a source it cannot read): nothing ran, so no run is recorded
  const unreadable = await runCli(['run-all', '--root', root], { env: { DISTILL_FAULT: 'read:1:EACCES' } });
  assert.equal(unreadable.code, 2, unreadable.stderr);
  assert.match(unreadable.stderr, /SOURCE_UNREADABLE/);
  assert.match(
    unreadable.stderr,
    /run-all: build-evidence did not build \(above\), so nothing ran: no run is recorded \(no run folder, no drift\)\./,
  );
  assert.deepEqual(runFolders(root), runs, 'the first phase refused: no run folder');

  writeFileSync(join(root, 'distill.config.json'), '{ "schema_version": 1, "sources": [ }\n');
  const broken = tree(root);
  const config = await cliInProcess(['run-all', '--root', root]);
  assert.equal(config.code, 2, config.stderr);
  assert.match(config.stderr, /\[CONFIG_INVALID\]/);
  assert.deepEqual(tree(root), broken, 'config error: nothing changed');
  assert.deepEqual(runFolders(root), runs, 'no run folder was written by any refused run');
});

test('npm run run-all with a config that does not load is refused by begin-run: no run folder, no receipt, no run-state file', async () => {
  const root = smallRepo();
  writeFileSync(join(root, 'distill.config.json'), '{ "schema_version": 1, "sources": 7 }\n');
  const job = startJob('npm', ['run', 'run-all'], root, userEnv());
  const code = await job.done;
  assert.notEqual(code, 0, job.out());
  assert.match(job.out(), /distill\.config\.json is invalid/);
  assert.match(job.out(), /\[CONFIG_INVALID\]/);
  assert.deepEqual(runFolders(root), [], job.out());
  assert.equal(existsSync(join(root, 'reports/distillation/.current-run.json')), false);
  assert.equal(existsSync(join(root, 'reports/distillation/latest')), false, 'no receipt');
  assert.equal(existsSync(join(root, 'data/evidence')), false);
});
