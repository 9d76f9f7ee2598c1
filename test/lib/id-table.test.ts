import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IdTable } from '../../tasks/phases/build-evidence/id-table.ts';

const id = (i: number): string => `ev_${createHash('sha256').update(String(i)).digest('hex').slice(0, 24)}`;

test('IdTable stores two numbers per evidence id, through growth, like a Map', () => {
  const t = new IdTable();
  const m = new Map<string, [number, number]>();
  for (let i = 0; i < 20_000; i++) {
    const k = i % 7 === 0 ? `odd-id-${i}` : id(i % 15_000); // repeats replace; other shapes go to the fallback Map
    const v: [number, number] = [i, (i * 31) >>> 0];
    t.set(k, v[0], v[1]);
    m.set(k, v);
  }
  assert.equal(t.size, m.size);
  for (const [k, v] of m) assert.deepEqual(t.get(k), v);
  assert.equal(t.get(id(99_999)), undefined);
  assert.equal(t.get('ev_nothex'), undefined);
});
