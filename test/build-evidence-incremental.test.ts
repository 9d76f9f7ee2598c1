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
import { builtProject } from './helpers/built.ts';
import { inProcess, REPO as REPO_ROOT, treeHashes } from './helpers/project.ts';

// An incremental build-evidence (tasks/phases/build-evidence/incremental.ts) must publish exactly
// what a full build of the same sources publishes: every file under data/evidence, manifest,
// health and quarantine included. Each case changes the bundled corpus's sources in a project
// built before, builds it there (incremental), and compares with a copy of the sources built from
// nothing.

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

/** A project holding the bundled corpus with its evidence built (and the state of that build). */
const built = (): Promise<string> => builtProject('evidence', 'distill-be-incr-');

test('one new day: only the new files are read, unchanged day files are kept as they were (not rewritten), bytes as a full build', async () => {
  const root = await built();
  const day = mkdtempSync(join(tmpdir(), 'distill-be-day-'));
  try {
    await writeCorpus(day, { records: 40, seed: 8, startDate: '2026-10-31', days: 1 });
    for (const stream of readdirSync(day))
      if (stream !== 'tau_bench') cpSync(join(day, stream), join(root, KB, stream), { recursive: true });
  } finally {
    rmSync(day, { recursive: true, force: true });
  }
  const old = join(root, EVIDENCE, '2026/10/05/gateway_calls.jsonl');
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
  // grown: a new row appended to an old day's file
  appendFileSync(
    join(root, KB, 'rewards/2026-10-05.jsonl'),
    `${JSON.stringify({ trace_id: 'tr_incr_grown', timestamp: '2026-10-05T09:00:00.000Z', environment: 'sql-sandbox', reward: 0, episode_id: 'ep_grown' })}\n`,
  );
  assert.match(await sameAsCold(root), /\(incremental: 1 of \d+ files read; /);
  // edited: a row taken out of the middle (the operator accepts its rows leave the datasets)
  const edited = join(root, KB, 'gateway_calls/2026-10-06.jsonl');
  const lines = rows(root, join(KB, 'gateway_calls/2026-10-06.jsonl'));
  assert.ok(lines.length >= 3);
  writeFileSync(edited, `${lines.filter((_, i) => i !== 1).join('\n')}\n`);
  assert.match(await sameAsCold(root, ['--accept-source-changes']), /\(incremental: /);
  // deleted: two files gone, one of them the only file of its day and stream
  rmSync(join(root, KB, 'rewards/2026-10-06.jsonl'));
  rmSync(join(root, KB, 'human_reviews/2026-10-03.jsonl'));
  assert.match(await sameAsCold(root, ['--accept-source-changes']), /\(incremental: 0 of \d+ files read; /);
  assert.throws(() => statSync(join(root, EVIDENCE, '2026/10/06/rewards.jsonl')), /ENOENT/);
});

test('a new file with a row whose id an unchanged old file kept: a DUPLICATE_RECORD naming the old row, as a full build reports it', async () => {
  const root = await built();
  const [first] = rows(root, join(KB, 'rewards/2026-10-05.jsonl'));
  writeFileSync(
    join(root, KB, 'rewards/2026-10-31.jsonl'),
    `${first}\n${JSON.stringify({ trace_id: 'tr_incr_new', timestamp: '2026-10-31T08:00:00.000Z', environment: 'sql-sandbox', reward: 1, episode_id: 'ep_new' })}\n`,
  );
  const log = await sameAsCold(root);
  assert.match(log, /\(incremental: 1 of \d+ files read; /);
  const dup = quarantine(root, 'rewards').filter((q) => q.reason === 'DUPLICATE_RECORD');
  assert.equal(dup.length, 1);
  assert.equal(dup[0]?.detail, 'identical to the row at data/_kb/rewards/2026-10-05.jsonl:1, which was kept');
});

test('changes that alter an unchanged file’s verdicts (a new earlier file keeping its id, then that file removed) rebuild in full, to the same bytes', async () => {
  const root = await built();
  const [, second] = rows(root, join(KB, 'rewards/2026-10-05.jsonl'));
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
  const day = join(root, EVIDENCE, '2026/10/05/rewards.jsonl');
  const text = readFileSync(day, 'utf8');
  rmSync(day);
  writeFileSync(day, text.replace('"value":1', '"value":0'));
  appendFileSync(
    join(root, KB, 'rewards/2026-10-05.jsonl'),
    `${JSON.stringify({ trace_id: 'tr_incr_hand', timestamp: '2026-10-05T10:00:00.000Z', environment: 'sql-sandbox', reward: 1, episode_id: 'ep_hand' })}\n`,
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
  const src = join(root, KB, 'gateway_calls/2026-10-06.jsonl');
  // the copy sorts after the original: refused whole as byte-identical to it
  cpSync(src, join(root, KB, 'gateway_calls/2026-10-06b.jsonl'));
  await sameAsCold(root);
  // the original gone: the copy's rows are read (the ids the original kept are kept by the copy)
  rmSync(src);
  await sameAsCold(root, ['--accept-source-changes']);
  // the copy renamed to sort before every other file of its stream
  const moved = join(root, KB, 'gateway_calls/2026-09-30.jsonl');
  cpSync(join(root, KB, 'gateway_calls/2026-10-06b.jsonl'), moved);
  rmSync(join(root, KB, 'gateway_calls/2026-10-06b.jsonl'));
  await sameAsCold(root, ['--accept-source-changes']);
  // a row of an old file appended to a later file (a duplicate moving between files), then removed from the old one
  const [row] = rows(root, join(KB, 'rewards/2026-10-05.jsonl'));
  appendFileSync(join(root, KB, 'rewards/2026-10-06.jsonl'), `${row}\n`);
  await sameAsCold(root);
  const old = join(root, KB, 'rewards/2026-10-05.jsonl');
  writeFileSync(old, `${rows(root, join(KB, 'rewards/2026-10-05.jsonl')).slice(1).join('\n')}\n`);
  await sameAsCold(root, ['--accept-source-changes']);
});
