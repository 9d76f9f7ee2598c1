import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from '../helpers/project.ts';
import { jsonl, reward } from '../reliability/fixture.ts';

/**
 * A source's rows leave the datasets only when the operator says so, under `npm run` too: there
 * wireit decides whether build-evidence runs at all, and may restore an older output from its
 * cache (WIREIT_CACHE=local) when the sources go back to a state built before. begin-run must
 * refuse such a build before wireit looks (docs/sources.md "When a source vanishes").
 */

/** A copy of the code (node_modules linked) with one `reward` source over `globs` and the given files. */
function project(globs: string[], files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'distill-wireit-vanish-'));
  for (const f of ['package.json', 'tsconfig.json', 'tasks', 'schemas', 'bin'])
    cpSync(join(REPO, f), join(dir, f), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const cfg = {
    schema_version: 1,
    as_of: '2026-11-01T00:00:00.000Z',
    sources: [{ stream: 'rewards', adapter: 'reward', files: globs }],
    exports: { test_fraction: 0 },
  };
  writeFileSync(join(dir, 'distill.config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

/** `npm run build-evidence` as a user types it, with wireit's local cache on. */
function npmBuild(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    CI: 'true',
    DISTILL_QUIET: '1',
    WIREIT_CACHE: 'local',
    ...env,
  };
  for (const k of ['DISTILL_RUN_ID', 'DISTILL_ROOT', 'WIREIT_LOGGER', 'npm_lifecycle_event']) delete e[k];
  if (!('DISTILL_ACCEPT_SOURCE_CHANGES' in env)) delete e['DISTILL_ACCEPT_SOURCE_CHANGES'];
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', 'build-evidence'],
      { cwd: dir, env: e, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** The files of the published build and the evidence records made from each. */
function published(dir: string): Record<string, number> {
  const h = JSON.parse(readFileSync(join(dir, 'data/evidence/_health.json'), 'utf8')) as {
    files: { file: string; records: number }[];
  };
  return Object.fromEntries(h.files.map((f) => [f.file, f.records]));
}

async function ok(dir: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await npmBuild(dir, env);
  assert.equal(r.code, 0, r.out);
}

const rows = (prefix: string, k: number): string =>
  jsonl(...Array.from({ length: k }, (_, i) => reward(`${prefix}${i}`, `2026-10-02T10:0${i}:00Z`)));

// One project, one build after another (each `npm run build-evidence` costs a few CPU seconds: npm,
// wireit, begin-run and the phase): a data/_kb file truncated back to a state built before, one
// deleted back to a state built before, then files outside data/_kb; eight builds where three
// projects took eleven.
test('npm run build-evidence: sources changed back to a state built before are refused, not restored from the cache; sources outside data/_kb are fingerprinted and checked', async (t) => {
  const A = 'data/_kb/rewards/a.jsonl';
  const B = 'data/_kb/rewards/b.jsonl';
  const LA = 'logs/a.jsonl';
  const LB = 'logs/b.jsonl';
  const dir = project(['data/_kb/rewards/*.jsonl', 'logs/*.jsonl'], {
    [A]: rows('ta', 1),
    [LA]: rows('la', 1),
    [LB]: rows('lb', 2),
  });
  await ok(dir);
  assert.deepEqual(published(dir), { [A]: 1, [LA]: 1, [LB]: 2 });
  const oneRow = readFileSync(join(dir, A)).length;
  const extra = jsonl(reward('tz', '2026-10-03T10:00:00Z'));
  const extraLog = jsonl(reward('lz', '2026-10-03T10:00:00Z'));

  await t.test('a file truncated back to a state built before is refused (SOURCE_TRUNCATED)', async () => {
    appendFileSync(join(dir, A), extra);
    await ok(dir);
    assert.deepEqual(published(dir), { [A]: 2, [LA]: 1, [LB]: 2 });

    truncateSync(join(dir, A), oneRow); // the sources of the first build again
    const r = await npmBuild(dir);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /SOURCE_TRUNCATED/);
    assert.match(
      r.out,
      /data\/_kb\/rewards\/a\.jsonl: the file is \d+ bytes now, but the last build read \d+ bytes of it/,
    );
    assert.deepEqual(published(dir), { [A]: 2, [LA]: 1, [LB]: 2 });
    appendFileSync(join(dir, A), extra); // back to the published bytes
  });

  await t.test('a file deleted back to a state built before is refused (SOURCE_MISSING)', async () => {
    writeFileSync(join(dir, B), rows('tb', 3));
    await ok(dir);
    assert.deepEqual(published(dir), { [A]: 2, [B]: 3, [LA]: 1, [LB]: 2 });

    unlinkSync(join(dir, B)); // the sources of the second build again
    const r = await npmBuild(dir);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /SOURCE_MISSING/);
    assert.match(r.out, /data\/_kb\/rewards\/b\.jsonl: it is gone/);
    assert.match(r.out, /the last build made 3 evidence records from its 3 rows/);
    assert.match(r.out, /DISTILL_ACCEPT_SOURCE_CHANGES=1/);
    assert.deepEqual(
      published(dir),
      { [A]: 2, [B]: 3, [LA]: 1, [LB]: 2 },
      'the published build is left as it was',
    );

    // accepted: the rows leave, as the operator said
    await ok(dir, { DISTILL_ACCEPT_SOURCE_CHANGES: '1' });
    assert.deepEqual(published(dir), { [A]: 2, [LA]: 1, [LB]: 2 });
  });

  await t.test(
    'sources outside data/_kb: a changed file reruns (and once accepted, the next build is fine), a deleted one is refused',
    async () => {
      appendFileSync(join(dir, LA), extraLog);
      await ok(dir);
      assert.deepEqual(
        published(dir),
        { [A]: 2, [LA]: 2, [LB]: 2 },
        'an appended row under logs/ reruns build-evidence',
      );

      unlinkSync(join(dir, LB));
      const r = await npmBuild(dir);
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /SOURCE_MISSING/);
      assert.match(r.out, /logs\/b\.jsonl: it is gone/);
      assert.deepEqual(published(dir), { [A]: 2, [LA]: 2, [LB]: 2 });
    },
  );
});
