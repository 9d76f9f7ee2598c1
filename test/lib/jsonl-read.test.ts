import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonlLines } from '../../tasks/lib/jsonl-read.ts';

/** What jsonlLines must give for a file's text: each non-empty line with its 0-based number. */
function expected(text: string): { text: string; line: number }[] {
  const parts = text.split('\n');
  if (text.endsWith('\n')) parts.pop();
  return parts.map((t, line) => ({ text: t, line })).filter((x) => x.text !== '');
}

test('jsonlLines gives every non-empty line with its number, whatever the chunk size (lines and multi-byte characters across chunks, blank lines, no final newline)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-jsonl-read-'));
  try {
    let seed = 11;
    const rnd = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const pieces = ['{"a":1}', 'é', '😀', '中文', 'x'.repeat(40), '', '\\n', '"'];
    for (let f = 0; f < 6; f++) {
      const lines = Array.from({ length: 30 + rnd(40) }, () =>
        Array.from({ length: rnd(6) }, () => pieces[rnd(pieces.length)]).join(''),
      );
      const text = lines.join('\n') + (f % 2 === 0 ? '\n' : '');
      const path = join(dir, `f${f}.jsonl`);
      writeFileSync(path, text);
      for (const chunk of [1, 2, 3, 5, 7, 16, 64, 1 << 20]) {
        const got: { text: string; line: number }[] = [];
        for await (const x of jsonlLines(path, chunk)) got.push(x);
        assert.deepEqual(got, expected(text), `file ${f}, chunk ${chunk}`);
      }
    }
    // an empty file, and a consumer that stops early (a read still in flight must not surface)
    writeFileSync(join(dir, 'empty.jsonl'), '');
    for await (const _ of jsonlLines(join(dir, 'empty.jsonl'))) assert.fail('an empty file has no line');
    writeFileSync(join(dir, 'many.jsonl'), Array.from({ length: 1000 }, (_, i) => `{"i":${i}}`).join('\n'));
    const first: string[] = [];
    for await (const { text } of jsonlLines(join(dir, 'many.jsonl'), 8)) {
      first.push(text);
      if (first.length === 3) break;
    }
    assert.deepEqual(first, ['{"i":0}', '{"i":1}', '{"i":2}']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jsonlLines reads a file longer than its size at open (a pipe, a /proc file of size 0) in chunks, not byte by byte', async (t) => {
  if (process.platform === 'win32') return t.skip('no mkfifo');
  // the buffers are sized to the file's size at open (size + 1): a pipe's size is 0, and one-byte
  // reads with a line carried over byte by byte took seconds for a line of 80 KB
  const dir = mkdtempSync(join(tmpdir(), 'distill-jsonl-fifo-'));
  try {
    const fifo = join(dir, 'rows.jsonl');
    execFileSync('mkfifo', [fifo]);
    const text = `{"x":"${'y'.repeat(70_000)}"}\n{"i":1}\nlast`;
    const writer = (async () => {
      const fh = await fsp.open(fifo, 'w'); // waits for the reader to open its end
      await fh.writeFile(text);
      await fh.close();
    })();
    let reads = 0;
    const got: { text: string; line: number }[] = [];
    for await (const x of jsonlLines(fifo, 1 << 20, () => reads++)) got.push(x);
    await writer;
    assert.deepEqual(got, expected(text));
    assert.ok(reads <= 64, `${reads} reads for ${text.length} bytes`);
    if (existsSync('/proc/self/status')) {
      reads = 0;
      const proc: string[] = [];
      for await (const x of jsonlLines('/proc/self/status', 1 << 20, () => reads++)) proc.push(x.text);
      assert.ok(
        proc.some((l) => l.startsWith('Name:')),
        proc.join('\n'),
      );
      assert.ok(reads <= 4, `${reads} reads of /proc/self/status`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
