import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, truncateSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  appendBaseline,
  BASELINE_FILE,
  BASELINE_HEAD,
  readBaseline,
} from '../../tasks/gates/audit/baseline.ts';
import { UserError } from '../../tasks/lib/result.ts';

async function threeRows(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'distill-baseline-'));
  for (let i = 1; i <= 3; i++) await appendBaseline(root, { audit: i, metrics: { sft_rows: 100 + i } });
  return root;
}

const chainBroken = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof UserError);
  assert.equal(e.code, 'AUDIT_CHAIN_BROKEN');
  assert.match(e.message, pattern);
  return true;
};

test('appends chained rows; the file only grows and every row hashes its predecessor', async () => {
  const root = await threeRows();
  const before = readFileSync(join(root, BASELINE_FILE));
  await appendBaseline(root, { audit: 4 });
  const after = readFileSync(join(root, BASELINE_FILE));
  assert.ok(after.subarray(0, before.length).equals(before), 'the old bytes are a prefix of the new file');
  const state = await readBaseline<{ audit: number }>(root);
  assert.deepEqual(
    state.rows.map((r) => [r.seq, r.entry.audit]),
    [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ],
  );
  assert.equal(state.rows[0]?.prev, '0'.repeat(64));
  assert.equal(JSON.parse(readFileSync(join(root, BASELINE_HEAD), 'utf8')).seq, 4);
});

test('an edited row is detected and named', async () => {
  const root = await threeRows();
  const path = join(root, BASELINE_FILE);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"sft_rows":102', '"sft_rows":999'));
  await assert.rejects(
    readBaseline(root),
    chainBroken(/no longer hash to the recorded value: a row was edited/),
  );
  // without the head, the chain itself names the row after the edited one
  rmSync(join(root, BASELINE_HEAD));
  await assert.rejects(
    readBaseline(root),
    chainBroken(/row 3 of data\/_kb\/audit_baselines\.jsonl does not chain to row 2/),
  );
});

test('truncation by whole rows and a removed middle row are detected', async () => {
  const root = await threeRows();
  const path = join(root, BASELINE_FILE);
  const lines = readFileSync(path, 'utf8').split('\n');
  writeFileSync(path, `${lines.slice(0, 2).join('\n')}\n`);
  await assert.rejects(readBaseline(root), chainBroken(/was truncated/));
  const root2 = await threeRows();
  const p2 = join(root2, BASELINE_FILE);
  const l2 = readFileSync(p2, 'utf8').split('\n');
  writeFileSync(p2, `${[l2[0], l2[2]].join('\n')}\n`);
  rmSync(join(root2, BASELINE_HEAD));
  await assert.rejects(
    readBaseline(root2),
    chainBroken(/row 2 .* has seq 3: a row was removed or reordered/),
  );
});

test('a torn partial last row from a crash during append is cut off; appending then continues the chain', async () => {
  const root = await threeRows();
  const path = join(root, BASELINE_FILE);
  const good = readFileSync(path).length;
  appendFileSync(path, '{"seq":4,"prev":"ab');
  const state = await readBaseline(root);
  assert.equal(state.recoveredTail, 19);
  assert.equal(readFileSync(path).length, good);
  await appendBaseline(root, { audit: 4 });
  assert.equal((await readBaseline(root)).rows.length, 4);
  // a partial row inside the recorded length is truncation, not a torn append
  truncateSync(path, good - 5);
  await assert.rejects(readBaseline(root), chainBroken(/truncated/));
});

test('a deleted baseline with a head that records rows is refused, never recreated', async () => {
  const root = await threeRows();
  rmSync(join(root, BASELINE_FILE));
  await assert.rejects(readBaseline(root), chainBroken(/missing .* records 3 rows/));
  await assert.rejects(appendBaseline(root, { audit: 9 }), chainBroken(/missing/));
});
