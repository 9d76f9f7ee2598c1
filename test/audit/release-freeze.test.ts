import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReleaseManifest } from '../../schemas/release-manifest.ts';
import {
  DEFAULT_RUNNERS,
  releaseFreeze,
  type FreezeRunners,
} from '../../tasks/gates/release/release-freeze.ts';
import { parseTestOutput } from '../../tasks/gates/release/runners.ts';
import { RELEASE_MANIFEST, RELEASE_REPORT } from '../../tasks/gates/release/report.ts';
import { appendBaseline, BASELINE_FILE } from '../../tasks/gates/audit/baseline.ts';
import { CODE_INPUTS, PIPELINE } from '../../tasks/phases/registry.ts';
import { runCli } from '../helpers/project.ts';
import { acceptanceJson, git, put, scratchRepo } from './fixture.ts';

/**
 * release-freeze in scratch git repositories: every gate is gathered from the real repository
 * (status, HEAD, tags, git log, receipts); the slow gates (npm test, acceptance, audit-full) are
 * stubbed unless the gate under test is that one. Each gate is broken on purpose in turn.
 */

const PHASES = PIPELINE.filter((p) => p.phase === 'build-evidence');
const PASSING_TESTS = '# tests 3\n# pass 3\n# fail 0\n';

/** A committed scratch project: package.json 1.0.0, the sources the phase map looks for, a receipt of build-evidence at HEAD. */
function project(over: { testScript?: string } = {}): { dir: string; head: string } {
  const pkg = {
    name: 'scratch',
    version: '1.0.0',
    private: true,
    scripts: { test: over.testScript ?? `node -e "process.stdout.write(${JSON.stringify(PASSING_TESTS)})"` },
    wireit: { 'build-evidence': { files: ['.distill/code/build-evidence.json', 'data/_kb/**'] } },
  };
  // the phase map takes a phase's own code from its module list, as npm run wireit:inputs writes it
  // (every phase has a list: release-freeze refuses lists without one of the phases it maps)
  const code = {
    ...Object.fromEntries(PIPELINE.map((p) => [p.phase, []])),
    'build-evidence': ['tasks/lib/result.ts', 'tasks/phases/build-evidence/run.ts'],
  };
  const dir = scratchRepo({
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    '.gitignore': '/reports/distillation/*\n.distill/\n',
    [CODE_INPUTS]: `${JSON.stringify(code, null, 2)}\n`,
    'tasks/phases/build-evidence/run.ts': '// build-evidence\n',
    'tasks/gates/acceptance/run.ts': '// acceptance\n',
    'tasks/gates/audit/audit-full.ts': '// audit-full\n',
    'tasks/gates/release/release-freeze.ts': '// release-freeze\n',
  });
  const head = git(dir, 'rev-parse', 'HEAD');
  put(dir, 'reports/distillation/latest/build-evidence.receipt.json', receipt(head));
  return { dir, head };
}

function receipt(codeVersion: string): string {
  return JSON.stringify({
    schema_version: 1,
    run_id: 'r1',
    phase: 'build-evidence',
    code_version: codeVersion,
    schema_versions: {},
    parameters: {},
    inputs: [],
    outputs: [],
    counts: { in: 0, out: 0, quarantined: 0, by_reason: {} },
    stats: {},
    started_at: '2026-11-01T00:00:00.000Z',
    duration_ms: 1,
    ok: true,
    errors: [],
  });
}

/** Runners that pass: tests 3/3, acceptance 22/22 (written where the real one writes), audit 16/16. */
const passing: FreezeRunners = {
  tests: async () => parseTestOutput(0, PASSING_TESTS),
  acceptance: async (root) => {
    put(root, 'reports/distillation/acceptance.json', acceptanceJson());
    return { exitCode: 0, output: '✔ acceptance: 22/22 invariants hold\n' };
  },
  audit: async () => ({ error: null, passed: 16, total: 16, failing: [], baselineSeq: 1 }),
};

const freeze = (dir: string, runners: Partial<FreezeRunners> = {}, skipTests = false) =>
  releaseFreeze(dir, {
    skipTests,
    phases: PHASES,
    runners: { ...passing, ...runners },
    now: () => new Date('2026-11-30T12:00:00.000Z'),
  });
const statuses = (m: ReleaseManifest): string[] => m.gates.map((g) => `${g.n} ${g.id} ${g.status}`);
const gate = (m: ReleaseManifest, id: string) =>
  m.gates.find((g) => g.id === id) as ReleaseManifest['gates'][number];

