import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inProcess } from './helpers/project.ts';

/** A project with one `rewards` source file holding exactly these lines (raw text). */
function rewardsProject(raw: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'distill-be-'));
  mkdirSync(join(dir, 'data/_kb/rewards'), { recursive: true });
  writeFileSync(join(dir, 'data/_kb/rewards/day.jsonl'), raw);
  writeFileSync(
    join(dir, 'distill.config.json'),
    JSON.stringify({
      schema_version: 1,
      as_of: '2026-11-01T00:00:00.000Z',
      future_skew_hours: 24,
      sources: [{ stream: 'rewards', adapter: 'reward', files: ['data/_kb/rewards/*.jsonl'] }],
    }),
  );
  return dir;
}

const row = (trace: string, timestamp: string, reward = 1) =>
  JSON.stringify({ trace_id: trace, timestamp, environment: 'env', reward });

interface QRow {
  reason: string;
  line_offset: number | null;
  byte_offset: number | null;
  detail: string;
  ref: string | null;
}

async function quarantine(dir: string): Promise<QRow[]> {
  const r = await inProcess(['build-evidence', '--root', dir]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(dir, 'data/evidence/_quarantine/rewards.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test('timestamps: invalid dates and times beyond as_of + skew are quarantined with their reasons', async () => {
  const lines = [
    row('t1', '2026-10-02T10:00:00Z'),
    row('t2', '2026-02-30T10:00:00Z'),
    row('t3', '2026-10-02T24:00:00Z'),
    row('t4', '2026-10-02 10:00'),
    row('t5', '2026-11-01T23:59:00Z'), // inside the 24 h skew
    row('t6', '2026-11-02T00:00:01Z'), // beyond it
  ];
  const q = await quarantine(rewardsProject(`${lines.join('\n')}\n`));
  assert.deepEqual(
    q.map((r) => [r.line_offset, r.reason]),
    [
      [1, 'INVALID_TIMESTAMP'],
      [2, 'INVALID_TIMESTAMP'],
      [3, 'INVALID_TIMESTAMP'],
      [5, 'FUTURE_TIMESTAMP'],
    ],
  );
  assert.match(q[0]?.detail ?? '', /day 30 does not exist in 2026-02/);
  assert.match(q[3]?.detail ?? '', /after as_of 2026-11-01T00:00:00.000Z \+ 24 h/);
});

test('a torn final line is TRUNCATED_FINAL_LINE; a complete final line without newline is kept', async () => {
  const complete = rewardsProject(
    `${row('t1', '2026-10-02T10:00:00Z')}\n${row('t2', '2026-10-02T11:00:00Z')}`,
  );
  assert.deepEqual(await quarantine(complete), []);
  const ev = readFileSync(join(complete, 'data/evidence/2026/10/02/rewards.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(ev.length, 2);
  assert.deepEqual(ev[1].flags, ['no_trailing_newline']);
  const first = row('t1', '2026-10-02T10:00:00Z');
  const torn = rewardsProject(`${first}\n${row('t2', '2026-10-02T11:00:00Z').slice(0, 30)}`);
  const q = await quarantine(torn);
  assert.deepEqual(
    q.map((r) => [r.line_offset, r.byte_offset, r.reason]),
    [[1, first.length + 1, 'TRUNCATED_FINAL_LINE']],
  );
});

test('an identical row twice is DUPLICATE_RECORD pointing at the kept copy; evidence is partitioned by day', async () => {
  const a = row('t1', '2026-10-02T10:00:00Z');
  const dir = rewardsProject(`${a}\n${row('t2', '2026-10-03T00:30:00+02:00')}\n${a}\n`);
  const q = await quarantine(dir);
  assert.equal(q.length, 1);
  assert.equal(q[0]?.reason, 'DUPLICATE_RECORD');
  assert.equal(q[0]?.line_offset, 2);
  assert.match(q[0]?.detail ?? '', /identical to the row at data\/_kb\/rewards\/day\.jsonl:1/);
  // +02:00 normalises to the previous UTC day
  const day2 = readFileSync(join(dir, 'data/evidence/2026/10/02/rewards.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    day2.map((r) => [r.trace_id, r.recorded_at, r.provenance.line_offset]),
    [
      ['t1', '2026-10-02T10:00:00.000Z', 0],
      ['t2', '2026-10-02T22:30:00.000Z', 1],
    ],
  );
});

test('an empty config match is a clear error, not an empty dataset', async () => {
  const dir = rewardsProject('');
  writeFileSync(
    join(dir, 'distill.config.json'),
    JSON.stringify({
      schema_version: 1,
      as_of: '2026-11-01T00:00:00.000Z',
      sources: [{ stream: 'rewards', adapter: 'reward', files: ['nothing/*.jsonl'] }],
    }),
  );
  const r = await inProcess(['build-evidence', '--root', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no source file matches any glob in distill.config.json/);
});
