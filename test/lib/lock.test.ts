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
