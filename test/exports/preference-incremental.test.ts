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

// Incremental export-preference (docs/exports.md, "Preference" and "Incremental builds"): outcome
// runs are decided in time order (day, recorded_at, run_id). A run, when it arrives, pairs with the
// earlier runs of the other outcome of its task that share its opening (fewest pairs so far, then
// earliest) while the task is below the cap; a run that formed no pair then is a KTO row of its own
// day and stays one. A pair lives in the day of its later run. So a day's rows depend only on the
// days up to it: a new day writes only its own shard (+ `evidence` when the judgments changed), and
// a backfilled day decides again from itself on. Each case builds, changes the screened days,
// builds again, and compares every file of exports/preference/ with a cold build of the same
// inputs in another project.

type Days = Record<string, readonly ScoredRun[]>;

const day = (d: string): string =>
  d === 'undated' ? 'undated/runs.jsonl' : `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/runs.jsonl`;

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

// 2024-04-30: task U, one accepted run (a KTO row). 2024-05-01: task T, accepted a-2 and rejected
// r-1 (same time, run_id order: a-2 first, a KTO row; r-1 pairs with it: the task's one pair with a
// cap of 1, in 2024-05-01).
const base: Days = {
  '2024-04-30': [mkRun({ id: 'u-1', category: 'accepted', task: 'U' })],
  '2024-05-01': [
    mkRun({ id: 'a-2', category: 'accepted', task: 'T' }),
    mkRun({ id: 'r-1', category: 'rejected', task: 'T' }),
  ],
};
// 2024-05-02: accepted a-1 of task T, which is at the cap: a KTO row of 2024-05-02, no pair, and
// nothing of 2024-05-01 changes (before, the cap took candidates by run_id and moved the pair).
const withDay2: Days = { ...base, '2024-05-02': [mkRun({ id: 'a-1', category: 'accepted', task: 'T' })] };

const inodes = (root: string) => (rel: string) => statSync(join(root, 'exports/preference', rel)).ino;

/** Every file of a shard in exports/preference/ (all families and formats). */
function shardFiles(root: string, shard: string): string[] {
  return Object.keys(treeHashes(join(root, 'exports/preference'))).filter((p) =>
    p.endsWith(`/${shard}.jsonl`),
  );
}

test('a new run of an old task at the cap adds no pair: a KTO row of its own day, older shards linked, same bytes as cold', async () => {
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  await writeDays(root, base, judgments);
  assert.doesNotMatch(await build(root, config), /incremental/, 'a first build is cold');
  assert.deepEqual(
    (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected/2024-05-01.jsonl')).map(
      (p) => [p.chosen_id, p.rejected_id],
    ),
    [['a-2', 'r-1']],
  );
  const inode = inodes(root);
  const before = Object.fromEntries(
    [
      ...shardFiles(root, '2024-04-30'),
      ...shardFiles(root, '2024-05-01'),
      ...shardFiles(root, 'evidence'),
    ].map((p) => [p, inode(p)]),
  );

  await writeDays(root, withDay2, judgments);
  const summary = await build(root, config);
  assert.match(
    summary,
    /incremental: 1 shards built, 3 unchanged reused; 1 outcome runs decided from 2024-05-02 on\)/,
  );
  assert.deepEqual(await readRows(root, 'exports/preference/chosen_rejected/2024-05-02.jsonl'), []);
  assert.deepEqual(
    (await readRows<KtoSample>(root, 'exports/preference/unpaired_kto/2024-05-02.jsonl')).map((k) => [
      k.run_id,
      k.label,
    ]),
    [['a-1', true]],
  );
  for (const [p, ino] of Object.entries(before)) assert.equal(inode(p), ino, `${p} is linked, not written`);
  assertSame(root, await coldHashes(withDay2, judgments, 1));
  const manifest = JSON.parse(
    await fsp.readFile(join(root, 'exports/preference/_manifest.json'), 'utf8'),
  ) as { counts: Record<string, number> };
  assert.equal(manifest.counts['pairs_capped'], 1, 'a-1 × r-1 not tried: the task was at the cap');
  assert.equal(manifest.counts['runs_kto'], 3, 'u-1, a-2 (no partner when it came) and a-1');

  // and back: the day removed again gives the first build's files again
  await writeDays(root, base, judgments);
  assert.match(
    await build(root, config),
    /incremental: 0 shards built, 3 unchanged reused; 0 outcome runs decided from 2024-05-02 on \(days built before are decided again/,
  );
  assertSame(root, await coldHashes(base, judgments, 1));
});

