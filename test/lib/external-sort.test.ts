import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalSorter } from '../../tasks/lib/external-sort.ts';
import { peekFields } from '../../tasks/phases/score/json-peek.ts';
import { LineSpill, partitionCount } from '../../tasks/phases/score/line-spill.ts';
import { jsonlLines } from '../../tasks/lib/jsonl-read.ts';

async function sortAll(rows: [string, string][], memoryChars: number): Promise<[string, string][]> {
  const dir = mkdtempSync(join(tmpdir(), 'distill-sort-'));
  try {
    const s = new ExternalSorter(dir, 't', memoryChars);
    for (const [k, l] of rows) await s.add(k, l);
    const out: [string, string][] = [];
    for await (const r of s.sorted()) out.push([r.key, r.line]);
    assert.deepEqual(readdirSync(dir), [], 'run files are removed once merged');
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ExternalSorter equals a stable in-memory sort by key (UTF-16 order, ties in insertion order), spilled or not', async () => {
  let seed = 7;
  const rnd = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const alphabet = ['a', 'B', 'é', '\t', '\n', '\u0000', '😀', 'z', '"', '\\'];
  const rows: [string, string][] = Array.from({ length: 3000 }, (_, i) => {
    const key = Array.from({ length: 1 + rnd(4) }, () => alphabet[rnd(alphabet.length)]).join('');
    return [key, JSON.stringify({ i, text: `line ${i}\twith a tab` })];
  });
  const want = [...rows].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  assert.deepEqual(await sortAll(rows, 1 << 30), want);
  assert.deepEqual(await sortAll(rows, 2000), want); // dozens of run files
});

test('peekFields reads top-level string / null fields without being fooled by nested ones', () => {
  const row = JSON.stringify({
    schema_version: 1,
    provenance: { kind: 'nested', trace_id: 'no' },
    note: 'has "kind":"run" inside',
    trace_id: 'tr_1',
    kind: 'run',
    run: { trace_id: 'deep' },
  });
  assert.deepEqual(peekFields(row, ['trace_id', 'kind'] as const), { trace_id: 'tr_1', kind: 'run' });
  assert.deepEqual(
    peekFields('{"kind":"signal","trace_id":null,"x":[{"trace_id":"y"}]}', ['trace_id', 'kind'] as const),
    { kind: 'signal', trace_id: null },
  );
  assert.deepEqual(peekFields('{"trace_id":7}', ['trace_id'] as const), { trace_id: undefined });
  assert.deepEqual(peekFields('{"a":1}', ['trace_id'] as const), {});
});

test('LineSpill appends lines to partition files; partitionCount is a power of two covering the input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-spill-'));
  try {
    const spill = new LineSpill([join(dir, 'p0'), join(dir, 'p1')]);
    for (let i = 0; i < 1000; i++) await spill.append(i % 2, `{"i":${i}}`);
    await spill.close();
    assert.deepEqual(spill.lines, [500, 500]);
    const got: string[] = [];
    for await (const { text } of jsonlLines(join(dir, 'p1'))) got.push(text);
    assert.deepEqual(
      got,
      Array.from({ length: 500 }, (_, k) => `{"i":${2 * k + 1}}`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(
    [partitionCount(0, 10), partitionCount(10, 10), partitionCount(11, 10), partitionCount(1000, 10)],
    [1, 1, 2, 128],
  );
});

test('LineSpill with many partitions: small buffers, files opened per flush, every line in its file in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-spill-'));
  try {
    const k = 300;
    const spill = new LineSpill(
      Array.from({ length: k }, (_, p) => join(dir, `p${p}`)),
      k * 4096,
    );
    const pad = 'x'.repeat(100);
    for (let i = 0; i < k * 50; i++) await spill.append((i * 7) % k, `{"i":${i},"pad":"${pad}"}`);
    await spill.close();
    assert.deepEqual(
      spill.lines,
      Array.from({ length: k }, () => 50),
    );
    for (const p of [0, 1, 299]) {
      const got: string[] = [];
      for await (const { text } of jsonlLines(join(dir, `p${p}`))) got.push(text);
      const want = Array.from({ length: k * 50 }, (_, i) => i)
        .filter((i) => (i * 7) % k === p)
        .map((i) => `{"i":${i},"pad":"${pad}"}`);
      assert.deepEqual(got, want);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
