import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
