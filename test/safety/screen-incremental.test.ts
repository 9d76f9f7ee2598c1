import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
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
import { writeCorpus } from '../../tasks/dev/corpus.ts';
import { inProcess, REPO, treeHashes } from '../helpers/project.ts';

// Screen's dedup is in time order with a persisted index (docs/safety.md#duplicates): an
// incremental screen after new days, one at a time, or after a backfilled day must publish the
// same bytes as a cold screen of the same inputs, and a later day must not change any decision
// about an earlier unit. A generated corpus of 8 days is fed to a project a few days at a time.

const DAYS = 8;
const START = '2026-10-01';
const dayName = (d: number): string => `2026-10-${String(d).padStart(2, '0')}`;

let gen = '';
test.before(async () => {
  gen = mkdtempSync(join(tmpdir(), 'distill-screen-incr-gen-'));
  await writeCorpus(join(gen, 'kb'), { records: 600, seed: 23, startDate: START, days: DAYS });
});
test.after(() => rmSync(gen, { recursive: true, force: true }));

/** A project with the generated sources of the given days (and the undated tau-bench array). */
function project(days: number[]): string {
  const root = mkdtempSync(join(tmpdir(), 'distill-screen-incr-'));
  cpSync(join(REPO, 'distill.config.json'), join(root, 'distill.config.json'));
  addDays(root, days);
  return root;
}

