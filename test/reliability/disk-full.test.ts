import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cacheRoomError, CACHE_MARGIN_BYTES, diskName } from '../../tasks/lib/disk.ts';
import { PIPELINE } from '../../tasks/phases/registry.ts';
import { cacheEntryComplete } from '../../tasks/run/leftovers.ts';
import { runCli } from '../helpers/project.ts';
import { cliInProcess, ls, tempDir, writeConfig, writeFiles } from './fixture.ts';
import { smallRepo, startJob, temps, userEnv } from './process-fixture.ts';

/**
 * docs/reliability.md "Disk full in wireit's cache copy": a disk too full for wireit's cache copy of a phase's outputs
 * (simulated with the test hook DISTILL_CACHE_FREE) stops that phase before its publish with one
 * line naming the disk and the phase, exit 74, and leaves no temp file and no cache entry (wireit's
 * own copy would fail with "Internal error!" and leave a partial entry); begin-run removes
 * incomplete cache entries and dead processes' temps that an earlier build left.
 */

const cacheDir = (root: string, script: string): string =>
  join(root, '.wireit', Buffer.from(script, 'utf8').toString('hex'), 'cache');

test("npm run run-all with too little room for wireit's cache copy: one line naming the disk and the phase, exit 74, nothing published, no temp file, no cache entry", async () => {
  const root = smallRepo();
  const env = userEnv({ DISTILL_CACHE_FREE: '1000', WIREIT_CACHE: 'local' });
  const job = startJob('npm', ['run', 'run-all'], root, env);
  const code = await job.done;
  const out = job.out();
  assert.notEqual(code, 0, out);
  const line = out.split('\n').find((l) => l.startsWith('✖ build-evidence: disk full: '));
  assert.ok(line, `one disk-full line from build-evidence:\n${out}`);
  assert.equal(
    line,
    `✖ build-evidence: disk full: ${diskName(join(root, '.wireit'))} has 1000 bytes free, and wireit's cache copy of these outputs needs ${line.split(' needs ')[1]?.split('. ')[0]}. Nothing was published; the previous outputs are in place. Free space (npm run cache:prune) or turn the cache off (WIREIT_CACHE=none), and rerun. [IO_ERROR]`,
  );
  assert.match(out, /\[build-evidence\] (?:exited with exit code|Failed with exit status) 74\b/);
  assert.doesNotMatch(out, /Internal error/);
  assert.equal(existsSync(join(root, 'data/evidence')), false, 'nothing published');
  assert.deepEqual(temps(root), [], 'no temp file left');
  assert.deepEqual(ls(cacheDir(root, 'build-evidence')), [], 'no cache entry');
  assert.deepEqual(ls(join(root, '.distill/staging')), []);

  // with room, the phase publishes and wireit's cache entry of it is complete
  const again = startJob('npm', ['run', 'build-evidence'], root, userEnv({ WIREIT_CACHE: 'local' }));
  assert.equal(await again.done, 0, again.out());
  const keys = ls(cacheDir(root, 'build-evidence'));
  assert.equal(keys.length, 1, again.out());
  const be = PIPELINE.find((p) => p.phase === 'build-evidence');
  assert.ok(be);
  assert.equal(await cacheEntryComplete(join(cacheDir(root, 'build-evidence'), keys[0] as string), be), true);
  assert.deepEqual(temps(root), []);
});

test('the cache guard: refuses below the copy size plus margin, one line, exit 74', () => {
  assert.equal(cacheRoomError('the disk of /x', 10_000_000, 5_000_000), null);
  const e = cacheRoomError('the disk of /x', 5_000_000 + CACHE_MARGIN_BYTES - 1, 5_000_000);
  assert.ok(e);
  assert.equal(e.code, 'IO_ERROR');
  assert.equal(e.exitCode, 74);
  assert.doesNotMatch(e.message, /\n/);
  assert.match(
    e.message,
    /^disk full: the disk of \/x has 5\.8 MB free, and wireit's cache copy of these outputs needs 5\.8 MB\./,
  );
});

