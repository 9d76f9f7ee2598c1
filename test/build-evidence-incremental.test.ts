import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeCorpus } from '../tasks/dev/corpus.ts';
import { builtProject, RECENT_DAYS } from './helpers/built.ts';
import { inProcess, REPO as REPO_ROOT, treeHashes } from './helpers/project.ts';

// An incremental build-evidence (tasks/phases/build-evidence/incremental.ts) must publish exactly
// what a full build of the same sources publishes: every file under data/evidence, manifest,
// health and quarantine included. Each case changes the sources of the bundled corpus's last
// RECENT_DAYS days (every stream; test/helpers/built.ts) in a project built before, builds it there
// (incremental), and compares with a copy of the sources built from nothing. The days and files a
// case changes are found in the project (the n-th day file of a stream), not named.

const EVIDENCE = join('data', 'evidence');
const KB = join('data', '_kb');

async function buildEvidence(root: string, args: string[] = []): Promise<string> {
  const r = await inProcess(['build-evidence', '--root', root, ...args]);
  assert.equal(r.code, 0, `build-evidence: ${r.stderr}`);
  return r.stdout + r.stderr;
}

/** The evidence folder a build from nothing gives for the sources of `root`. */
async function coldHashes(root: string): Promise<Record<string, string>> {
  const fresh = mkdtempSync(join(tmpdir(), 'distill-be-cold-'));
  try {
    cpSync(join(root, 'distill.config.json'), join(fresh, 'distill.config.json'));
    cpSync(join(root, KB), join(fresh, KB), { recursive: true });
    const log = await buildEvidence(fresh);
    assert.doesNotMatch(log, /\(incremental:/, 'a build from nothing is a full one');
    return treeHashes(join(fresh, EVIDENCE));
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

/** Builds `root` (incremental when it can) and checks it against a build from nothing; returns the log. */
async function sameAsCold(root: string, args: string[] = []): Promise<string> {
  const log = await buildEvidence(root, args);
  const incremental = treeHashes(join(root, EVIDENCE));
  assert.ok(Object.keys(incremental).length > 10);
  assert.deepEqual(incremental, await coldHashes(root));
  return log;
}

const rows = (root: string, rel: string): string[] =>
  readFileSync(join(root, rel), 'utf8')
    .split('\n')
    .filter((l) => l !== '');

const quarantine = (root: string, stream: string): { reason: string; detail: string; ref: string | null }[] =>
  rows(root, join(EVIDENCE, '_quarantine', `${stream}.jsonl`)).map(
    (l) => JSON.parse(l) as { reason: string; detail: string; ref: string | null },
  );

/** A project holding the bundled corpus's last days with their evidence built (and the state of that build). */
const built = (): Promise<string> => builtProject('evidence-recent', 'distill-be-incr-');

/** The days (YYYY-MM-DD, sorted) of the day files of `stream` in the project's sources. */
function days(root: string, stream: string): string[] {
  const out = readdirSync(join(root, KB, stream))
    .map((f) => /^(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(f)?.[1])
    .filter((d): d is string => d !== undefined)
    .sort();
  assert.ok(out.length >= 2, `${stream} has ${out.length} day files`);
  return out;
}

/** A day's evidence folder (data/evidence/YYYY/MM/DD). */
const dayDir = (day: string): string => join(EVIDENCE, ...day.split('-'));

test('one new day: only the new files are read, unchanged day files are kept as they were (not rewritten), bytes as a full build', async () => {
  const root = await built();
  assert.equal(days(root, 'gateway_calls').length, RECENT_DAYS);
  assert.ok((days(root, 'gateway_calls').at(-1) as string) < '2026-10-31', 'the new day is after the corpus');
  const day = mkdtempSync(join(tmpdir(), 'distill-be-day-'));
  try {
    await writeCorpus(day, { records: 40, seed: 8, startDate: '2026-10-31', days: 1 });
    for (const stream of readdirSync(day))
      if (stream !== 'tau_bench') cpSync(join(day, stream), join(root, KB, stream), { recursive: true });
  } finally {
    rmSync(day, { recursive: true, force: true });
  }
  const [gw0] = days(root, 'gateway_calls');
  const old = join(root, dayDir(gw0 as string), 'gateway_calls.jsonl');
  const before = statSync(old);
  const log = await sameAsCold(root);
  assert.match(log, /\(incremental: \d+ of \d+ files read; /);
  const after = statSync(old);
  assert.equal(after.ino, before.ino, 'an unchanged day file is the published one, not a new copy');
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.ok(rows(root, join(EVIDENCE, '2026/10/31/gateway_calls.jsonl')).length > 0, 'the new day is in');

  // and again on the state this build left (stat-first reuse, the id table it wrote)
  appendFileSync(
    join(root, KB, 'rewards/2026-11-01.jsonl'),
    `${JSON.stringify({ trace_id: 'tr_incr_next_day', timestamp: '2026-10-31T22:00:00.000Z', environment: 'sql-sandbox', reward: 0.5, episode_id: 'ep_incr' })}\n`,
  );
  assert.match(await sameAsCold(root), /\(incremental: 1 of \d+ files read; /);
});

test('a changed file (grown, or edited and accepted) and a deleted file: bytes as a full build', async () => {
  const root = await built();
  const [r0, r1] = days(root, 'rewards') as [string, string];
  const [, gw1] = days(root, 'gateway_calls') as [string, string];
  const [hr0] = days(root, 'human_reviews') as [string];
  // grown: a new row appended to an old day's file
  appendFileSync(
    join(root, KB, `rewards/${r0}.jsonl`),
    `${JSON.stringify({ trace_id: 'tr_incr_grown', timestamp: `${r0}T09:00:00.000Z`, environment: 'sql-sandbox', reward: 0, episode_id: 'ep_grown' })}\n`,
  );
  assert.match(await sameAsCold(root), /\(incremental: 1 of \d+ files read; /);
  // edited: a row taken out of the middle (the operator accepts its rows leave the datasets)
  const edited = join(root, KB, `gateway_calls/${gw1}.jsonl`);
  const lines = rows(root, join(KB, `gateway_calls/${gw1}.jsonl`));
  assert.ok(lines.length >= 3);
  writeFileSync(edited, `${lines.filter((_, i) => i !== 1).join('\n')}\n`);
  assert.match(await sameAsCold(root, ['--accept-source-changes']), /\(incremental: /);
  // deleted: two files gone, one of them the only file of its day and stream
  assert.ok(statSync(join(root, dayDir(r1), 'rewards.jsonl')).size > 0);
  rmSync(join(root, KB, `rewards/${r1}.jsonl`));
  rmSync(join(root, KB, `human_reviews/${hr0}.jsonl`));
  assert.match(await sameAsCold(root, ['--accept-source-changes']), /\(incremental: 0 of \d+ files read; /);
  assert.throws(() => statSync(join(root, dayDir(r1), 'rewards.jsonl')), /ENOENT/);
});

test('a new file with a row whose id an unchanged old file kept: a DUPLICATE_RECORD naming the old row, as a full build reports it', async () => {
  const root = await built();
  const [r0] = days(root, 'rewards') as [string];
  const [first] = rows(root, join(KB, `rewards/${r0}.jsonl`));
  writeFileSync(
    join(root, KB, 'rewards/2026-10-31.jsonl'),
    `${first}\n${JSON.stringify({ trace_id: 'tr_incr_new', timestamp: '2026-10-31T08:00:00.000Z', environment: 'sql-sandbox', reward: 1, episode_id: 'ep_new' })}\n`,
  );
  const log = await sameAsCold(root);
  assert.match(log, /\(incremental: 1 of \d+ files read; /);
  const dup = quarantine(root, 'rewards').filter((q) => q.reason === 'DUPLICATE_RECORD');
  assert.equal(dup.length, 1);
  assert.equal(dup[0]?.detail, `identical to the row at data/_kb/rewards/${r0}.jsonl:1, which was kept`);
});

test('changes that alter an unchanged file’s verdicts (a new earlier file keeping its id, then that file removed) rebuild in full, to the same bytes', async () => {
  const root = await built();
  const [r0] = days(root, 'rewards') as [string];
  const [, second] = rows(root, join(KB, `rewards/${r0}.jsonl`));
  assert.ok(r0 > '2026-10-01' && (days(root, 'rewards').at(-1) as string) < '2026-10-31');
  // sorts before every rewards file: the old file's row becomes the duplicate
  writeFileSync(join(root, KB, 'rewards/2026-10-01.jsonl'), `${second}\n`);
  const log = await sameAsCold(root);
  assert.doesNotMatch(log, /\(incremental:/);
  assert.deepEqual(
    quarantine(root, 'rewards')
      .filter((q) => q.reason === 'DUPLICATE_RECORD')
      .map((q) => q.detail),
    ['identical to the row at data/_kb/rewards/2026-10-01.jsonl:1, which was kept'],
  );
  // the keeper removed: the old row is kept again
  rmSync(join(root, KB, 'rewards/2026-10-01.jsonl'));
  assert.doesNotMatch(await sameAsCold(root, ['--accept-source-changes']), /\(incremental:/);
  assert.equal(quarantine(root, 'rewards').filter((q) => q.reason === 'DUPLICATE_RECORD').length, 0);
  // a later duplicate of an unchanged row and its removal stay incremental
  writeFileSync(join(root, KB, 'rewards/2026-10-31.jsonl'), `${second}\n`);
  assert.match(await sameAsCold(root), /\(incremental: 1 of /);
  rmSync(join(root, KB, 'rewards/2026-10-31.jsonl'));
  assert.match(await sameAsCold(root, ['--accept-source-changes']), /\(incremental: 0 of /);
});

test('a published evidence file edited by hand: the incremental build does not copy from it (a full build, same bytes)', async () => {
  const root = await built();
  // the first day whose published rewards hold a value 1 (a reward row the hand edit can change)
  const r0 = days(root, 'rewards').find((d) =>
    readFileSync(join(root, dayDir(d), 'rewards.jsonl'), 'utf8').includes('"value":1'),
  );
  assert.ok(r0, 'a published rewards day holds a value 1');
  const day = join(root, dayDir(r0), 'rewards.jsonl');
  const text = readFileSync(day, 'utf8');
  rmSync(day);
  writeFileSync(day, text.replace('"value":1', '"value":0'));
  appendFileSync(
    join(root, KB, `rewards/${r0}.jsonl`),
    `${JSON.stringify({ trace_id: 'tr_incr_hand', timestamp: `${r0}T10:00:00.000Z`, environment: 'sql-sandbox', reward: 1, episode_id: 'ep_hand' })}\n`,
  );
  assert.doesNotMatch(await sameAsCold(root), /\(incremental:/);
});

test('a source option that changes the rows (a swe-bench-report source’s trajectories folder): the next build is the cold build’s, not the last build’s rows', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-be-opt-'));
  try {
    const config = (trajectories: string): void =>
      writeFileSync(
        join(root, 'distill.config.json'),
        `${JSON.stringify({
          schema_version: 1,
          as_of: '2026-11-01T00:00:00.000Z',
          sources: [
            { stream: 'rewards', adapter: 'reward', files: ['data/_kb/rewards/*.jsonl'] },
            {
              stream: 'swe_eval',
              adapter: 'swe-bench-report',
              trajectories,
              files: ['data/_kb/swe_eval/*.json'],
            },
          ],
          eval_sets: [],
        })}\n`,
      );
    cpSync(join(REPO_ROOT, KB, 'rewards'), join(root, KB, 'rewards'), { recursive: true });
    mkdirSync(join(root, KB, 'swe_eval'));
    writeFileSync(
      join(root, KB, 'swe_eval/report.json'),
      `${JSON.stringify({ resolved_ids: ['b__b-2'], unresolved_ids: ['a__a-1'], error_ids: [], empty_patch_ids: [] })}\n`,
    );
    config('runs/r1');
    await buildEvidence(root);
    const traces = (): string[] =>
      readdirSync(join(root, EVIDENCE), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('swe_eval.jsonl') && !f.includes('_quarantine'))
        .flatMap((f) => rows(root, join(EVIDENCE, f)))
        .map((l) => (JSON.parse(l) as { trace_id: string }).trace_id)
        .sort();
    assert.deepEqual(traces(), ['swe-agent:runs/r1/a__a-1', 'swe-agent:runs/r1/b__b-2']);
    config('runs/r2');
    await sameAsCold(root);
    assert.deepEqual(traces(), ['swe-agent:runs/r2/a__a-1', 'swe-agent:runs/r2/b__b-2']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a file copied under a new name (a duplicate source), its original then removed, then the copy renamed: each build as a full one', async () => {
  const root = await built();
  const [, gw1] = days(root, 'gateway_calls') as [string, string];
  const [r0, r1] = days(root, 'rewards') as [string, string];
  const src = join(root, KB, `gateway_calls/${gw1}.jsonl`);
  // the copy sorts after the original: refused whole as byte-identical to it
  cpSync(src, join(root, KB, `gateway_calls/${gw1}b.jsonl`));
  await sameAsCold(root);
  // the original gone: the copy's rows are read (the ids the original kept are kept by the copy)
  rmSync(src);
  await sameAsCold(root, ['--accept-source-changes']);
  // the copy renamed to sort before every other file of its stream
  const moved = join(root, KB, 'gateway_calls/2026-09-30.jsonl');
  cpSync(join(root, KB, `gateway_calls/${gw1}b.jsonl`), moved);
  rmSync(join(root, KB, `gateway_calls/${gw1}b.jsonl`));
  await sameAsCold(root, ['--accept-source-changes']);
  // a row of an old file appended to a later file (a duplicate moving between files), then removed from the old one
  const [row] = rows(root, join(KB, `rewards/${r0}.jsonl`));
  appendFileSync(join(root, KB, `rewards/${r1}.jsonl`), `${row}\n`);
  await sameAsCold(root);
  const old = join(root, KB, `rewards/${r0}.jsonl`);
  writeFileSync(
    old,
    `${rows(root, join(KB, `rewards/${r0}.jsonl`))
      .slice(1)
      .join('\n')}\n`,
  );
  await sameAsCold(root, ['--accept-source-changes']);
});

test('a damaged id table of the right size (or a state.json that is not an object): a full build, never one that trusts it', async () => {
  const root = await built();
  const [r0] = days(root, 'rewards') as [string];
  const [first] = rows(root, join(KB, `rewards/${r0}.jsonl`));
  // the table's bytes zeroed (its size kept): every id of the last build would read as unseen
  const state = join(root, '.distill', 'cache', 'build-evidence-state');
  const bin = readdirSync(state).find((f) => f.startsWith('ids-') && f.endsWith('.bin'));
  assert.ok(bin, 'the last build left its id table');
  writeFileSync(join(state, bin), Buffer.alloc(statSync(join(state, bin)).size));
  // a new file repeating a row an unchanged old file kept: a DUPLICATE_RECORD only if the table is trusted correctly
  writeFileSync(join(root, KB, 'rewards/2026-10-31.jsonl'), `${first}\n`);
  const log = await sameAsCold(root);
  assert.doesNotMatch(log, /\(incremental:/);
  assert.equal(quarantine(root, 'rewards').filter((q) => q.reason === 'DUPLICATE_RECORD').length, 1);
  // state.json holding JSON that is not an object
  writeFileSync(join(state, 'state.json'), 'null\n');
  appendFileSync(
    join(root, KB, 'rewards/2026-10-31.jsonl'),
    `${JSON.stringify({ trace_id: 'tr_incr_null', timestamp: '2026-10-31T09:00:00.000Z', environment: 'sql-sandbox', reward: 1, episode_id: 'ep_null' })}\n`,
  );
  assert.doesNotMatch(await sameAsCold(root), /\(incremental:/);
});
