import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileLines } from '../../tasks/lib/jsonl-read.ts';
import { Utf8Chunks } from '../../tasks/lib/utf8-chunks.ts';

/** Writes `lines` (a, or [a, b]) through a Utf8Chunks of `size` bytes; returns the chunks handed out. */
async function chunksOf(lines: (string | [string, string])[], size?: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const w = new Utf8Chunks(async (d) => {
    out.push(d);
  }, size);
  for (const l of lines) await (typeof l === 'string' ? w.line(l) : w.line(l[0], l[1]));
  await w.flush();
  return out;
}

const textOf = (lines: (string | [string, string])[]): string =>
  lines.map((l) => (typeof l === 'string' ? `${l}\n` : `${l[0]}\t${l[1]}\n`)).join('');

test('Utf8Chunks: the chunks, joined, are the lines as UTF-8, whatever the chunk size (multi-byte characters, lines longer than a chunk, pairs)', async () => {
  let seed = 5;
  const rnd = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const pieces = ['{"a":1}', 'é', '😀', '中文', 'x'.repeat(300), '', '\\t'];
  const lines: (string | [string, string])[] = Array.from({ length: 2000 }, (_, i) => {
    const s = Array.from({ length: rnd(8) }, () => pieces[rnd(pieces.length)]).join('');
    return i % 3 === 0 ? [s, `k${i}`] : s;
  });
  lines.push('y'.repeat(5000)); // longer than the small chunk sizes: written on its own
  for (const size of [64, 1000, 4096, undefined]) {
    const chunks = await chunksOf(lines, size);
    assert.equal(Buffer.concat(chunks).toString('utf8'), textOf(lines), `size ${size}`);
    if (size !== undefined)
      for (const c of chunks)
        if (c.length > size)
          assert.ok(c.toString('utf8').split('\n').length === 2, 'only a lone long line exceeds a chunk');
  }
});

test('Utf8Chunks: a writer of a few short lines holds a small chunk, not 1 MiB; a long run of lines grows its chunks to 1 MiB', async () => {
  // V8 counts each chunk's memory towards its next full collection: a 1 MiB chunk per small file
  // (one line cache per source file) made builds of many small files collect all the time
  const small = await chunksOf(['{"id":1}', '{"id":2}']);
  assert.equal(small.length, 1);
  assert.ok(
    (small[0] as Buffer).buffer.byteLength <= 16 * 1024,
    `${(small[0] as Buffer).buffer.byteLength} bytes held`,
  );
  const many = Array.from({ length: 40_000 }, (_, i) => `{"id":${i},"text":"${'z'.repeat(100)}"}`);
  const chunks = await chunksOf(many);
  assert.equal(Buffer.concat(chunks).toString('utf8'), textOf(many));
  const sizes = chunks.map((c) => c.buffer.byteLength);
  assert.equal(Math.max(...sizes), 1 << 20, 'chunks grow to the 1 MiB bound');
  assert.ok(sizes.length < 12, `${sizes.length} chunks for ~4.6 MB`);
});

test('Utf8Chunks: a line longer than the current chunk but within `size` gets a chunk of its own size (first line, after a flush, after a full chunk); flush() between lines hands out exactly the lines so far', async () => {
  // 16 KiB is the first chunk: lines of 10k-200k UTF-16 units (30-600 KB reserved) do not fit it
  const long = (n: number, c: string): string => c.repeat(n);
  const lines: (string | [string, string])[] = [
    long(100_000, 'a'), // first line, larger than the first chunk
    'short',
    [long(20_000, 'é'), long(20_000, '中')],
    long(50_000, '😀'),
    long(200_000, 'b'),
  ];
  assert.equal(Buffer.concat(await chunksOf(lines)).toString('utf8'), textOf(lines));
  const out: Buffer[] = [];
  const w = new Utf8Chunks(async (d) => {
    out.push(d);
  });
  for (const [i, l] of lines.entries()) {
    await (typeof l === 'string' ? w.line(l) : w.line(l[0], l[1]));
    if (i % 2 === 0) {
      await w.flush();
      const n = out.length;
      await w.flush(); // nothing buffered: nothing handed out
      assert.equal(out.length, n);
      assert.equal(
        Buffer.concat(out).toString('utf8'),
        textOf(lines.slice(0, i + 1)),
        `flushed after line ${i}`,
      );
    }
  }
  await w.flush();
  assert.equal(Buffer.concat(out).toString('utf8'), textOf(lines));
});

test('fileLines reads a file as readline does (LF and CRLF endings, a last line without newline, an empty file; a missing file is an error)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-file-lines-'));
  try {
    const cases: [string, string[]][] = [
      ['a\nb\r\nc', ['a', 'b', 'c']],
      ['é\n\n😀\n', ['é', '', '😀']],
      ['', []],
      [`${'x'.repeat(200_000)}\nq\n`, ['x'.repeat(200_000), 'q']],
      // characters of 2 and 4 bytes cut by the stream's 64 KiB reads; a lone CR ends a line, as in readline
      [
        `a${'é'.repeat(40_000)}\r\n${'😀'.repeat(20_000)}\rz`,
        [`a${'é'.repeat(40_000)}`, '😀'.repeat(20_000), 'z'],
      ],
    ];
    for (const [i, [text, want]] of cases.entries()) {
      const p = join(dir, `f${i}.jsonl`);
      writeFileSync(p, text);
      const got: string[] = [];
      for await (const l of fileLines(p)) got.push(l);
      assert.deepEqual(got, want, `case ${i}`);
    }
    await assert.rejects(async () => {
      for await (const _ of fileLines(join(dir, 'missing.jsonl'))) assert.fail('no line');
    }, /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
