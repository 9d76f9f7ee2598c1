import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtProject, RECENT_DAYS, templateLog } from './helpers/built.ts';
import { inProcess, tempProject, treeHashes } from './helpers/project.ts';

// Incremental score (tasks/phases/score/incremental.ts) must publish exactly what a full score run
// publishes. Each case changes the sources of the bundled corpus's last RECENT_DAYS days (every
// stream; test/helpers/built.ts), then builds the evidence and scores it in a project that was
// scored before (incremental) and in a copy that scores from scratch. The days a case changes are
// found in the project (the n-th day of gateway calls), not named.

const read = (root: string, rel: string): string => readFileSync(join(root, rel), 'utf8');
const jsonl = (root: string, rel: string): Record<string, unknown>[] =>
  read(root, rel)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function phase(root: string, name: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await inProcess([name, '--root', root], { env });
  assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Builds evidence and scores `root` (incremental where it can), and a copy of its sources from scratch; returns both outputs and the score log. */
async function scoreBoth(
  root: string,
): Promise<{ incremental: Record<string, string>; full: Record<string, string>; log: string }> {
  await phase(root, 'build-evidence');
  const log = await phase(root, 'score');
  const fresh = tempProject('distill-score-full-');
  rmSync(join(fresh, 'data', '_kb'), { recursive: true });
  cpSync(join(root, 'data', '_kb'), join(fresh, 'data', '_kb'), { recursive: true });
  await phase(fresh, 'build-evidence');
  await phase(fresh, 'score', { DISTILL_SCORE_INCREMENTAL: '0' });
  return {
    incremental: treeHashes(join(root, 'data', 'scored-runs')),
    full: treeHashes(join(fresh, 'data', 'scored-runs')),
    log,
  };
}

/**
 * A project whose evidence is built and scored (the state an incremental run starts from): a copy
 * of the bundled corpus built and scored once per suite (test/helpers/built.ts), scored once more
 * in place, since score's state records its outputs' inodes and a copy has new ones.
 */
async function scored(): Promise<string> {
  const first = (await templateLog('scored-recent'))['score'] ?? '';
  assert.doesNotMatch(first, /incremental/, 'the first score run is a full one');
  const root = await builtProject('scored-recent', 'distill-score-incr-');
  await phase(root, 'score');
  return root;
}

/** The days (YYYY-MM-DD, sorted) of the project's gateway-call source files: RECENT_DAYS of October 2026. */
function gatewayDays(root: string): string[] {
  const days = readdirSync(join(root, 'data/_kb/gateway_calls'))
    .map((f) => /^(2026-10-\d{2})\.jsonl$/.exec(f)?.[1])
    .filter((d): d is string => d !== undefined)
    .sort();
  assert.equal(days.length, RECENT_DAYS);
  return days;
}

/** A day's folder below data/evidence/ or data/scored-runs/ (YYYY/MM/DD). */
const dayPath = (day: string): string => day.split('-').join('/');

test('a new day touching old traces (a reward, a conflicting run row, a run for an orphan signal) scores incrementally to the same bytes', async () => {
  const root = await scored();
  // t1 (gets a reward) on the first day; t2 (gets a conflicting second run row, so it loses its
  // run) alone on the third: that day's file must be rewritten although no new run lands on it
  const [dayA, , dayB] = gatewayDays(root) as [string, string, string];
  const t1 = String(jsonl(root, `data/evidence/${dayPath(dayA)}/gateway_calls.jsonl`)[0]?.['trace_id']);
  const t2 = String(jsonl(root, `data/evidence/${dayPath(dayB)}/gateway_calls.jsonl`)[0]?.['trace_id']);
  // an orphan signal (a review of a trace no run has) in the last build: the bundled corpus's
  // orphans are reviews of its first three weeks, so one is added to the first day's reviews and
  // built (incrementally) first
  const [reviews] = readdirSync(join(root, 'data/_kb/human_reviews')).sort() as [string];
  appendFileSync(
    join(root, 'data/_kb/human_reviews', reviews),
    `${JSON.stringify({ review_id: 'rv_incr_orphan0001', trace_id: 'tr_0a0a0a0a0a0a0a0a', timestamp: `${reviews.slice(0, 10)}T23:00:00.000Z`, reviewer: 'm.chen', decision: 'approve' })}\n`,
  );
  await phase(root, 'build-evidence');
  await phase(root, 'score');
  const orphans = jsonl(root, 'data/scored-runs/_quarantine.jsonl').filter(
    (q) => q['reason'] === 'ORPHAN_SIGNAL',
  );
  assert.deepEqual(
    orphans.map((q) => q['trace_id']),
    ['tr_0a0a0a0a0a0a0a0a'],
    'the last build has the orphan signal',
  );
  const t3 = String(orphans[0]?.['trace_id']);
  const gw = read(root, `data/_kb/gateway_calls/${dayB}.jsonl`)
    .split('\n')
    .filter((l) => l.includes(`"trace_id":"${t2}"`))[0] as string;
  const gwRow = JSON.parse(gw) as Record<string, unknown>;
  const day = '2026-10-31';
  writeFileSync(
    join(root, 'data/_kb/rewards', `${day}.jsonl`),
    [
      {
        trace_id: t1,
        timestamp: `${day}T01:00:00.000Z`,
        environment: 'sql-sandbox',
        reward: 1,
        episode_id: 'ep_incr_1',
      },
      {
        trace_id: 'tr_nowhere00000000',
        timestamp: `${day}T02:00:00.000Z`,
        environment: 'sql-sandbox',
        reward: 0,
        episode_id: 'ep_incr_2',
      },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  // a second, different run row for t2 (an ID_CONFLICT), and a run row for the orphan's trace t3
  writeFileSync(
    join(root, 'data/_kb/gateway_calls', `${day}.jsonl`),
    [
      { ...gwRow, request_id: 'req_incr_conflict01', timestamp: `${day}T03:00:00.000Z` },
      { ...gwRow, request_id: 'req_incr_orphan0001', trace_id: t3, timestamp: `${day}T04:00:00.000Z` },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  writeFileSync(
    join(root, 'data/_kb/human_reviews', `${day}.jsonl`),
    `${JSON.stringify({ review_id: 'rv_incr_no_trace', timestamp: `${day}T05:00:00.000Z`, reviewer: 'm.chen', decision: 'approve' })}\n`,
  );
  const days = readdirSync(join(root, 'data/scored-runs/2026/10'));
  const inode = (day: string): number =>
    statSync(join(root, 'data/scored-runs/2026/10', day, 'runs.jsonl')).ino;
  const before = new Map(days.map((day) => [day, inode(day)]));
  const { incremental, full, log } = await scoreBoth(root);
  assert.match(log, /incremental: \d+ new or changed evidence files, [1-9]\d* traces scored again/);
  assert.deepEqual(incremental, full);
  // day files no dirty trace had a run in are the published files, linked (the same inode);
  // dayA (t1's run, rescored) and dayB (t2's run, gone) are written anew
  const dd = (day: string): string => day.slice(-2);
  assert.notEqual(inode(dd(dayA)), before.get(dd(dayA)));
  assert.notEqual(inode(dd(dayB)), before.get(dd(dayB)));
  const linked = days.filter((day) => inode(day) === before.get(day));
  assert.ok(
    linked.length >= days.length - 3,
    `most day files are linked, not rewritten (${linked.length} of ${days.length})`,
  );
  // the cases did what they were meant to
  const quarantine = jsonl(root, 'data/scored-runs/_quarantine.jsonl');
  assert.ok(
    quarantine.some((q) => q['reason'] === 'ID_CONFLICT' && q['trace_id'] === t2),
    't2 is an ID_CONFLICT now',
  );
  assert.ok(
    !quarantine.some((q) => q['reason'] === 'ORPHAN_SIGNAL' && q['trace_id'] === t3),
    "t3's signal is joined now",
  );
  assert.ok(
    quarantine.some((q) => q['reason'] === 'ORPHAN_SIGNAL' && q['trace_id'] === 'tr_nowhere00000000'),
  );
  const t1Run = readdirSync(join(root, `data/scored-runs/${dayPath(dayA)}`))
    .flatMap((f) => jsonl(root, `data/scored-runs/${dayPath(dayA)}/${f}`))
    .find((r) => r['run_id'] === t1);
  assert.ok(
    (t1Run?.['signals'] as { signal: { type: string } }[]).some((s) => s.signal.type === 'reward'),
    "the new reward joined t1's run",
  );
});

test('no change, a change to a file of documents only, rows appended to old files of runs and reviews: same bytes, incremental where it can be', async () => {
  const root = await scored();
  const again = await scoreBoth(root);
  assert.match(again.log, /incremental: 0 new or changed evidence files, 0 traces scored again/);
  assert.deepEqual(again.incremental, again.full);
  // undated preference judgments (passed through by score) grow: read as a new file
  const judgments = readdirSync(join(root, 'data/_kb/preference_judgments'))[0] as string;
  const line = read(root, `data/_kb/preference_judgments/${judgments}`).split('\n')[0] as string;
  const row = JSON.parse(line) as Record<string, unknown>;
  appendFileSync(
    join(root, `data/_kb/preference_judgments/${judgments}`),
    `${JSON.stringify({
      ...row,
      ...Object.fromEntries(
        Object.entries(row)
          .filter(([, v]) => typeof v === 'string' && /^[a-z]+_[0-9a-f]+$/.test(v))
          .map(([k, v]) => [k, `${v}0`]),
      ),
    })}\n`,
  );
  const docs = await scoreBoth(root);
  assert.deepEqual(docs.incremental, docs.full);
  // rows appended to an old day of runs (today's file growing): a run for a new trace, a second
  // run row for an old trace of that day, a review without a trace id; the traces the file held
  // before are scored again too
  const [day0] = gatewayDays(root) as [string];
  const gwFile = `data/_kb/gateway_calls/${day0}.jsonl`;
  const gwRows = read(root, gwFile)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const gw = gwRows[0] as Record<string, unknown>;
  appendFileSync(
    join(root, gwFile),
    `${JSON.stringify({ ...gw, request_id: 'req_incr_append0001', trace_id: 'tr_appended0000001', timestamp: `${day0}T23:00:00.000Z` })}\n` +
      `${JSON.stringify({ ...(gwRows[1] as Record<string, unknown>), request_id: 'req_incr_append0002', timestamp: `${day0}T23:30:00.000Z` })}\n`,
  );
  const reviews = readdirSync(join(root, 'data/_kb/human_reviews')).sort()[0] as string;
  appendFileSync(
    join(root, 'data/_kb/human_reviews', reviews),
    `${JSON.stringify({ review_id: 'rv_incr_no_trace2', timestamp: `${reviews.slice(0, 10)}T23:00:00.000Z`, reviewer: 'm.chen', decision: 'approve' })}\n`,
  );
  const changed = await scoreBoth(root);
  assert.match(
    changed.log,
    /incremental: [1-9]\d* new or changed evidence files, [1-9]\d* traces scored again/,
  );
  assert.deepEqual(changed.incremental, changed.full);
  // without the previous version's trace list, a changed file of runs means a full run
  rmSync(join(root, '.distill/cache/score/files'), { recursive: true, force: true });
  appendFileSync(
    join(root, gwFile),
    `${JSON.stringify({ ...gw, request_id: 'req_incr_append0003', trace_id: 'tr_appended0000003', timestamp: `${day0}T23:45:00.000Z` })}\n`,
  );
  const unknown = await scoreBoth(root);
  assert.doesNotMatch(unknown.log, /incremental/);
  assert.deepEqual(unknown.incremental, unknown.full);
});

test('a previous output edited by hand, or other code, is never built on: the run is a full one', async () => {
  const root = await scored();
  const want = treeHashes(join(root, 'data', 'scored-runs'));
  // a run row edited by hand in the previous output
  // the first day whose runs hold an accepted one
  const rel = gatewayDays(root)
    .flatMap((d) =>
      readdirSync(join(root, `data/scored-runs/${dayPath(d)}`)).map(
        (f) => `data/scored-runs/${dayPath(d)}/${f}`,
      ),
    )
    .find((r) => read(root, r).includes('"accepted"'));
  assert.ok(rel, 'a scored day holds an accepted run');
  writeFileSync(join(root, rel), read(root, rel).replace('"accepted"', '"rejected"'));
  const log = await phase(root, 'score');
  assert.doesNotMatch(log, /incremental/);
  assert.deepEqual(treeHashes(join(root, 'data', 'scored-runs')), want);
  // a state file from other code
  const statePath = join(root, '.distill/cache/score/state.json');
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as { code: string };
  writeFileSync(statePath, JSON.stringify({ ...state, code: 'other' }));
  assert.doesNotMatch(await phase(root, 'score'), /incremental/);
  assert.match(await phase(root, 'score'), /incremental: 0 new or changed evidence files/);
  assert.deepEqual(treeHashes(join(root, 'data', 'scored-runs')), want);
});