/** Copies the generated files of `days` into the project's sources (tau-bench: once). */
function addDays(root: string, days: number[]): void {
  const kb = join(gen, 'kb');
  for (const stream of readdirSync(kb)) {
    for (const name of readdirSync(join(kb, stream))) {
      const isDay = days.some((d) => name.startsWith(dayName(d)));
      const undated = !/^\d{4}-\d{2}-\d{2}/.test(name);
      const dest = join(root, 'data', '_kb', stream, name);
      if (!isDay && !(undated && !exists(dest))) continue;
      mkdirSync(join(root, 'data', '_kb', stream), { recursive: true });
      cpSync(join(kb, stream, name), dest);
    }
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

async function phase(root: string, name: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await inProcess([name, '--root', root], { env });
  assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Builds evidence, scores and screens; returns screen's closing line. */
async function build(root: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  await phase(root, 'build-evidence');
  await phase(root, 'score');
  return phase(root, 'screen', env);
}

/**
 * data/screened of a cold screen of the same inputs: a copy of the project (its evidence and scored
 * runs, which are deterministic from the sources) without any screen cache or output, screened
 * with the incremental path off.
 */
async function coldOf(root: string): Promise<Record<string, string>> {
  const fresh = mkdtempSync(join(tmpdir(), 'distill-screen-cold-'));
  try {
    cpSync(join(root, 'distill.config.json'), join(fresh, 'distill.config.json'));
    for (const d of ['data/_kb', 'data/evidence', 'data/scored-runs'])
      cpSync(join(root, d), join(fresh, d), { recursive: true });
    const log = await phase(fresh, 'screen', { DISTILL_SCREEN_INCREMENTAL: '0' });
    assert.match(log, /dedup cold: incremental screen turned off.*, 0 of them from the cache;/);
    return treeHashes(join(fresh, 'data', 'screened'));
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

const lines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

/** recorded_at of every evidence record by its source line (what a screen quarantine row names). */
function recordedAt(root: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (!name.startsWith('_')) walk(p);
      } else if (name.endsWith('.jsonl'))
        for (const l of lines(p)) {
          const r = JSON.parse(l) as {
            recorded_at: string | null;
            provenance: { source_file: string; line_offset: number };
          };
          out.set(`${r.provenance.source_file}:${r.provenance.line_offset}`, r.recorded_at);
        }
    }
  };
  walk(join(root, 'data', 'evidence'));
  return out;
}

/** The published screen output: runs day files by path, and the quarantine rows. */
function snapshot(root: string): { days: Record<string, string>; quarantine: string[] } {
  const dir = join(root, 'data', 'screened');
  const days = Object.fromEntries(Object.entries(treeHashes(join(dir, 'runs'))).map(([k, v]) => [k, v]));
  return { days, quarantine: lines(join(dir, '_quarantine.jsonl')) };
}

test('incremental screen == cold screen: after one new day, after three new days one build at a time, after a backfilled day, after a late signal edits an old day; a later day never changes an earlier decision', async () => {
  // days 1, 2, 4, 5 first; day 3 comes last, as a backfill
  const root = project([1, 2, 4, 5]);
  try {
    assert.match(await build(root), /dedup cold: no dedup index of an earlier build/);
    const before = snapshot(root);
    const at = recordedAt(root);

    // one new day
    addDays(root, [6]);
    const log6 = await build(root);
    assert.match(
      log6,
      /dedup incremental: decided the units from 2026-10-06 on, against [1-9][\d,]* kept units/,
    );
    assert.match(log6, /[1-9]\d* day files taken from the last build/);
    // the undated judgments file grew by the new day's rows: only those were screened
    assert.match(log6, /, 1 grown \(only the new rows screened\);/);
    assert.deepEqual(treeHashes(join(root, 'data', 'screened')), await coldOf(root), 'one new day');
    // nothing about an earlier dated unit changed: its day file and its quarantine row are as they were
    const after = snapshot(root);
    for (const [file, hash] of Object.entries(before.days))
      if (!file.startsWith('undated/')) assert.equal(after.days[file], hash, file);
    const kept = new Set(after.quarantine);
    let dated = 0;
    for (const row of before.quarantine) {
      const q = JSON.parse(row) as { source_file: string; line_offset: number; reason: string };
      const when = at.get(`${q.source_file}:${q.line_offset}`);
      assert.notEqual(when, undefined, `${q.source_file}:${q.line_offset} is an evidence record`);
      if (when === null) continue; // undated units come after every day: a new day may change them
      dated++;
      assert.ok(kept.has(row), `unchanged: ${q.reason} of ${q.source_file}:${q.line_offset}`);
    }
    assert.ok(dated > 20, `the first build dropped dated units (${dated})`);
    assert.ok(
      before.quarantine.some((r) => r.includes('DUPLICATE_OF')),
      'the corpus has duplicates to keep stable',
    );

    // three more days, one build at a time (7, 8 here; 6 above)
    addDays(root, [7]);
    assert.match(await build(root), /dedup incremental: decided the units from 2026-10-07 on/);
    addDays(root, [8]);
    assert.match(await build(root), /dedup incremental: decided the units from 2026-10-08 on/);
    assert.deepEqual(treeHashes(join(root, 'data', 'screened')), await coldOf(root), 'three new days');

    // a backfilled day: re-decided from it onward
    addDays(root, [3]);
    const log3 = await build(root);
    assert.match(log3, /dedup backfill: re-decided from 2026-10-03 onward/);
    assert.deepEqual(treeHashes(join(root, 'data', 'screened')), await coldOf(root), 'backfilled day');

    // a late signal for an old run (a reward on a new day): score rewrites that run's day file, an
    // edited old input, so screen re-decides from that day on
    const gw = lines(join(root, 'data', 'evidence', '2026', '10', '02', 'gateway_calls.jsonl'));
    const trace = (JSON.parse(gw[0] as string) as { trace_id: string }).trace_id;
    writeFileSync(
      join(root, 'data', '_kb', 'rewards', '2026-10-09.jsonl'),
      `${JSON.stringify({ trace_id: trace, timestamp: '2026-10-09T01:00:00.000Z', environment: 'sql-sandbox', reward: 1, episode_id: 'ep_late_1' })}\n`,
    );
    const late = await build(root);
    assert.match(late, /dedup backfill: re-decided from 2026-10-02 onward/);
    assert.deepEqual(treeHashes(join(root, 'data', 'screened')), await coldOf(root), 'an edited old input');

    // nothing new: every file from the last build, the same bytes
    const same = treeHashes(join(root, 'data', 'screened'));
    assert.match(await phase(root, 'screen'), /dedup nothing changed: every file taken from the last build/);
    assert.deepEqual(treeHashes(join(root, 'data', 'screened')), same);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a published file edited by hand, or a lost index, makes the next screen cold (and still right)', async () => {
  const root = project([1, 2, 3]);
  try {
    await build(root);
    addDays(root, [4]);
    await phase(root, 'build-evidence');
    await phase(root, 'score');
    // a day file of the last build no longer matches its manifest: not linked, the build starts over cold
    const dayFile = join(root, 'data', 'screened', 'runs', '2026', '10', '01', 'runs.jsonl');
    const text = readFileSync(dayFile, 'utf8');
    rmSync(dayFile);
    cpSync(join(root, 'distill.config.json'), dayFile); // any other bytes
    const log = await phase(root, 'screen');
    assert.match(
      log,
      /dedup cold: the last build's output or index did not check out \(data\/screened\/runs\/2026\/10\/01\/runs\.jsonl does not match/,
    );
    assert.equal(readFileSync(dayFile, 'utf8'), text, 'rebuilt as it was');
    assert.deepEqual(treeHashes(join(root, 'data', 'screened')), await coldOf(root));
    // the index gone: cold, said so
    rmSync(join(root, '.distill', 'cache', 'screen-dedup'), { recursive: true, force: true });
    assert.match(await phase(root, 'screen'), /dedup cold: no dedup index of an earlier build/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