test('a later rejected run pairs with an earlier accepted run that is a KTO row: the KTO row stays, the pair lands in the new day', async () => {
  const day1: Days = { '2024-05-01': [mkRun({ id: 'a-1', category: 'accepted', task: 'T' })] };
  const day2: Days = { ...day1, '2024-05-02': [mkRun({ id: 'r-9', category: 'rejected', task: 'T' })] };
  const { root, config } = await makeProject({ preference_cap_per_task: 4 });
  await writeDays(root, day1, judgments);
  await build(root, config);
  const inode = inodes(root);
  const kto1 = inode('unpaired_kto/2024-05-01.jsonl');
  await writeDays(root, day2, judgments);
  assert.match(await build(root, config), /incremental: 1 shards built, 2 unchanged reused/);
  assert.equal(inode('unpaired_kto/2024-05-01.jsonl'), kto1, 'the KTO row of a-1 is never withdrawn');
  assert.deepEqual(
    (await readRows<KtoSample>(root, 'exports/preference/unpaired_kto')).map((k) => [k.run_id, k.label]),
    [['a-1', true]],
  );
  assert.deepEqual(
    (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected/2024-05-02.jsonl')).map(
      (p) => [p.chosen_id, p.rejected_id],
    ),
    [['a-1', 'r-9']],
  );
  assertSame(root, await coldHashes(day2, judgments, 4));
  const manifest = JSON.parse(
    await fsp.readFile(join(root, 'exports/preference/_manifest.json'), 'utf8'),
  ) as { counts: Record<string, number> };
  // one unit each: a-1 a KTO row (its fate when it came), r-9 paired
  assert.deepEqual(
    [manifest.counts['runs_in'], manifest.counts['runs_kto'], manifest.counts['runs_paired']],
    [2, 1, 1],
  );
});

