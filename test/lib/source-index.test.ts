import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
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

/** The files a config's globs would list here: every file under data/_kb but the audit baseline pair. */
const listed = (root: string): string[] =>
  (readdirSync(join(root, 'data/_kb'), { recursive: true }) as string[])
    .map((f) => `data/_kb/${f}`)
    .filter((f) => statSync(join(root, f)).isFile() && !f.includes('audit_baselines'));
const NO_BUILD = new Map<string, { sha256: string; bytes: number }>();
async function update(root: string, opts?: { racyMs: number }): Promise<{ files: number; hashed: number }> {
  const { files, hashed } = await updateSourceFingerprint(
    root,
    { files: listed(root), readBefore: NO_BUILD },
    opts,
  );
  return { files, hashed };
}

const fingerprint = (root: string): string => readFileSync(join(root, SOURCE_FINGERPRINT), 'utf8');
const TRUST_NOW = { racyMs: 0 };

test('source fingerprint: every source file by content (dot files too), never the audit baseline pair; unchanged files are not hashed again', async () => {
  const root = project();
  assert.deepEqual(await update(root, TRUST_NOW), { files: 3, hashed: 3 });
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
  assert.deepEqual(await update(root, TRUST_NOW), { files: 3, hashed: 0 });
});

test('source fingerprint: touch rehashes but leaves the fingerprint byte-identical; an appended row or a same-size edit with the old mtime changes it', async () => {
  const root = project();
  const file = join(root, 'data/_kb/gateway/2026-10-01.jsonl');
  await update(root, TRUST_NOW);
  const fp0 = fingerprint(root);

  const later = new Date(Date.now() + 60_000);
  utimesSync(file, later, later);
  assert.deepEqual(await update(root, TRUST_NOW), { files: 3, hashed: 1 });
  assert.equal(fingerprint(root), fp0, 'touch changes no content');

  // same size, mtime put back: only ctime tells, and it is part of the stat key
  const st = statSync(file);
  writeFileSync(file, '{"a":9}\n');
  utimesSync(file, st.atime, st.mtime);
  assert.deepEqual(await update(root, TRUST_NOW), { files: 3, hashed: 1 });
  const fp1 = fingerprint(root);
  assert.notEqual(fp1, fp0);

  appendFileSync(file, '{"a":10}\n');
  await update(root, TRUST_NOW);
  assert.notEqual(fingerprint(root), fp1);
  assert.match(fingerprint(root), /"data\/_kb\/gateway\/2026-10-01\.jsonl",17,/);
});

test('source fingerprint: a file changed within the racy window of its hashing is hashed again (the stat cache is not trusted yet)', async () => {
  const root = project();
  assert.deepEqual(await update(root), { files: 3, hashed: 3 });
  // the files were written less than 2 s before they were hashed: not trusted on the next run
  assert.deepEqual(await update(root), { files: 3, hashed: 3 });
});

test('source fingerprint: new and removed files change it; a lost stat cache costs one re-hash, not a different fingerprint', async () => {
  const root = project();
  await update(root, TRUST_NOW);
  const fp0 = fingerprint(root);
  writeFileSync(join(root, 'data/_kb/gateway/2026-10-03.jsonl'), '{"a":4}\n');
  assert.deepEqual(await update(root, TRUST_NOW), { files: 4, hashed: 1 });
  assert.notEqual(fingerprint(root), fp0);
  writeFileSync(join(root, '.distill/cache/source-index.json'), 'not json');
  const fp1 = fingerprint(root);
  assert.deepEqual(await update(root, TRUST_NOW), { files: 4, hashed: 4 });
  assert.equal(fingerprint(root), fp1);
});

test('source fingerprint: exactly the listed files, wherever under the root (not only data/_kb)', async () => {
  const root = project();
  mkdirSync(join(root, 'logs'));
  writeFileSync(join(root, 'logs/b.jsonl'), '{"b":1}\n');
  const files = ['data/_kb/gateway/2026-10-01.jsonl', 'logs/b.jsonl'];
  await updateSourceFingerprint(root, { files, readBefore: NO_BUILD }, TRUST_NOW);
  const fp = JSON.parse(fingerprint(root)) as { files: [string, number, string][] };
  assert.deepEqual(
    fp.files.map(([p]) => p),
    files,
  );
  const fp0 = fingerprint(root);
  writeFileSync(join(root, 'logs/b.jsonl'), '{"b":2}\n');
  await updateSourceFingerprint(root, { files, readBefore: NO_BUILD }, TRUST_NOW);
  assert.notEqual(fingerprint(root), fp0, 'a changed file outside data/_kb changes it');
});

test('source fingerprint: names the files of the last build whose read bytes are gone; empty when every file is as read or appended to', async () => {
  const root = project();
  const a = 'data/_kb/gateway/2026-10-01.jsonl';
  const b = 'data/_kb/gateway/2026-10-02.jsonl';
  const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
  const readBefore = new Map([
    [a, { sha256: sha('{"a":1}\n'), bytes: 8 }],
    [b, { sha256: sha('{"a":2}\n'), bytes: 8 }],
  ]);
  appendFileSync(join(root, a), '{"a":5}\n');
  const r = await updateSourceFingerprint(root, { files: [a, b], readBefore }, TRUST_NOW);
  assert.deepEqual(JSON.parse(fingerprint(root)).lost, []);
  assert.deepEqual(r.now.get(a), { size: 16, prefixSha256: sha('{"a":1}\n') });
  const fp0 = fingerprint(root);
  // b gone: the fingerprint differs from any taken while b's rows were not yet built
  const r2 = await updateSourceFingerprint(root, { files: [a], readBefore }, TRUST_NOW);
  assert.deepEqual(JSON.parse(fingerprint(root)).lost, [[b, 8, sha('{"a":2}\n')]]);
  assert.equal(r2.now.has(b), false);
  const onlyA = await updateSourceFingerprint(
    root,
    { files: [a], readBefore: new Map([[a, readBefore.get(a)!]]) },
    TRUST_NOW,
  );
  assert.notEqual(fingerprint(root), fp0);
  assert.equal(onlyA.files, 1);
  // a's first bytes edited (same size as read): listed as lost too
  writeFileSync(join(root, a), '{"x":1}\n{"a":5}\n');
  const r3 = await updateSourceFingerprint(root, { files: [a, b], readBefore }, TRUST_NOW);
  assert.deepEqual(JSON.parse(fingerprint(root)).lost, [[a, 8, sha('{"a":1}\n')]]);
  assert.equal(r3.now.get(a)?.prefixSha256, sha('{"x":1}\n'));
});
