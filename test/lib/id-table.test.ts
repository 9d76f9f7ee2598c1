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

test('IdTable: its arrays make the same table again (as build-evidence persists it), and remap rewrites or removes ids', () => {
  const t = new IdTable();
  for (let i = 0; i < 5_000; i++) t.set(id(i), i % 50, i + 1);
  assert.equal(t.otherIds, 0);
  t.set('odd-id', 1, 2);
  assert.equal(t.otherIds, 1, 'ids of another shape are counted (they are not in the arrays)');
  const { keys, vals, used } = t.arrays();
  const copy = IdTable.fromArrays(new Uint32Array(keys), new Uint32Array(vals), new Uint8Array(used));
  assert.equal(copy.size, 5_000);
  for (let i = 0; i < 5_000; i++) assert.deepEqual(copy.get(id(i)), [i % 50, i + 1]);
  assert.throws(() => IdTable.fromArrays(new Uint32Array(3), new Uint32Array(2), new Uint8Array(1)));
  // the file numbers of a later build; every id of file 7 gone
  copy.remap((a, b) => (a === 7 ? null : [a + 100, (b | 0x80000000) >>> 0]));
  assert.equal(copy.size, 5_000 - 100);
  for (let i = 0; i < 5_000; i++)
    assert.deepEqual(
      copy.get(id(i)),
      i % 50 === 7 ? undefined : [(i % 50) + 100, (i + 1 + 0x80000000) >>> 0],
    );
  copy.set(id(7), 1, 1); // a removed id can be stored again
  assert.deepEqual(copy.get(id(7)), [1, 1]);
});
