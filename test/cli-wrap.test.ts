import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wrapWords } from '../tasks/cli/wrap.ts';

test('wrapWords: greedy fill, no line past the width, words kept whole when they fit', () => {
  assert.equal(wrapWords('the quick brown fox jumps', 10), 'the quick\nbrown fox\njumps');
  assert.equal(wrapWords('exactly10c next', 10), 'exactly10c\nnext');
  assert.equal(wrapWords('', 10), '');
});

test('wrapWords: a word longer than a line is cut into pieces of the width', () => {
  assert.equal(wrapWords('ab reports/replay/eval.json cd', 8), 'ab\nreports/\nreplay/e\nval.json\ncd');
});

test('wrapWords: spaces inside a line are kept, none at either end; line feeds are kept', () => {
  assert.equal(wrapWords('  --root DIR   project root  ', 40), '--root DIR   project root');
  assert.equal(wrapWords('--root DIR   project root', 12), '--root DIR\nproject root');
  assert.equal(wrapWords('one\ntwo three', 8), 'one\ntwo\nthree');
});

test('wrapWords: on many texts, lines fit and the words come back in order', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 300; i++) {
    const words = Array.from({ length: 1 + rnd(30) }, () =>
      'x'.repeat(1 + rnd(25)).replace(/x/g, () => 'abcé'[rnd(4)] as string),
    );
    const width = 1 + rnd(30);
    const text = words.join(' '.repeat(1 + rnd(2)));
    const lines = wrapWords(text, width).split('\n');
    for (const l of lines) {
      assert.ok([...l].length <= width, `line "${l}" is longer than ${width}`);
      assert.equal(l, l.trim());
    }
    assert.equal(lines.join('').replace(/ /g, ''), words.join(''));
  }
});
