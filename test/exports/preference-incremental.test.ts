import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DistillConfig } from '../../schemas/config.ts';
import type { KtoSample } from '../../schemas/kto-sample.ts';
import type { PreferenceSample } from '../../schemas/preference-sample.ts';
import type { ScoredRun } from '../../schemas/scored-run.ts';
import type { ToolDef } from '../../schemas/chat.ts';
import type { EvidenceRecord } from '../../schemas/evidence-record.ts';
import { exportPreference } from '../../tasks/phases/export-preference/run.ts';
import {
  addPacked,
  newTally,
  packTally,
  type PackedTally,
} from '../../tasks/phases/export-preference/tally.ts';
import { treeHashes } from '../helpers/project.ts';
import { makeProject, mkJudgment, mkRun, readRows, writeEvidence, writeScored } from './fixture.ts';

// Incremental export-preference (docs/exports.md, "Incremental builds" and "Preference"): pairs
// are mined per task across days, a pair lives in the shard of the latest run it names, a KTO row
// in its run's day, and the per-task cap takes candidates in a fixed order over the runs sorted by
// run_id (the zip first). So a run added on a new day can change the rows of an older day. Each
// case builds, changes the screened days, builds again, and compares every file of
// exports/preference/ with a cold build of the same inputs in another project.

type Days = Record<string, readonly ScoredRun[]>;

const day = (d: string): string => `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/runs.jsonl`;

/** Writes the screened runs of each day (`YYYY-MM-DD` → runs) and the judgments. */
async function writeDays(root: string, days: Days, evidence: Record<string, readonly EvidenceRecord[]>) {
  await writeScored(root, Object.fromEntries(Object.entries(days).map(([d, runs]) => [day(d), runs])));
  await writeEvidence(root, evidence);
}

async function build(root: string, config: DistillConfig): Promise<string> {
  return (await exportPreference(root, config)).summary;
}

/** exports/preference/ of a cold build of these inputs, in a project of its own. */
async function coldHashes(
  days: Days,
  evidence: Record<string, readonly EvidenceRecord[]>,
  cap: number,
): Promise<Record<string, string>> {
  const { root, config } = await makeProject({ preference_cap_per_task: cap });
  await writeDays(root, days, evidence);
  const summary = await build(root, config);
  assert.doesNotMatch(summary, /incremental/);
  return treeHashes(join(root, 'exports/preference'));
}

function assertSame(root: string, want: Record<string, string>): void {
  const got = treeHashes(join(root, 'exports/preference'));
  assert.deepEqual(Object.keys(got), Object.keys(want), 'the same files');
  for (const [path, hash] of Object.entries(want)) assert.equal(got[path], hash, path);
}

const judgments = {
  'judgments.jsonl': [mkJudgment('j1', 'Greet me', 'Hello there, how can I help?', 'What?')],
};

// Day 1 (2024-05-01): task T has accepted a-2 and rejected r-1: with a cap of 1 they make the
// task's one pair, in 2024-05-01. 2024-04-30 holds an unrelated task (one accepted run: a KTO row).
const base: Days = {
  '2024-04-30': [mkRun({ id: 'u-1', category: 'accepted', task: 'U' })],
  '2024-05-01': [
    mkRun({ id: 'a-2', category: 'accepted', task: 'T' }),
    mkRun({ id: 'r-1', category: 'rejected', task: 'T' }),
  ],
};
// Day 2 (2024-05-02): accepted a-1 joins task T. Accepted runs sorted by run_id are [a-1, a-2], the
// zip takes (a-1, r-1) first and the cap stops there: the pair moves to 2024-05-02 (its latest
// run), and a-2 becomes a KTO row of 2024-05-01.
const withDay2: Days = { ...base, '2024-05-02': [mkRun({ id: 'a-1', category: 'accepted', task: 'T' })] };