test('a committed, clean repository whose gates hold is release-ready: manifest, report, the tag command, and no tag is created', async () => {
  const { dir, head } = project();
  const m = await freeze(dir);
  assert.deepEqual(statuses(m), [
    '1 clean-git pass',
    '2 tests pass',
    '3 phase-commits pass',
    '4 acceptance pass',
    '5 audit-full pass',
    '6 tag-available pass',
  ]);
  assert.equal(m.ready, true);
  assert.equal(m.git_head, head);
  assert.equal(m.git_branch, 'main');
  assert.equal(m.released_at, '2026-11-30T12:00:00.000Z');
  assert.equal(m.tag, 'distillation-v1.0.0');
  assert.equal(
    m.tag_command,
    `git tag -a distillation-v1.0.0 -m "distillation-v1.0.0: 6/6 release gates passed; exports sha256 ${m.exports.sha256}" ${head}`,
  );
  assert.equal(git(dir, 'tag', '-l'), '', 'release-freeze never creates the tag');
  assert.deepEqual(
    m.phase_commits.map((p) => [p.phase, p.commit, p.receipt_code_version]),
    [
      ['build-evidence', head, head],
      ['acceptance', head, null],
      ['audit-full', head, null],
      ['release-freeze', head, null],
    ],
  );
  assert.equal(gate(m, 'tests').detail, '3/3 tests pass');
  assert.equal(gate(m, 'acceptance').detail, '22/22 invariants pass');
  assert.deepEqual(ReleaseManifest.parse(JSON.parse(readFileSync(join(dir, RELEASE_MANIFEST), 'utf8'))), m);
  const md = readFileSync(join(dir, RELEASE_REPORT), 'utf8');
  assert.match(md, /^\*\*release-ready: 6\/6 gates pass\*\*$/m);
  assert.ok(md.includes(`\`\`\`sh\n${m.tag_command}\ngit push origin distillation-v1.0.0\n\`\`\``));
  // the reports it wrote are git-ignored, so a second freeze still finds a clean tree
  assert.equal((await freeze(dir)).ready, true);
});

test('without the module lists (tasks/phases/code-inputs.json) release-freeze refuses before any gate runs, naming the file and the command that writes it', async () => {
  const { dir } = project();
  let ran = false;
  const runner = async () => {
    ran = true;
    return parseTestOutput(0, PASSING_TESTS);
  };
  git(dir, 'rm', '-q', CODE_INPUTS);
  git(dir, 'commit', '-q', '-m', 'lists gone');
  await assert.rejects(freeze(dir, { tests: runner }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(
      e.message,
      /tasks\/phases\/code-inputs\.json cannot be read \(ENOENT\).*npm run wireit:inputs/,
    );
    return true;
  });
  put(dir, CODE_INPUTS, '["not", "a", "map"]\n');
  await assert.rejects(
    freeze(dir, { tests: runner }),
    /code-inputs\.json is not an object of phase → module paths/,
  );
  put(dir, CODE_INPUTS, '{"score": []}\n');
  await assert.rejects(
    freeze(dir, { tests: runner }),
    /code-inputs\.json has no module list for build-evidence: /,
  );
  assert.equal(ran, false, 'no gate ran');
  assert.equal(existsSync(join(dir, RELEASE_MANIFEST)), false, 'no manifest written');
});

test('gate 1 fails on uncommitted work and names each file; the other gates still run and report', async () => {
  const { dir } = project();
  writeFileSync(join(dir, 'tasks/phases/build-evidence/run.ts'), '// changed\n');
  writeFileSync(join(dir, 'notes.txt'), 'todo\n');
  const m = await freeze(dir);
  assert.deepEqual(statuses(m), [
    '1 clean-git fail',
    '2 tests pass',
    '3 phase-commits pass',
    '4 acceptance pass',
    '5 audit-full pass',
    '6 tag-available pass',
  ]);
  assert.equal(
    gate(m, 'clean-git').detail,
    '2 uncommitted changes: M tasks/phases/build-evidence/run.ts, ?? notes.txt; commit or stash them (git stash -u) and rerun',
  );
  assert.equal(m.ready, false);
  assert.equal(m.tag_command, null);
});

test('gate 2 fails when a test fails (real npm test), naming the test; --skip-tests is never release-ready', async () => {
  const script = `node -e "console.log('not ok 1 - sft never holds rejected runs'); console.log('# tests 1'); console.log('# pass 0'); console.log('# fail 1'); process.exit(1)"`;
  const { dir } = project({ testScript: script });
  const m = await freeze(dir, { tests: DEFAULT_RUNNERS.tests });
  assert.equal(gate(m, 'tests').status, 'fail');
  assert.equal(
    gate(m, 'tests').detail,
    'npm test exited 1 (1 of 1 tests fail); failing: sft never holds rejected runs; run `npm test` and fix them',
  );
  assert.equal(m.ready, false);
  const skipped = await freeze(dir, {}, true);
  assert.equal(gate(skipped, 'tests').status, 'skipped');
  assert.equal(skipped.ready, false);
  assert.deepEqual(
    skipped.gates.filter((g) => g.status !== 'pass').map((g) => g.id),
    ['tests'],
  );
});

