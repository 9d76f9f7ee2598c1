import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireLock, LOCKED_EXIT } from '../../tasks/lib/lock.ts';
import { UserError } from '../../tasks/lib/result.ts';

test('a second holder of the same phase lock is refused with the owner pid and start time', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-lock-'));
  const release = await acquireLock(root, 'score');
  const lockFile = join(root, '.distill/locks/score.lock');
  const info = JSON.parse(readFileSync(lockFile, 'utf8'));
  assert.equal(info.pid, process.pid);
  await assert.rejects(acquireLock(root, 'score'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.exitCode, LOCKED_EXIT);
    assert.equal(e.code, 'LOCKED');
    assert.match(
      e.message,
      new RegExp(`score is locked by pid ${process.pid} since ${info.started_at.replace(/[.]/g, '\\.')}`),
    );
    return true;
  });
  // another phase is not blocked
  const other = await acquireLock(root, 'build-evidence');
  await other();
  await release();
  assert.equal(existsSync(lockFile), false);
});

test('a stale lock left by a dead process is taken over', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-lock-'));
  mkdirSync(join(root, '.distill/locks'), { recursive: true });
  const lockFile = join(root, '.distill/locks/score.lock');
  writeFileSync(
    lockFile,
    JSON.stringify({
      pid: 2147483646,
      host: hostname(),
      phase: 'score',
      started_at: '2026-01-01T00:00:00.000Z',
    }),
  );
  const release = await acquireLock(root, 'score');
  assert.equal(JSON.parse(readFileSync(lockFile, 'utf8')).pid, process.pid);
  await release();
});

test('the run lock names the build that holds it; a holder whose pid now belongs to another process (start time differs) is stale and taken over', async () => {
  const { acquireRunLock, releaseRunLock } = await import('../../tasks/lib/lock.ts');
  const { startOf } = await import('../../tasks/lib/process-tree.ts');
  const root = mkdtempSync(join(tmpdir(), 'distill-lock-'));
  const me = { pid: process.pid, start: startOf(process.pid), command: 'npm run run-all' };
  const release = await acquireRunLock(root, me);
  const path = join(root, '.distill/locks/run.lock');
  const info = JSON.parse(readFileSync(path, 'utf8'));
  await assert.rejects(acquireRunLock(root, { ...me, command: 'distill run-all' }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.code, 'LOCKED');
    assert.equal(
      e.message,
      `another build is running: npm run run-all (pid ${process.pid}, started ${info.started_at}); this one is refused and changed nothing. Wait for it to finish and rerun (or stop it: kill ${process.pid}); if no such process exists, delete ${path}.`,
    );
    return true;
  });
  await release();
  // the same pid, but another start time: the process that held it is gone (its pid was reused)
  mkdirSync(join(root, '.distill/locks'), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify({ pid: process.pid, host: hostname(), phase: 'run', started_at: '2026-01-01T00:00:00.000Z', start: 'not-this-process', command: 'npm run run-all' })}\n`,
  );
  const taken = await acquireRunLock(root, { ...me, command: 'distill run-all' });
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).command, 'distill run-all');
  await taken();
  assert.equal(existsSync(path), false);
  // releaseRunLock removes the lock only for its holder
  await acquireRunLock(root, me);
  await releaseRunLock(root, process.pid + 1);
  assert.equal(existsSync(path), true);
  await releaseRunLock(root, process.pid);
  assert.equal(existsSync(path), false);
});

test('inside one wireit build the run lock is re-entrant for that build owner, and still refuses any other build', async () => {
  const { acquireRunLock, releaseRunLock } = await import('../../tasks/lib/lock.ts');
  const { startOf } = await import('../../tasks/lib/process-tree.ts');
  const root = mkdtempSync(join(tmpdir(), 'distill-lock-'));
  // the build owner is another live process (here: our parent stands in for `npm run run-all`)
  const owner = { pid: process.ppid, start: startOf(process.ppid), command: 'npm run run-all' };
  await acquireRunLock(root, owner);
  const path = join(root, '.distill/locks/run.lock');
  const again = await acquireRunLock(root, owner);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.ppid, 'the lock still names the owner');
  // another build (this process owning its own `distill run-all`) is refused while it is held
  await assert.rejects(
    acquireRunLock(root, { pid: process.pid, start: startOf(process.pid), command: 'distill run-all' }),
    (e: unknown) => e instanceof UserError && e.code === 'LOCKED',
  );
  // the same pid with another start time is not the same owner: refused too (the holder is alive)
  await assert.rejects(
    acquireRunLock(root, { ...owner, start: 'another-start' }),
    (e: unknown) => e instanceof UserError && e.code === 'LOCKED',
  );
  await again();
  assert.equal(existsSync(path), false);
  await releaseRunLock(root, process.ppid);
});