test('a new run that joins an old task moves the capped pair: the old day is written again, other shards linked, same bytes as cold', async () => {
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  await writeDays(root, base, judgments);
  assert.doesNotMatch(await build(root, config), /incremental/, 'a first build is cold');
  const pairsBefore = await readRows<PreferenceSample>(
    root,
    'exports/preference/chosen_rejected/2024-05-01.jsonl',
  );
  assert.deepEqual(
    pairsBefore.map((p) => [p.chosen_id, p.rejected_id]),
    [['a-2', 'r-1']],
  );
  const inode = (rel: string): number => statSync(join(root, 'exports/preference', rel)).ino;
  const untouched = inode('unpaired_kto/2024-04-30.jsonl');
  const evidence = inode('chosen_rejected/evidence.jsonl');

  await writeDays(root, withDay2, judgments);
  const summary = await build(root, config);
  assert.match(summary, /incremental: 2 shards built, 2 unchanged reused; 1 of 2 task groups mined again/);
  assert.deepEqual(
    (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected/2024-05-02.jsonl')).map(
      (p) => [p.chosen_id, p.rejected_id],
    ),
    [['a-1', 'r-1']],
    'the pair is in the shard of its latest run',
  );
  assert.deepEqual(await readRows(root, 'exports/preference/chosen_rejected/2024-05-01.jsonl'), []);
  assert.deepEqual(
    (await readRows<KtoSample>(root, 'exports/preference/unpaired_kto/2024-05-01.jsonl')).map((k) => [
      k.run_id,
      k.label,
    ]),
    [['a-2', true]],
    'the run past the cap is a KTO row of its own day',
  );
  assert.equal(
    inode('unpaired_kto/2024-04-30.jsonl'),
    untouched,
    'an unchanged shard is linked, not written',
  );
  assert.equal(inode('chosen_rejected/evidence.jsonl'), evidence, 'unchanged judgments are linked');
  assertSame(root, await coldHashes(withDay2, judgments, 1));
  const manifest = JSON.parse(
    await fsp.readFile(join(root, 'exports/preference/_manifest.json'), 'utf8'),
  ) as {
    counts: Record<string, number>;
  };
  assert.equal(
    manifest.counts['pairs_capped'],
    1,
    'the counts are a cold build’s (a-2 × r-1 left out by the cap)',
  );

  // and back: the day removed again gives day 1's rows again
  await writeDays(root, base, judgments);
  assert.match(await build(root, config), /incremental/);
  assertSame(root, await coldHashes(base, judgments, 1));
});

test('a new run that links two old tasks by escalated_from, and three days added one at a time, end as a cold build', async () => {
  const shared = { prompt: 'Book the flight to Oslo.' };
  const days: Days = {
    '2024-05-01': [
      mkRun({ id: 'b-1', category: 'rejected', task: 'B', ...shared }),
      mkRun({ id: 'c-1', category: 'accepted', task: 'C' }),
    ],
    // an accepted retry of b-1 under another task_key: joined to b-1's group, with the same opening: a pair
    '2024-05-02': [mkRun({ id: 'e-1', category: 'accepted', task: 'E', escalatedFrom: 'b-1', ...shared })],
    '2024-05-03': [
      mkRun({ id: 'c-0', category: 'rejected', task: 'C' }),
      mkRun({
        id: 'p-1',
        category: 'partially_accepted',
        task: 'P',
        correction: 'The corrected answer, in full.',
      }),
      mkRun({ id: 'n-1', category: 'needs_human_review', task: 'C' }),
    ],
    '2024-05-04': [mkRun({ id: 'b-2', category: 'accepted', task: 'B', ...shared })],
  };
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  const order = Object.keys(days);
  await writeDays(root, { [order[0] as string]: days[order[0] as string] as ScoredRun[] }, judgments);
  await build(root, config);
  for (let i = 1; i < order.length; i++) {
    const now = Object.fromEntries(order.slice(0, i + 1).map((d) => [d, days[d] as ScoredRun[]]));
    await writeDays(root, now, judgments);
    assert.match(await build(root, config), /incremental: \d+ shards built, [1-9]\d* unchanged reused/);
    assertSame(root, await coldHashes(now, judgments, 1));
    const pairs = (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected')).map((p) => [
      p.chosen_id,
      p.rejected_id,
    ]);
    // 2024-05-02: the escalation joins e-1 to b-1's task, same opening: a pair. 2024-05-04: b-2
    // joins too; accepted [b-2, e-1] by run_id, the zip takes (b-2, b-1) first, and the cap is 1.
    if (order[i] === '2024-05-02') assert.ok(pairs.some(([c, r]) => c === 'e-1' && r === 'b-1'));
    if (order[i] === '2024-05-04') assert.ok(pairs.some(([c, r]) => c === 'b-2' && r === 'b-1'));
  }
});

test('a backfilled day older than every built day ends as a cold build', async () => {
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  const later: Days = {
    '2024-05-01': withDay2['2024-05-01'] as ScoredRun[],
    '2024-05-02': withDay2['2024-05-02'] as ScoredRun[],
  };
  await writeDays(root, later, judgments);
  await build(root, config);
  const all: Days = { '2024-04-29': [mkRun({ id: 'a-0', category: 'accepted', task: 'T' })], ...later };
  await writeDays(root, all, judgments);
  assert.match(await build(root, config), /incremental/);
  assertSame(root, await coldHashes(all, judgments, 1));
});

