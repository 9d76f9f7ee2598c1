import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanDuration, progressLine } from '../../tasks/lib/log.ts';

test('progress line: count of the total with its unit, share, rows/s and the time left', () => {
  assert.equal(
    progressLine('score', 412_330, 1_000_000, 'evidence rows', 10_000),
    'score: 412,330 / 1,000,000 evidence rows (41 %) · 41,233 rows/s · ~14 s left',
  );
  assert.equal(
    progressLine('screen', 100_000, 1_000_000, 'rows', 20_000),
    'screen: 100,000 / 1,000,000 rows (10 %) · 5,000 rows/s · ~3 min 00 s left',
  );
});

test('progress line: no total gives no share and no estimate; under a second gives no rate yet', () => {
  assert.equal(
    progressLine('build-evidence', 250_000, null, 'source rows', 5_000),
    'build-evidence: 250,000 source rows · 50,000 rows/s',
  );
  assert.equal(progressLine('score', 10, 100, 'rows', 500), 'score: 10 / 100 rows (10 %)');
  assert.equal(progressLine('score', 100, 100, 'rows', 5000), 'score: 100 / 100 rows (100 %) · 20 rows/s');
});

test('durations for people', () => {
  assert.deepEqual([0, 999, 14_400, 60_000, 185_000, 3_720_000].map(humanDuration), [
    '0 s',
    '1 s',
    '14 s',
    '1 min 00 s',
    '3 min 05 s',
    '1 h 02 min',
  ]);
});
