import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOURCE_FINGERPRINT, updateSourceFingerprint } from '../../tasks/run/source-index.ts';

function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'distill-srcidx-'));
  mkdirSync(join(root, 'data/_kb/gateway'), { recursive: true });
  writeFileSync(join(root, 'data/_kb/gateway/2026-10-01.jsonl'), '{"a":1}\n');
  writeFileSync(join(root, 'data/_kb/gateway/2026-10-02.jsonl'), '{"a":2}\n');
  writeFileSync(join(root, 'data/_kb/.hidden.jsonl'), '{"a":3}\n');
  writeFileSync(join(root, 'data/_kb/audit_baselines.jsonl'), '{"row":1}\n');
  writeFileSync(join(root, 'data/_kb/audit_baselines.head.json'), '{}\n');
  return root;
}

const fingerprint = (root: string): string => readFileSync(join(root, SOURCE_FINGERPRINT), 'utf8');
const TRUST_NOW = { racyMs: 0 };

test('source fingerprint: every source file by content (dot files too), never the audit baseline pair; unchanged files are not hashed again', async () => {
  const root = project();
  assert.deepEqual(await updateSourceFingerprint(root, TRUST_NOW), { files: 3, hashed: 3 });
  const fp = JSON.parse(fingerprint(root)) as { files: [string, number, string][] };
  assert.deepEqual(
    fp.files.map(([p, n]) => `${p} ${n}`),
    [
      'data/_kb/.hidden.jsonl 8',
      'data/_kb/gateway/2026-10-01.jsonl 8',
      'data/_kb/gateway/2026-10-02.jsonl 8',
    ],
  );
  assert.match(fp.files[0]?.[2] ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual(await updateSourceFingerprint(root, TRUST_NOW), { files: 3, hashed: 0 });
});

test('source fingerprint: touch rehashes but leaves the fingerprint byte-identical; an appended row or a same-size edit with the old mtime changes it', async () => {
  const root = project();
  const file = join(root, 'data/_kb/gateway/2026-10-01.jsonl');
  await updateSourceFingerprint(root, TRUST_NOW);
  const fp0 = fingerprint(root);

  const later = new Date(Date.now() + 60_000);
  utimesSync(file, later, later);
  assert.deepEqual(await updateSourceFingerprint(root, TRUST_NOW), { files: 3, hashed: 1 });
  assert.equal(fingerprint(root), fp0, 'touch changes no content');

  // same size, mtime put back: only ctime tells, and it is part of the stat key
  const st = statSync(file);
  writeFileSync(file, '{"a":9}\n');
  utimesSync(file, st.atime, st.mtime);
  assert.deepEqual(await updateSourceFingerprint(root, TRUST_NOW), { files: 3, hashed: 1 });
  const fp1 = fingerprint(root);
  assert.notEqual(fp1, fp0);

  appendFileSync(file, '{"a":10}\n');
  await updateSourceFingerprint(root, TRUST_NOW);
  assert.notEqual(fingerprint(root), fp1);
  assert.match(fingerprint(root), /"data\/_kb\/gateway\/2026-10-01\.jsonl",17,/);
});

test('source fingerprint: a file changed within the racy window of its hashing is hashed again (the stat cache is not trusted yet)', async () => {
  const root = project();
  assert.deepEqual(await updateSourceFingerprint(root), { files: 3, hashed: 3 });
  // the files were written less than 2 s before they were hashed: not trusted on the next run
  assert.deepEqual(await updateSourceFingerprint(root), { files: 3, hashed: 3 });
});

test('source fingerprint: new and removed files change it; a lost stat cache costs one re-hash, not a different fingerprint', async () => {
  const root = project();
  await updateSourceFingerprint(root, TRUST_NOW);
  const fp0 = fingerprint(root);
  writeFileSync(join(root, 'data/_kb/gateway/2026-10-03.jsonl'), '{"a":4}\n');
  assert.deepEqual(await updateSourceFingerprint(root, TRUST_NOW), { files: 4, hashed: 1 });
  assert.notEqual(fingerprint(root), fp0);
  writeFileSync(join(root, '.distill/cache/source-index.json'), 'not json');
  const fp1 = fingerprint(root);
  assert.deepEqual(await updateSourceFingerprint(root, TRUST_NOW), { files: 4, hashed: 4 });
  assert.equal(fingerprint(root), fp1);
});

test('source fingerprint: a symlink loop under data/_kb is walked once, not forever', async () => {
  const root = project();
  symlinkSync('..', join(root, 'data/_kb/gateway/loop'), 'dir');
  const r = await updateSourceFingerprint(root, TRUST_NOW);
  assert.equal(r.files, 3);
});