test('gate 3 fails when a receipt was built from a commit this repository does not have', async () => {
  const { dir } = project();
  put(
    dir,
    'reports/distillation/latest/build-evidence.receipt.json',
    receipt('0123456789abcdef0123456789abcdef01234567'),
  );
  const m = await freeze(dir);
  assert.deepEqual(gate(m, 'phase-commits').problems, [
    'build-evidence: reports/distillation/latest/build-evidence.receipt.json records code_version 0123456789abcdef0123456789abcdef01234567, which is not a commit of this repository (built from another checkout or before a history rewrite); rebuild with `npm run run-all`',
  ]);
});

test('gate 4 fails when acceptance does not hold 22/22', async () => {
  const { dir } = project();
  const m = await freeze(dir, {
    acceptance: async (root) => {
      put(root, 'reports/distillation/acceptance.json', acceptanceJson(22, [9]));
      return { exitCode: 1, output: '✖ acceptance: 21/22 invariants hold\n' };
    },
  });
  assert.deepEqual(gate(m, 'acceptance').problems, [
    'npm run acceptance exited 1 (✖ acceptance: 21/22 invariants hold)',
    'invariant 9 invariant 9 fails: expected 0 rejected rows in SFT, got 1',
  ]);
});

test('a tampered baseline fails gate 1 (edited, not appended) and gate 5 (audit-full refuses, naming the row); an appended one is tolerated', async () => {
  const { dir } = project();
  for (let i = 1; i <= 3; i++) await appendBaseline(dir, { audit: i });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline');
  put(dir, 'reports/distillation/latest/build-evidence.receipt.json', receipt(git(dir, 'rev-parse', 'HEAD')));
  await appendBaseline(dir, { audit: 4 });
  assert.equal(
    gate(await freeze(dir), 'clean-git').detail,
    'working tree clean apart from 2 regenerated files (data/_kb/audit_baselines.head.json, data/_kb/audit_baselines.jsonl)',
  );
  const path = join(dir, BASELINE_FILE);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"audit":2', '"audit":5'));
  const m = await freeze(dir, { audit: DEFAULT_RUNNERS.audit });
  assert.equal(
    gate(m, 'clean-git').problems.at(-1),
    'data/_kb/audit_baselines.jsonl differs from HEAD by more than appended rows (edited or truncated): restore it with `git checkout -- data/_kb/audit_baselines.jsonl data/_kb/audit_baselines.head.json`',
  );
  const audit = gate(m, 'audit-full');
  assert.equal(audit.status, 'fail');
  assert.match(
    audit.detail,
    /^audit-full refuses to run: AUDIT_CHAIN_BROKEN: the first \d+ bytes of data\/_kb\/audit_baselines\.jsonl \(rows 1–4\) no longer hash to the recorded value: a row was edited\. .*\nWhere: row 2 was edited or removed \(row 3 no longer chains to it\)\.$/s,
  );
  assert.equal(m.latest_baseline_row, null, 'a broken baseline has no trustworthy last row');
});

test('gate 6 fails when the release tag already exists', async () => {
  const { dir, head } = project();
  git(dir, 'tag', '-a', 'distillation-v1.0.0', '-m', 'released');
  const m = await freeze(dir);
  assert.equal(
    gate(m, 'tag-available').detail,
    `distillation-v1.0.0 already exists and points at this commit (${head.slice(0, 12)}): this release is already tagged; nothing to do`,
  );
  assert.deepEqual(
    m.gates.filter((g) => g.status !== 'pass').map((g) => g.id),
    ['tag-available'],
  );
});

test('distill release-freeze --skip-tests: six gates reported, not ready (exit 1), report and manifest written', async () => {
  const { dir } = project();
  const r = await runCli(['release-freeze', '--skip-tests', '--root', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^✔ 1\. clean-git {6}working tree clean$/m);
  assert.match(
    r.stderr,
    /^– 2\. tests {10}skipped \(--skip-tests\): not release-ready; rerun without --skip-tests$/m,
  );
  assert.match(
    r.stderr,
    /^✖ 4\. acceptance {5}acceptance \(npm run acceptance\)\n {6}npm run acceptance exited 1 \(npm error Missing script: "acceptance"\)$/m,
  );
  assert.match(
    r.stderr,
    /^ {6}nothing to audit: no phase folder has a _manifest\.json; build the pipeline first with `npm run run-all`; no baseline row was appended$/m,
  );
  assert.match(
    r.stderr,
    /^ {6}score: no receipt at reports\/distillation\/latest\/score\.receipt\.json; build it with `npm run run-all`$/m,
  );
  assert.match(
    r.stderr,
    /^NOT release-ready: 2\/6 gates pass \(not passing: tests \(skipped\), phase-commits, acceptance, audit-full\)$/m,
  );
  assert.ok(existsSync(join(dir, RELEASE_REPORT)) && existsSync(join(dir, RELEASE_MANIFEST)));
});
