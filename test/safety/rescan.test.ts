import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { sha256 } from '../../tasks/lib/hash.ts';
import { rescanFiles } from '../../tasks/lib/safety/rescan.ts';

/**
 * The second engine (secretlint) over many files in one process: it still finds the secret in
 * the last file, and it leaves nothing behind per file. secretlint 11 kept a performance mark per
 * rule and file for the life of the process and searched them all on every new mark, so each file
 * cost more than the one before (secretlint/secretlint#1653); a long-lived process (run-all,
 * audit-full, a worker, the test suite) paid that quadratically.
 */

// built at run time so that this file holds no secret-shaped literal
const token = ['gh', 'p_', 'R8f3kZq1Lw9Xv2Tn6Yb4Hc7Jd0Ms5Pa1Ue3Q'].join('');

test('rescanning 300 files leaves no performance marks or measures behind and still finds the secret in the last one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-rescan-'));
  const files = Array.from({ length: 300 }, (_, i) => {
    const path = join(dir, `f${String(i).padStart(3, '0')}.txt`);
    writeFileSync(path, i === 299 ? `line one\ndeploy with ${token}\n` : `plain text ${i}\nnothing here\n`);
    return { path, label: `f${i}` };
  });
  const before = performance.getEntries().length;
  const hits = await rescanFiles(files, new Set());
  await new Promise((r) => setImmediate(r)); // performance observers are called back after the marks
  assert.deepEqual(
    hits.map((h) => [h.file, h.line, h.rule]),
    [['f299', 2, '@secretlint/secretlint-rule-github']],
  );
  assert.equal(
    performance.getEntries().length - before,
    0,
    'no performance entry per linted file is kept by the process',
  );
});

test('a file rescanned without its known lines reports a hit at its own line in the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-rescan-known-'));
  const path = join(dir, 'shard.txt');
  const kept = [JSON.stringify({ text: 'a row published before' }), JSON.stringify({ text: 'another one' })];
  writeFileSync(path, [...kept, `a new row with ${token} in it`, ''].join('\n'));
  const known = new Set(kept.map((l) => sha256(l)));
  const hits = await rescanFiles([{ path, label: 'shard.txt', known }], new Set());
  assert.deepEqual(
    hits.map((h) => [h.file, h.line]),
    [['shard.txt', 3]],
  );
});

test('a file with the same bytes as one scanned whole before is not read again; its hits are reported under its own name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-rescan-same-'));
  const text = [
    JSON.stringify({ text: 'clean row' }),
    JSON.stringify({ text: `deploy with ${token}` }),
    '',
  ].join('\n');
  const a = join(dir, 'trl.jsonl');
  writeFileSync(a, text);
  const c = join(dir, 'other.jsonl');
  writeFileSync(c, `${JSON.stringify({ text: 'nothing here' })}\n`);
  const digest = sha256(text);
  const hits = await rescanFiles(
    [
      { path: a, label: 'trl.jsonl', sha256: digest },
      // not on disk: reading it would fail, so the hit below can only come from trl.jsonl's scan
      { path: join(dir, 'missing.jsonl'), label: 'hf.jsonl', sha256: digest },
      { path: c, label: 'other.jsonl', sha256: sha256(`${JSON.stringify({ text: 'nothing here' })}\n`) },
    ],
    new Set(),
  );
  const secretlint = hits.filter((h) => !h.rule.startsWith('screen:') && !h.rule.startsWith('pii:'));
  assert.deepEqual(
    secretlint.map((h) => [h.file, h.line, h.rule]),
    [
      ['trl.jsonl', 2, '@secretlint/secretlint-rule-github'],
      ['hf.jsonl', 2, '@secretlint/secretlint-rule-github'],
    ],
  );
  // the primary engine's hits are repeated too
  assert.deepEqual(
    hits.filter((h) => h.file === 'hf.jsonl').map((h) => [h.line, h.rule]),
    hits.filter((h) => h.file === 'trl.jsonl').map((h) => [h.line, h.rule]),
  );
});

test('a file scanned without its known lines is not taken for a later file with the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-rescan-same-known-'));
  const secretRow = `a new row with ${token} in it`;
  const text = [JSON.stringify({ text: 'old row' }), secretRow, ''].join('\n');
  const a = join(dir, 'a.jsonl');
  const b = join(dir, 'b.jsonl');
  writeFileSync(a, text);
  writeFileSync(b, text);
  const digest = sha256(text);
  const hits = await rescanFiles(
    [
      // the secret's line counted as known in a: a's scan leaves it out
      { path: a, label: 'a.jsonl', sha256: digest, known: new Set([sha256(secretRow)]) },
      { path: b, label: 'b.jsonl', sha256: digest },
    ],
    new Set(),
  );
  assert.deepEqual([...new Set(hits.map((h) => `${h.file}:${h.line}`))], ['b.jsonl:2']);
});

test('a file the primary engine did not read (not .jsonl) is not taken for a later .jsonl file with the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-rescan-same-ext-'));
  // raw PII in a JSONL row: only the primary engine (which reads .jsonl files alone) reports it
  const text = `${JSON.stringify({ text: 'write to jane.doe@example.com or call 415-555-0132' })}\n`;
  const a = join(dir, 'notes.json');
  const b = join(dir, 'rows.jsonl');
  writeFileSync(a, text);
  writeFileSync(b, text);
  const digest = sha256(text);
  const alone = await rescanFiles([{ path: b, label: 'rows.jsonl', sha256: digest }], new Set());
  assert.ok(
    alone.some((h) => h.rule.startsWith('pii:')),
    'the row holds PII the primary engine reports',
  );
  const hits = await rescanFiles(
    [
      { path: a, label: 'notes.json', sha256: digest },
      { path: b, label: 'rows.jsonl', sha256: digest },
    ],
    new Set(),
  );
  assert.deepEqual(
    hits.filter((h) => h.file === 'rows.jsonl').map((h) => [h.line, h.rule]),
    alone.map((h) => [h.line, h.rule]),
  );
});
