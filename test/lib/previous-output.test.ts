import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { previousLines, StalePrevious } from '../../tasks/lib/previous-output.ts';

const published = '{"a":1}\n{"b":2}\n';
const entry = {
  path: 'out.jsonl',
  sha256: createHash('sha256').update(published).digest('hex'),
  bytes: Buffer.byteLength(published),
  rows: 2,
};

async function read(text: string): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'distill-previous-'));
  writeFileSync(join(root, entry.path), text);
  const out: string[] = [];
  for await (const line of previousLines(root, entry, 'the manifest')) out.push(line);
  return out;
}

test('previousLines gives the lines of the file its manifest entry names', async () => {
  assert.deepEqual(await read(published), ['{"a":1}', '{"b":2}']);
});

test('previousLines refuses a file whose lines are the same but whose bytes are not: no final newline, a blank line, CRLF', async () => {
  for (const text of ['{"a":1}\n{"b":2}', '{"a":1}\n\n{"b":2}\n', '{"a":1}\r\n{"b":2}\r\n'])
    await assert.rejects(read(text), (e: Error) => {
      assert.ok(e instanceof StalePrevious, JSON.stringify(text));
      assert.equal(e.message, 'out.jsonl does not match the manifest');
      return true;
    });
});
