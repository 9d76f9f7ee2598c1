import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendRotating, logFileName } from '../../tasks/replay/log-rotation.ts';

const row = (i: number) => ({ i, pad: 'x'.repeat(20) }); // 37 bytes per line for i < 10, 38 up to 99
const lines = (path: string): number[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { i: number }).i);

test('logFileName: the live file and numbered rotations', () => {
  assert.equal(logFileName('calls'), 'calls.jsonl');
  assert.equal(logFileName('calls', 3), 'calls.3.jsonl');
});

test('rotation keeps N files: calls.jsonl plus calls.1 … calls.N, each under max_bytes, newest rows last, nothing older kept', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-rot-'));
  for (let i = 0; i < 42; i++)
    await appendRotating(root, 'reports/replay', 'calls', [row(i)], { maxBytes: 120, keep: 2 });
  const dir = join(root, 'reports/replay');
  assert.deepEqual(readdirSync(dir).sort(), ['calls.1.jsonl', 'calls.2.jsonl', 'calls.jsonl']);
  for (const f of readdirSync(dir))
    assert.ok(statSync(join(dir, f)).size <= 120, `${f} is ${statSync(join(dir, f)).size} bytes`);
  // three rows fit in 120 bytes: the kept files hold the last 9 of 42 rows, oldest in calls.2
  assert.deepEqual(lines(join(dir, 'calls.2.jsonl')), [33, 34, 35]);
  assert.deepEqual(lines(join(dir, 'calls.1.jsonl')), [36, 37, 38]);
  assert.deepEqual(lines(join(dir, 'calls.jsonl')), [39, 40, 41]);
  assert.deepEqual(readdirSync(join(root, '.distill', 'locks')), [], 'the lock is released');
});

test('keep 0 restarts the live file; a row larger than max_bytes is still written, alone', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-rot-'));
  for (let i = 0; i < 5; i++)
    await appendRotating(root, 'logs', 'calls', [row(i)], { maxBytes: 80, keep: 0 });
  assert.deepEqual(readdirSync(join(root, 'logs')), ['calls.jsonl']);
  assert.deepEqual(lines(join(root, 'logs', 'calls.jsonl')), [4]);
  const big = { i: 99, pad: 'y'.repeat(500) };
  await appendRotating(root, 'logs', 'calls', [big], { maxBytes: 80, keep: 1 });
  assert.deepEqual(readdirSync(join(root, 'logs')).sort(), ['calls.1.jsonl', 'calls.jsonl']);
  assert.deepEqual(lines(join(root, 'logs', 'calls.jsonl')), [99]);
  assert.deepEqual(lines(join(root, 'logs', 'calls.1.jsonl')), [4]);
});

test('concurrent appends are serialised by the lock: no row is lost or torn', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-rot-'));
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      appendRotating(root, 'logs', 'calls', [row(i)], { maxBytes: 200, keep: 100 }),
    ),
  );
  const all = readdirSync(join(root, 'logs')).flatMap((f) => lines(join(root, 'logs', f)));
  assert.deepEqual(
    all.sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i),
  );
});
