import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveBuild, SpilledJson, type ShardRecord } from '../../tasks/lib/export/shards.ts';

// saveBuild copies a value spilled to disk (SpilledJson: a file holding its JSON text) into the
// state file in its place: the file is byte for byte the state written from memory
// (export-preference spills each decided day's outcome sides instead of holding them all).

const STATE = join('.distill', 'cache', 'exports', 'x.json');

test('a spilled value is written as the same bytes as the value held in memory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-state-spill-'));
  try {
    const sides = (day: number): unknown[] => [
      [`tr_${day}`, 'prompt:a"b\\c', null, 12, 34, 1, 'aa'.repeat(16), 'bb'.repeat(16), 0, []],
      [
        `tr_${day}b`,
        `ünï ${'\u0000'}spilled-x:0 "\u2028`,
        `tr_${day}`,
        2 ** 33,
        7,
        0,
        'cc'.repeat(16),
        'dd'.repeat(16),
        1,
        [`tr_${day}`],
      ],
    ];
    const records = (spill: boolean): Map<string, ShardRecord<{ sides: unknown; n: number }>> => {
      const m = new Map<string, ShardRecord<{ sides: unknown; n: number }>>();
      for (const day of [3, 1, 2]) {
        let value: unknown = sides(day);
        if (spill) {
          const path = join(root, `sides-${day}.json`);
          writeFileSync(path, JSON.stringify(value));
          value = new SpilledJson(path);
        }
        m.set(`2026-10-0${day}`, { input: `in${day}`, data: { sides: value, n: day } });
      }
      return m;
    };
    await saveBuild(root, 'x', { a: 1 }, '{}', records(false), { pairing: 'p' });
    const inMemory = readFileSync(join(root, STATE), 'utf8');
    rmSync(join(root, STATE));
    await saveBuild(root, 'x', { a: 1 }, '{}', records(true), { pairing: 'p' });
    const spilled = readFileSync(join(root, STATE), 'utf8');
    assert.ok(inMemory.includes('"tr_2b"'), 'the sides are in the state');
    assert.equal(spilled, inMemory);
    assert.deepEqual(
      readdirSync(join(root, '.distill', 'cache', 'exports')),
      ['x.json'],
      'no temp file left',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
