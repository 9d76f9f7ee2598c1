import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  acceptanceGate,
  auditGate,
  cleanGitGate,
  phaseCommitsGate,
  tagGate,
  testsGate,
  TOLERATED_PATHS,
} from '../../tasks/gates/release/gates.ts';
import { phaseSources } from '../../tasks/gates/release/phase-map.ts';
import { parseTestOutput, tailLines } from '../../tasks/gates/release/runners.ts';
import { PIPELINE } from '../../tasks/phases/registry.ts';
import { acceptanceJson } from './fixture.ts';

/** The six gates as pure functions over gathered facts: what passes, what fails and what each message says. */

test('gate 1: clean, tolerated regenerated files, uncommitted work, an edited or deleted baseline, no repository', () => {
  assert.deepEqual(cleanGitGate({ repo: true, entries: [], baselineAppendOnly: null }), {
    id: 'clean-git',
    name: 'clean git state',
    status: 'pass',
    detail: 'working tree clean',
    problems: [],
  });
  const regen = cleanGitGate({
    repo: true,
    entries: [
      { status: ' M', path: 'data/_kb/audit_baselines.jsonl' },
      { status: '??', path: 'reports/distillation/release-manifest.json' },
    ],
    baselineAppendOnly: true,
  });
  assert.equal(regen.status, 'pass');
  assert.equal(
    regen.detail,
    'working tree clean apart from 2 regenerated files (data/_kb/audit_baselines.jsonl, reports/distillation/release-manifest.json)',
  );
  const dirty = cleanGitGate({
    repo: true,
    entries: [
      { status: ' M', path: 'tasks/phases/score/run.ts' },
      { status: '??', path: 'notes.txt' },
    ],
    baselineAppendOnly: null,
  });
  assert.equal(dirty.status, 'fail');
  assert.equal(
    dirty.detail,
    '2 uncommitted changes: M tasks/phases/score/run.ts, ?? notes.txt; commit or stash them (git stash -u) and rerun',
  );
  const edited = cleanGitGate({
    repo: true,
    entries: [{ status: ' M', path: 'data/_kb/audit_baselines.jsonl' }],
    baselineAppendOnly: false,
  });
  assert.deepEqual(edited.problems, [
    'data/_kb/audit_baselines.jsonl differs from HEAD by more than appended rows (edited or truncated): restore it with `git checkout -- data/_kb/audit_baselines.jsonl data/_kb/audit_baselines.head.json`',
  ]);
  const deleted = cleanGitGate({
    repo: true,
    entries: [
      { status: ' D', path: 'data/_kb/audit_baselines.jsonl' },
      { status: ' D', path: 'data/_kb/audit_baselines.head.json' },
    ],
    baselineAppendOnly: null,
  });
  assert.equal(
    deleted.detail,
    '2 uncommitted changes: D data/_kb/audit_baselines.jsonl, D data/_kb/audit_baselines.head.json; commit or stash them (git stash -u) and rerun',
  );
  const untracked = cleanGitGate({
    repo: true,
    entries: [
      { status: '??', path: 'data/_kb/audit_baselines.head.json' },
      { status: '??', path: 'data/_kb/audit_baselines.jsonl' },
    ],
    baselineAppendOnly: null,
  });
  assert.equal(untracked.status, 'fail');
  assert.deepEqual(untracked.problems, [
    'data/_kb/audit_baselines.jsonl is not committed: the audit baseline is the tracked record of every audit, and a release freezes against a committed one; commit it with `git add data/_kb/audit_baselines.jsonl data/_kb/audit_baselines.head.json && git commit -m "audit baseline"` and rerun',
  ]);
  assert.equal(
    cleanGitGate({ repo: false, entries: [], baselineAppendOnly: null }).detail,
    'not a git repository: a release must be a commit; run release-freeze in a git checkout',
  );
  assert.ok(TOLERATED_PATHS.includes('reports/distillation/phase8-full-audit-report.md'));
});