test('a new day of runs of existing tasks writes only its own shard and evidence, each step the same bytes as cold', async () => {
  const conv = (id: string, category: 'accepted' | 'rejected', task: string) =>
    mkRun({ id, category, task, answer: `${category === 'accepted' ? 'Solved' : 'Failed'} by ${id}.` });
  const days: Days = {
    '2024-05-01': [
      conv('a-10', 'accepted', 'T'),
      conv('b-10', 'rejected', 'B'),
      conv('c-10', 'accepted', 'C'),
    ],
    '2024-05-02': [conv('r-20', 'rejected', 'T'), conv('b-20', 'accepted', 'B')],
    '2024-05-03': [
      conv('a-30', 'accepted', 'T'),
      conv('c-30', 'rejected', 'C'),
      conv('r-30', 'rejected', 'T'),
    ],
  };
  const more = {
    'judgments.jsonl': [
      ...judgments['judgments.jsonl'],
      mkJudgment('j2', 'Name a colour', 'Blue.', 'Seven.'),
    ],
  };
  const { root, config } = await makeProject({ preference_cap_per_task: 3 });
  const order = Object.keys(days);
  await writeDays(root, { [order[0] as string]: days[order[0] as string] as ScoredRun[] }, judgments);
  await build(root, config);
  for (let i = 1; i < order.length; i++) {
    const now = Object.fromEntries(order.slice(0, i + 1).map((d) => [d, days[d] as ScoredRun[]]));
    const ev = i === order.length - 1 ? more : judgments;
    const inode = inodes(root);
    const older = order.slice(0, i).flatMap((d) => shardFiles(root, d));
    const was = Object.fromEntries(older.map((p) => [p, inode(p)]));
    await writeDays(root, now, ev);
    const built = ev === more ? 2 : 1;
    assert.match(
      await build(root, config),
      new RegExp(
        `incremental: ${built} shards built, ${i + 2 - built} unchanged reused; \\d+ outcome runs decided from ${order[i]} on\\)`,
      ),
    );
    for (const [p, ino] of Object.entries(was)) assert.equal(inode(p), ino, `${p} is linked`);
    assertSame(root, await coldHashes(now, ev, 3));
  }
  // 05-03: a-30 pairs with r-20 (T's one earlier rejected run); r-30 then with a-10 (no pairs yet)
  // before a-30 (one pair), and the cap (3) stops there; c-30 with c-10
  assert.deepEqual(
    (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected/2024-05-03.jsonl'))
      .map((p) => `${p.chosen_id}>${p.rejected_id}`)
      .sort(),
    ['a-10>r-30', 'a-30>r-20', 'c-10>c-30'],
  );
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
    // 2024-05-02: the escalation joins e-1 to b-1's task, same opening: a pair, and the task is at
    // the cap (1). 2024-05-04: b-2 joins the task at the cap: no pair, a KTO row of its own day.
    if (order[i] === '2024-05-02')
      assert.deepEqual(
        pairs.filter(([c]) => !c?.includes('#')),
        [['e-1', 'b-1']],
      );
    if (order[i] === '2024-05-04') {
      assert.ok(pairs.some(([c, r]) => c === 'e-1' && r === 'b-1'));
      assert.ok(!pairs.some(([c]) => c === 'b-2'));
      assert.deepEqual(
        (await readRows<KtoSample>(root, 'exports/preference/unpaired_kto/2024-05-04.jsonl')).map(
          (k) => k.run_id,
        ),
        ['b-2'],
      );
    }
  }
});