test("begin-run removes incomplete wireit cache entries and dead processes' staging and scratch folders, and keeps complete entries", async () => {
  const root = tempDir();
  writeConfig(root, [{}]);
  writeFiles(root, { 'data/_kb/src/a.jsonl': '' });
  const be = PIPELINE.find((p) => p.phase === 'build-evidence');
  assert.ok(be);
  const cache = cacheDir(root, be.script);
  const manifest = JSON.stringify({ files: [{ path: 'data/evidence/x.jsonl', bytes: 10 }] });
  const entry = (key: string, files: Record<string, string>): void =>
    writeFiles(
      root,
      Object.fromEntries(
        Object.entries(files).map(([p, d]) => [join(cache, key, p).slice(root.length + 1), d]),
      ),
    );
  const receipt = { 'reports/distillation/latest/build-evidence.receipt.json': '{}' };
  entry('complete', {
    'data/evidence/_manifest.json': manifest,
    'data/evidence/x.jsonl': '0123456789',
    ...receipt,
  });
  entry('short-copy', {
    'data/evidence/_manifest.json': manifest,
    'data/evidence/x.jsonl': '01234',
    ...receipt,
  });
  entry('no-receipt', { 'data/evidence/_manifest.json': manifest, 'data/evidence/x.jsonl': '0123456789' });
  entry('torn-manifest', { 'data/evidence/_manifest.json': manifest.slice(0, 20), ...receipt });
  // a pid that surely is gone: a child that has exited
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  for (const d of [`staging/data_evidence.tmp-${dead}`, `scratch/score.tmp-${dead}`]) {
    mkdirSync(join(root, '.distill', d), { recursive: true });
    writeFileSync(join(root, '.distill', d, 'part.jsonl'), 'x');
  }
  writeFiles(root, {
    [`reports/distillation/latest/.score.receipt.json.tmp-${dead}`]: '{"half',
    [`.distill/.sources.fingerprint.json.tmp-${dead}`]: '{"half',
    [`.distill/trash/data_evidence.tmp-${dead}/_manifest.json`]: '{}',
  });
  const live = join(root, '.distill/staging', `data_scored-runs.tmp-${process.pid}`);
  mkdirSync(live, { recursive: true });

  const r = await cliInProcess(['run-all', '--begin', '--root', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ls(cache), ['complete']);
  // the next build checks only new entries, and still removes a partial one
  entry('later-short', { 'data/evidence/_manifest.json': manifest, ...receipt });
  const again = await cliInProcess(['run-all', '--begin', '--root', root]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(ls(cache), ['complete']);
  assert.deepEqual(ls(join(root, '.distill/scratch')), []);
  assert.deepEqual(ls(join(root, 'reports/distillation/latest')), [], 'a dead temp file is removed');
  assert.equal(existsSync(join(root, `.distill/.sources.fingerprint.json.tmp-${dead}`)), false);
  assert.deepEqual(
    ls(join(root, '.distill/trash')),
    [`data_evidence.tmp-${dead}`],
    'a trash copy is kept: it may be the previous outputs, which the next publish of its phase restores or drops',
  );
  assert.deepEqual(
    ls(join(root, '.distill/staging')),
    [`data_scored-runs.tmp-${process.pid}`],
    "a live process's staging is kept",
  );
});

test('a full disk outside a phase (begin-run writing the source fingerprint) is one line naming the disk, exit 74, no temp file, no lock held', async () => {
  const root = tempDir();
  writeConfig(root, [{}]);
  writeFiles(root, { 'data/_kb/src/a.jsonl': '{}\n' });
  const r = await runCli(['run-all', '--begin', '--root', root], {
    env: { DISTILL_FAULT: 'write:1:ENOSPC' },
  });
  assert.equal(r.code, 74, r.stderr);
  assert.equal(
    r.stderr,
    `✖ run-all: I/O error on ${diskName(root)}: ENOSPC: injected fault on write (DISTILL_FAULT). Fix the cause (free disk space, check the device or permissions) and rerun. [IO_ERROR]\n`,
  );
  assert.deepEqual(temps(root), []);
  assert.deepEqual(ls(join(root, '.distill/locks')), [], 'the run lock was released');
  assert.equal(existsSync(join(root, 'reports/distillation/.current-run.json')), false);
});