test('gate 2: passing, failing with test names, failing without any, skipped (not a pass)', () => {
  const tap = [
    'TAP version 13',
    '# Subtest: a',
    'ok 1 - a',
    '# Subtest: /x/test/b.test.ts',
    '    not ok 2 - the SFT export drops rejected runs',
    'not ok 2 - /x/test/b.test.ts',
    '1..2',
    '# tests 40',
    '# suites 0',
    '# pass 39',
    '# fail 1',
    '',
  ].join('\n');
  const facts = parseTestOutput(1, tap);
  assert.deepEqual(facts.counts, { tests: 40, pass: 39, fail: 1, skipped: 0 });
  assert.deepEqual(facts.failures, ['the SFT export drops rejected runs', '/x/test/b.test.ts']);
  assert.equal(
    testsGate(facts).detail,
    'npm test exited 1 (1 of 40 tests fail); failing: the SFT export drops rejected runs; /x/test/b.test.ts; run `npm test` and fix them',
  );
  assert.equal(testsGate(parseTestOutput(0, '# tests 40\n# pass 40\n# fail 0\n')).detail, '40/40 tests pass');
  assert.equal(
    testsGate(parseTestOutput(0, '# tests 44\n# pass 38\n# fail 0\n# cancelled 0\n# skipped 6\n')).detail,
    '38/44 tests pass (6 skipped: optional, e.g. real traces or a model not present)',
  );
  assert.equal(
    testsGate(parseTestOutput(2, 'tasks/x.ts(3,1): error TS2304: Cannot find name y.\nnpm error code 2\n'))
      .detail,
    'npm test exited 2; last output: tasks/x.ts(3,1): error TS2304: Cannot find name y. / npm error code 2; run `npm test` and fix them',
  );
  const skipped = testsGate({ skipped: true, exitCode: null, counts: null, failures: [], tail: [] });
  assert.equal(skipped.status, 'skipped');
  assert.equal(skipped.detail, 'skipped (--skip-tests): not release-ready; rerun without --skip-tests');
  assert.deepEqual(
    tailLines(
      'x\nnpm error Missing script: "acceptance"\nnpm error\nnpm error To see a list of scripts, run:\nnpm error   npm run\nnpm error A complete log of this run can be found in: /r/x.log\n',
    ),
    ['x', 'npm error Missing script: "acceptance"'],
  );
});

test('gate 3: a receipt from another repository, a phase never built, a phase whose sources are in no commit', () => {
  const commit = { sha: 'a'.repeat(40), subject: 'score' };
  const ok = phaseCommitsGate({
    receipts: [
      {
        phase: 'score',
        receiptPath: 'reports/distillation/latest/score.receipt.json',
        codeVersion: 'a'.repeat(40),
        resolves: true,
      },
    ],
    map: [{ phase: 'score', globs: ['tasks/phases/score/run.ts'], commit }],
  });
  assert.equal(
    ok.detail,
    '1 phase receipts name commits of this repository; 1 phases mapped to their last commit',
  );
  const bad = phaseCommitsGate({
    receipts: [
      {
        phase: 'score',
        receiptPath: 'reports/distillation/latest/score.receipt.json',
        codeVersion: 'b'.repeat(40),
        resolves: false,
      },
      {
        phase: 'screen',
        receiptPath: 'reports/distillation/latest/screen.receipt.json',
        codeVersion: null,
        resolves: false,
      },
    ],
    map: [
      {
        phase: 'release-freeze',
        globs: ['tasks/gates/release/release-freeze.ts', 'tasks/gates/release/**'],
        commit: null,
      },
    ],
  });
  assert.deepEqual(bad.problems, [
    `score: reports/distillation/latest/score.receipt.json records code_version ${'b'.repeat(40)}, which is not a commit of this repository (built from another checkout or before a history rewrite); rebuild with \`npm run run-all\``,
    'screen: no receipt at reports/distillation/latest/screen.receipt.json; build it with `npm run run-all`',
    'release-freeze: no commit touches its sources (tasks/gates/release/release-freeze.ts, tasks/gates/release/**); commit them',
  ]);
});

