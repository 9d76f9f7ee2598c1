import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ID_PARTS, IdTable } from '../../tasks/phases/build-evidence/id-table.ts';

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
  const parts = t.arrays();
  assert.equal(parts.length, ID_PARTS);
  const copy = IdTable.fromParts(
    parts.map((p) => ({
      keys: new Uint32Array(p.keys),
      vals: new Uint32Array(p.vals),
      used: new Uint8Array(p.used),
    })),
  );
  assert.equal(copy.size, 5_000);
  for (let i = 0; i < 5_000; i++) assert.deepEqual(copy.get(id(i)), [i % 50, i + 1]);
  const tiny = { keys: new Uint32Array(3), vals: new Uint32Array(2), used: new Uint8Array(1) };
  assert.throws(
    () => IdTable.fromParts(parts.map((p, i) => (i === 3 ? tiny : p))),
    /part 3 has arrays of the wrong size/,
  );
  assert.throws(() => IdTable.fromParts(parts.slice(1)), /255 parts/);
  // a part holding an id of another part (a damaged or reordered file) is refused, not misread
  const swapped = parts.map((p, i) => (i === 0 ? (parts[1] as (typeof parts)[number]) : p));
  if ((parts[1] as (typeof parts)[number]).used.some((u) => u === 1))
    assert.throws(() => IdTable.fromParts(swapped), /not of it/);
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

test('IdTable grows part by part: after 200,000 ids no part is over 80 % full, the table is over 60 % used, and the largest part is a small share of it', () => {
  const t = new IdTable();
  for (let i = 0; i < 200_000; i++) t.set(id(i), i, 0);
  assert.equal(t.size, 200_000);
  const parts = t.arrays();
  const slots = parts.map((p) => p.used.length);
  const total = slots.reduce((a, n) => a + n, 0);
  for (const p of parts) {
    const used = p.used.reduce((a, u) => a + u, 0);
    assert.ok(used <= p.used.length * 0.8, 'at most 80 % full');
  }
  assert.ok(200_000 / total > 0.6, `${total} slots for 200,000 ids`);
  // a doubling copies one part: the transient is that part, not the table
  assert.ok(Math.max(...slots) * 32 < total, `largest part ${Math.max(...slots)} of ${total} slots`);
  for (let i = 0; i < 200_000; i += 997) assert.deepEqual(t.get(id(i)), [i, 0]);
});
