import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoQueue } from '../../tasks/lib/fifo-queue.ts';
import { Budget } from '../../tasks/lib/safety/budget.ts';
import { CleanMemo, DecisionMemo } from '../../tasks/lib/safety/clean-memo.ts';

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

test('CleanMemo: keeps at most maxEntries strings, evicting the oldest first; a remembered string charges its cost', () => {
  const memo = new CleanMemo(4, 17);
  // short strings (their own key) and long ones (keyed by their sha256) alike
  const s = (i: number): string =>
    i % 2 === 0 ? `clean string number ${i}` : `long clean string ${i} `.padEnd(300 + i, '.');
  for (let i = 0; i < 100; i++) memo.remember(s(i), 100 + i);
  const budget = new Budget(1_000_000);
  const kept = Array.from({ length: 100 }, (_, i) => i).filter((i) => memo.replay(s(i), budget));
  assert.deepEqual(
    kept,
    Array.from({ length: 17 }, (_, i) => 83 + i),
    'the newest 17',
  );
  assert.equal(
    budget.spent,
    kept.reduce((a, i) => a + 100 + i, 0),
  );
  // another long string, one character apart from a remembered one, is not remembered
  assert.equal(memo.replay(`${s(99).slice(0, -1)}!`, budget), false);
  // nor is a string shorter than minChars, or one that does not fit the budget
  memo.remember('abc', 1);
  assert.equal(memo.replay('abc', budget), false);
  const tight = new Budget(150);
  assert.equal(memo.replay(s(99), tight), false, 'its cost (199) does not fit a budget of 150');
  assert.equal(tight.spent, 0);
});

test('CleanMemo: a short string that starts with U+0001 is never taken for the hash key of a long string', () => {
  const memo = new CleanMemo(1, 100);
  const long = 'x'.repeat(500);
  memo.remember(long, 5);
  const budget = new Budget(1_000_000);
  assert.equal(memo.replay(long, budget), true);
  // the memo's key of `long` is U+0001 + its sha256 in base64url: that very text, given as a string, is another string
  const lookalike = `\u0001${createHash('sha256').update(long).digest('base64url')}`;
  assert.equal(memo.replay(lookalike, budget), false);
});

test('DecisionMemo: long strings that differ only in a lone surrogate (or U+FFFD) have keys of their own', () => {
  const memo = new DecisionMemo<string>(0, 100);
  const base = 'id-'.padEnd(200, 'x');
  // UTF-8 writes every lone surrogate as U+FFFD: a hash of the UTF-8 would give these four one key
  const variants = [`${base}\uFFFD`, `${base}\uD800`, `${base}\uDBFF`, `${base}\uDC00`];
  memo.remember(variants[0] as string, 'first', 1);
  const budget = new Budget(1_000_000);
  assert.equal(memo.replay(variants[0] as string, budget), 'first');
  for (const v of variants.slice(1))
    assert.equal(memo.replay(v, budget), undefined, JSON.stringify(v.slice(-1)));
  memo.remember(variants[1] as string, 'second', 1);
  assert.equal(memo.replay(variants[1] as string, budget), 'second');
  assert.equal(memo.replay(variants[2] as string, budget), undefined);
  // short strings are their own key, whatever their first character
  for (const s of ['', '\u0000a', '\u0001a', '\u0002a', '\u0003a']) memo.remember(s, `v${s}`, 0);
  for (const s of ['', '\u0000a', '\u0001a', '\u0002a', '\u0003a'])
    assert.equal(memo.replay(s, budget), `v${s}`);
});
