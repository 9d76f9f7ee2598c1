import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoQueue } from '../../tasks/lib/fifo-queue.ts';
import { Budget } from '../../tasks/lib/safety/budget.ts';
import { CleanMemo } from '../../tasks/lib/safety/clean-memo.ts';

test('FifoQueue: oldest first across compactions, size tracks pushes and shifts, empty gives undefined', () => {
  const q = new FifoQueue<number>();
  assert.equal(q.shift(), undefined);
  const want: number[] = [];
  const got: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    q.push(i);
    want.push(i);
    if (i % 3 !== 0) got.push(q.shift() as number); // the head passes 1024 many times: compaction runs
  }
  assert.equal(q.size, want.length - got.length);
  for (let x = q.shift(); x !== undefined; x = q.shift()) got.push(x);
  assert.deepEqual(got, want);
  assert.equal(q.size, 0);
});

test('CleanMemo: keeps at most maxChars of strings, evicting the oldest first; a remembered string charges its cost', () => {
  const memo = new CleanMemo(4, 64 * 16); // strings up to 64 chars, 1,024 chars in all
  const s = (i: number): string => `clean string number ${String(i).padStart(40, '0')}`; // 60 chars
  for (let i = 0; i < 100; i++) memo.remember(s(i), 100 + i);
  const budget = new Budget(1_000_000);
  const kept = Array.from({ length: 100 }, (_, i) => i).filter((i) => memo.replay(s(i), budget));
  assert.deepEqual(
    kept,
    Array.from({ length: 17 }, (_, i) => 83 + i),
    '17 × 60 chars fit in 1,024: the newest 17',
  );
  assert.equal(
    budget.spent,
    kept.reduce((a, i) => a + 100 + i, 0),
  );
});