test('gate 4: 22/22 passes; a failing invariant, 21 invariants, a failed run or a missing result fail', () => {
  const loaded = (total: number, failing: number[] = []) => ({
    ok: true as const,
    value: JSON.parse(acceptanceJson(total, failing)),
  });
  assert.equal(acceptanceGate({ exitCode: 0, loaded: loaded(22), tail: [] }).detail, '22/22 invariants pass');
  assert.deepEqual(
    acceptanceGate({ exitCode: 1, loaded: loaded(22, [3]), tail: ['✖ acceptance: 21/22'] }).problems,
    [
      'npm run acceptance exited 1 (✖ acceptance: 21/22)',
      'invariant 3 invariant 3 fails: expected 0 rejected rows in SFT, got 1',
    ],
  );
  assert.deepEqual(acceptanceGate({ exitCode: 0, loaded: loaded(21), tail: [] }).problems, [
    'reports/distillation/acceptance.json has 21 invariants, expected 22: the acceptance suite changed; run `npm run acceptance`',
  ]);
  assert.deepEqual(
    acceptanceGate({
      exitCode: 1,
      loaded: { ok: false, error: 'reports/distillation/acceptance.json cannot be read (ENOENT)' },
      tail: ['npm error Missing script: "acceptance"'],
    }).problems,
    [
      'npm run acceptance exited 1 (npm error Missing script: "acceptance")',
      'reports/distillation/acceptance.json is missing: run `npm run acceptance`',
    ],
  );
});

test('gate 5: 16/16 passes; 15/16 and a refused audit fail', () => {
  assert.equal(
    auditGate({ error: null, passed: 16, total: 16, failing: [], baselineSeq: 4 }).detail,
    '16/16 required pass (baseline row 4)',
  );
  assert.equal(
    auditGate({ error: null, passed: 15, total: 16, failing: ['provenance'], baselineSeq: 5 }).detail,
    '15/16 required pass; failing: provenance; see reports/distillation/phase8-full-audit-report.md',
  );
  assert.equal(
    auditGate({
      error: 'audit-full refuses to run: AUDIT_CHAIN_BROKEN: row 3 …',
      passed: 0,
      total: 16,
      failing: [],
      baselineSeq: null,
    }).status,
    'fail',
  );
});

test('gate 6: a free tag passes; an existing one fails, saying whether it is this commit', () => {
  const head = { sha: 'c'.repeat(40), subject: '' };
  assert.equal(
    tagGate({ tag: 'distillation-v1.0.0', existing: null, head }).detail,
    'distillation-v1.0.0 does not exist yet',
  );
  assert.equal(
    tagGate({ tag: 'distillation-v1.0.0', existing: 'd'.repeat(40), head }).detail,
    `distillation-v1.0.0 already exists (at ${'d'.repeat(12)}): bump "version" in package.json (e.g. \`npm version patch --no-git-tag-version\`), commit, and rerun`,
  );
  assert.match(
    tagGate({ tag: 'distillation-v1.0.0', existing: 'c'.repeat(40), head }).detail,
    /already exists and points at this commit .*: this release is already tagged; nothing to do$/,
  );
});

test('phase sources: each pipeline phase its own tasks/ files from wireit (not the shared library), then acceptance, audit-full and release-freeze', () => {
  const wireit = {
    score: {
      files: ['tasks/phases/score/run.ts', 'tasks/phases/score/rules.ts', 'data/evidence/_manifest.json'],
    },
    acceptance: { files: ['tasks/gates/acceptance/**/*.ts', 'test/fixtures/acceptance/**'] },
    code: { files: ['tasks/lib/**/*.ts'] },
  };
  const phases = PIPELINE.filter((p) => p.phase === 'score');
  assert.deepEqual(phaseSources(wireit, phases), [
    { phase: 'score', globs: ['tasks/phases/score/run.ts', 'tasks/phases/score/rules.ts'] },
    { phase: 'acceptance', globs: ['tasks/gates/acceptance/invariants.ts', 'tasks/gates/acceptance/**'] },
    { phase: 'audit-full', globs: ['tasks/gates/audit/audit-full.ts', 'tasks/gates/audit/**'] },
    { phase: 'release-freeze', globs: ['tasks/gates/release/release-freeze.ts', 'tasks/gates/release/**'] },
  ]);
});

test("phase sources: a pipeline phase's module list (tasks/phases/code-inputs.json) counts too, without the shared library", () => {
  const phases = PIPELINE.filter((p) => p.phase === 'score');
  const code = {
    score: [
      'schemas/scored-run.ts',
      'tasks/lib/log.ts',
      'tasks/phases/score/run.ts',
      'tasks/phases/score/rules.ts',
    ],
    screen: ['tasks/phases/screen/run.ts'],
  };
  const wireit = { score: { files: ['.distill/code/score.json', 'tasks/phases/score/run.ts'] } };
  assert.deepEqual(phaseSources(wireit, phases, code)[0], {
    phase: 'score',
    globs: ['tasks/phases/score/run.ts', 'tasks/phases/score/rules.ts'],
  });
});