test('a shard edited by hand is written again; a deleted state, a changed cap or a new tools column build whole, with the reason', async () => {
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  await writeDays(root, withDay2, judgments);
  await build(root, config);
  const want = await coldHashes(withDay2, judgments, 1);

  const kto = join(root, 'exports/preference/unpaired_kto/2024-04-30.jsonl');
  const before = await fsp.readFile(kto, 'utf8');
  await fsp.writeFile(kto, before.replace('"label":true', '"label":false'));
  assert.match(await build(root, config), /incremental: 1 shards built, 3 unchanged reused/);
  assert.equal(await fsp.readFile(kto, 'utf8'), before, 'the edited shard was built again from its input');
  assertSame(root, want);

  await fsp.rm(join(root, '.distill/cache/exports/export-preference.json'));
  assert.match(await build(root, config), /built whole: no state of the last build/);
  assertSame(root, want);

  const cap2 = { ...config, exports: { ...config.exports, preference_cap_per_task: 2 } };
  assert.match(await build(root, cap2), /built whole: the parameters changed \(preference_cap_per_task\)/);
  assertSame(root, await coldHashes(withDay2, judgments, 2));

  const tool: ToolDef = {
    type: 'function',
    function: {
      name: 'lookup',
      description: 'Looks a thing up.',
      parameters: { type: 'object', properties: {} },
    },
  };
  const withTools: Days = {
    ...withDay2,
    '2024-05-03': [mkRun({ id: 't-1', category: 'accepted', task: 'W', tools: [tool] })],
  };
  await writeDays(root, withTools, judgments);
  assert.match(await build(root, cap2), /built whole: whether any row declares tools changed/);
  assertSame(root, await coldHashes(withTools, judgments, 2));
});

test('tallies kept in the state add up to the counts of the rows they stand for', () => {
  const a = newTally();
  a.stats.runs_in = 3;
  a.stats.pairs_outcome = 1;
  a.pairs.train = 1;
  a.pairTools = true;
  a.units['NO_SUBSTANCE'] = 2;
  const b = newTally();
  b.stats.runs_kto = 2;
  b.kto.test = 2;
  b.pairTools = true;
  b.candidates['PARTED_BY_INPUT'] = 1;
  const total = newTally();
  for (const t of [a, b]) addPacked(total, JSON.parse(JSON.stringify(packTally(t))) as PackedTally);
  assert.equal(total.stats.runs_in, 3);
  assert.equal(total.stats.runs_kto, 2);
  assert.equal(total.stats.pairs_outcome, 1);
  assert.deepEqual(
    [total.pairs, total.kto],
    [
      { train: 1, test: 0 },
      { train: 0, test: 2 },
    ],
  );
  assert.equal(total.pairTools, true);
  assert.equal(total.ktoTools, false, 'no KTO row declares tools');
  assert.deepEqual([total.units, total.candidates], [{ NO_SUBSTANCE: 2 }, { PARTED_BY_INPUT: 1 }]);
});

test('judgments added, changed and removed: only the evidence shard is written again, same bytes and counts as cold', async () => {
  const before = {
    'judgments.jsonl': [
      mkJudgment('j1', 'Greet me', 'Hello there, how can I help?', 'What?'),
      mkJudgment('j2', 'Name a colour', 'Blue is a colour.', 'Seven.'),
      mkJudgment('j3', 'Say hi', 'Hi!', 'Hi!'), // equal sides: quarantined IDENTICAL_TEXT
    ],
  };
  const after = {
    'judgments.jsonl': [
      mkJudgment('j1', 'Greet me', 'Hello there, how can I help?', 'What?'),
      mkJudgment('j2', 'Name a colour', 'Red is a colour too.', 'Seven.'),
      mkJudgment('j4', 'Count to two', 'One, two.', 'Three.'),
    ],
  };
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  await writeDays(root, base, before);
  await build(root, config);
  await writeDays(root, base, after);
  assert.match(await build(root, config), /incremental: 1 shards built, 2 unchanged reused/);
  assertSame(root, await coldHashes(base, after, 1));
  const q = await readRows<{ record_id: string }>(root, 'exports/preference/_quarantine/evidence.jsonl');
  assert.deepEqual(q, [], 'the removed judgment left no row');
});
