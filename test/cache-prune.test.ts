import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listCache, planPrune, prune, type CacheEntry } from '../tasks/dev/cache-prune.ts';

const e = (script: string, key: string, bytes: number, mtimeMs: number, current = false): CacheEntry => ({
  script,
  key,
  bytes,
  mtimeMs,
  current,
});

test('planPrune keeps the current entry and the N newest others per script', () => {
  const entries = [
    e('score', 'a', 10, 1),
    e('score', 'b', 10, 3),
    e('score', 'c', 10, 2),
    e('score', 'cur', 10, 0, true),
    e('export-sft', 'x', 10, 5),
  ];
  const doomed = planPrune(entries, { keep: 1, maxBytes: Infinity }).map((x) => `${x.script}/${x.key}`);
  assert.deepEqual(doomed, ['score/a', 'score/c']);
});

test('planPrune enforces the size budget oldest-first but never deletes a current entry', () => {
  const entries = [
    e('s', 'old', 100, 1),
    e('s', 'mid', 100, 2),
    e('s', 'new', 100, 3),
    e('s', 'cur', 500, 0, true),
  ];
  assert.deepEqual(
    planPrune(entries, { keep: 10, maxBytes: 650 }).map((x) => x.key),
    ['old', 'mid'],
  );
  assert.deepEqual(
    planPrune(entries, { keep: 10, maxBytes: 0 }).map((x) => x.key),
    ['old', 'mid', 'new'],
  );
});

test('prune deletes planned cache folders on disk, keeps the one matching the fingerprint, skips busy scripts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-wireit-'));
  const mk = (script: string, fingerprint: string, keys: string[]): string => {
    const data = join(dir, Buffer.from(script).toString('hex'));
    mkdirSync(join(data, 'cache'), { recursive: true });
    writeFileSync(join(data, 'fingerprint'), fingerprint);
    keys.forEach((k, i) => {
      mkdirSync(join(data, 'cache', k, 'data'), { recursive: true });
      writeFileSync(join(data, 'cache', k, 'data', 'f.jsonl'), 'x'.repeat(1000));
      utimesSync(join(data, 'cache', k), 1000 + i, 1000 + i);
    });
    return data;
  };
  const fp = '{"command":"tsx tasks/cli/main.ts score"}';
  const cur = createHash('sha256').update(fp).digest('hex');
  const score = mk('score', fp, ['k1', 'k2', cur, 'k3']);
  const busy = mk('export-sft', '{}', ['b1', 'b2']);
  mkdirSync(join(busy, 'lock.lock'));
  const listed = await listCache(dir);
  assert.deepEqual(listed.busy, ['export-sft']);
  assert.deepEqual(
    listed.entries.filter((x) => x.current).map((x) => x.key),
    [cur],
  );
  const res = await prune(dir, { keep: 1, maxBytes: Infinity }, false);
  assert.deepEqual(res.removed.map((x) => x.key).sort(), ['k1', 'k2']);
  assert.equal(existsSync(join(score, 'cache', cur)), true);
  assert.equal(existsSync(join(score, 'cache', 'k3')), true);
  assert.equal(existsSync(join(score, 'cache', 'k1')), false);
  assert.equal(existsSync(join(busy, 'cache', 'b1')), true);
});