test('undated runs (after every day), runs of one day in recorded_at order, equal recorded_at by run_id: each step the same bytes as cold', async () => {
  const at = (r: ScoredRun, recordedAt: string | null): ScoredRun => ({ ...r, recorded_at: recordedAt });
  const steps: Days[] = [];
  // an accepted run of T, and an undated rejected run of T: the undated one comes last and pairs
  steps.push({
    '2024-05-01': [at(mkRun({ id: 'a-9', category: 'accepted', task: 'T' }), '2024-05-01T10:00:00.000Z')],
    undated: [at(mkRun({ id: 'r-0', category: 'rejected', task: 'T' }), null)],
  });
  // a new day: a rejected run (a run_id sorting after the undated one's) takes the pair first; the
  // undated run is decided again after it
  steps.push({
    ...steps[0],
    '2024-05-02': [at(mkRun({ id: 'r-5', category: 'rejected', task: 'T' }), '2024-05-02T09:00:00.000Z')],
  });
  // a day whose runs are in the file in another order than their time: recorded_at decides (a-2 at
  // 07:00 before r-1 at 08:00), then equal times by run_id (a-3 before r-3)
  steps.push({
    ...steps[1],
    '2024-05-03': [
      at(mkRun({ id: 'r-3', category: 'rejected', task: 'T' }), '2024-05-03T12:00:00.000Z'),
      at(mkRun({ id: 'r-1', category: 'rejected', task: 'T' }), '2024-05-03T08:00:00.000Z'),
      at(mkRun({ id: 'a-3', category: 'accepted', task: 'T' }), '2024-05-03T12:00:00.000Z'),
      at(mkRun({ id: 'a-2', category: 'accepted', task: 'T' }), '2024-05-03T07:00:00.000Z'),
    ],
  });
  // an earlier run backfilled into a built day (before its runs by time, after them by run_id)
  steps.push({
    ...steps[2],
    '2024-05-02': [
      ...(steps[2]?.['2024-05-02'] ?? []),
      at(mkRun({ id: 'z-1', category: 'accepted', task: 'T' }), '2024-05-02T01:00:00.000Z'),
    ],
  });
  // the first day removed
  const { ['2024-05-01']: _gone, ...rest } = steps[3] as Days;
  steps.push(rest);
  const { root, config } = await makeProject({ preference_cap_per_task: 3 });
  await writeDays(root, steps[0] as Days, judgments);
  await build(root, config);
  assertSame(root, await coldHashes(steps[0] as Days, judgments, 3));
  assert.deepEqual(
    (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected/undated.jsonl')).map((p) => [
      p.chosen_id,
      p.rejected_id,
    ]),
    [['a-9', 'r-0']],
  );
  for (const now of steps.slice(1)) {
    await writeDays(root, now, judgments);
    assert.match(await build(root, config), /incremental/);
    assertSame(root, await coldHashes(now, judgments, 3));
    if (now !== steps[2]) continue;
    // a-9 / r-5 paired on 2024-05-02 (1); a-2 (07:00) pairs with r-5 (2); r-1 (08:00) with a-9, of
    // a-9 and a-2 (one pair each) the earlier (3, the cap); a-3 and r-3 (12:00), then r-0: KTO rows
    const sides = (p: PreferenceSample): string[] => [p.chosen_id, p.rejected_id];
    assert.deepEqual(
      (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected/2024-05-03.jsonl'))
        .map(sides)
        .sort(),
      [
        ['a-2', 'r-5'],
        ['a-9', 'r-1'],
      ],
    );
    assert.deepEqual(
      (await readRows<KtoSample>(root, 'exports/preference/unpaired_kto/2024-05-03.jsonl'))
        .map((k) => k.run_id)
        .sort(),
      ['a-3', 'r-3'],
    );
    assert.deepEqual(
      (await readRows<KtoSample>(root, 'exports/preference/unpaired_kto/undated.jsonl')).map((k) => k.run_id),
      ['r-0'],
    );
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
  assert.match(
    await build(root, config),
    /incremental: 3 shards built, 1 unchanged reused; 4 outcome runs decided from 2024-04-29 on \(days built before are decided again/,
  );
  // r-1 now meets a-0 (earliest of the two accepted runs before it, no pairs yet) first
  assert.deepEqual(
    (await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected/2024-05-01.jsonl')).map(
      (p) => [p.chosen_id, p.rejected_id],
    ),
    [['a-0', 'r-1']],
  );
  assertSame(root, await coldHashes(all, judgments, 1));
});

test('a state decided by the old pairing rule (task groups by run_id) builds whole once, saying so', async () => {
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  await writeDays(root, base, judgments);
  await build(root, config);
  const state = join(root, '.distill/cache/exports/export-preference.json');
  const s = JSON.parse(await fsp.readFile(state, 'utf8')) as Record<string, unknown>;
  await fsp.writeFile(state, JSON.stringify({ ...s, extra: { groups: {} } }));
  assert.match(
    await build(root, config),
    /built whole: the state of the last build was decided by another pairing rule/,
  );
  assertSame(root, await coldHashes(base, judgments, 1));
  assert.match(await build(root, config), /incremental: 0 shards built/);
});

test('a shard edited by hand is written again; a deleted state, a changed cap or a new tools column build whole, with the reason', async () => {
  const { root, config } = await makeProject({ preference_cap_per_task: 1 });
  await writeDays(root, withDay2, judgments);
  await build(root, config);
  const want = await coldHashes(withDay2, judgments, 1);

  const kto = join(root, 'exports/preference/unpaired_kto/2024-04-30.jsonl');
  const before = await fsp.readFile(kto, 'utf8');
  await fsp.writeFile(kto, before.replace('"label":true', '"label":false'));
  // a day no longer as published is decided again, and so is every later day (their rows depend on it)
  assert.match(
    await build(root, config),
    /incremental: 3 shards built, 1 unchanged reused; 4 outcome runs decided from 2024-04-30 on/,
  );
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
