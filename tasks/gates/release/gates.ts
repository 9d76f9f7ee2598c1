import { acceptanceProblems, type AcceptanceResult } from '../audit/acceptance-check.ts';
import { AUDIT_CHART, AUDIT_REPORT } from '../audit/report.ts';
import { BASELINE_FILE, BASELINE_HEAD } from '../audit/baseline.ts';
import { n } from '../../lib/log.ts';
import type { Loaded } from '../../run/run-reports.ts';
import type { CommitRef, StatusEntry } from './git.ts';
import type { PhaseCommit } from './phase-map.ts';

/**
 * The six release gates as pure functions over facts gathered beforehand (tasks/gates/release/release-freeze.ts
 * gathers them), so each can be tested in-process. A gate passes, fails, or is skipped; a
 * skipped gate is not a pass: the release is not ready.
 */

/** The gates, in the order they run and are reported. */
export const GATES = [
  { id: 'clean-git', name: 'clean git state' },
  { id: 'tests', name: 'full test suite (npm test)' },
  { id: 'phase-commits', name: "every phase's recorded commit resolves" },
  { id: 'acceptance', name: 'acceptance (npm run acceptance)' },
  { id: 'audit-full', name: 'audit-full' },
  { id: 'tag-available', name: 'release tag not taken' },
] as const;
/** Id of a release gate. */
export type GateId = (typeof GATES)[number]['id'];

/** One gate's outcome. */
export interface GateResult {
  id: GateId;
  name: string;
  status: 'pass' | 'fail' | 'skipped';
  detail: string;
  /** What is wrong, one line each (what, where, how to fix). */
  problems: string[];
}

const nameOf = (id: GateId): string => GATES.find((g) => g.id === id)?.name ?? id;
const result = (id: GateId, problems: string[], okDetail: string): GateResult => ({
  id,
  name: nameOf(id),
  status: problems.length === 0 ? 'pass' : 'fail',
  detail:
    problems.length === 0
      ? okDetail
      : (problems[0] as string) + (problems.length > 1 ? ` (and ${n(problems.length - 1)} more)` : ''),
  problems,
});

/** The invariants the acceptance gate must report, all passing. */
export const ACCEPTANCE_INVARIANTS = 22;

/**
 * Files release-freeze tolerates as uncommitted, because the gates themselves regenerate them:
 * the reports (git-ignored, listed in case an older .gitignore tracks them) and the audit baseline
 * and its head (tracked; audit-full appends a row on every run, so the baseline must only have
 * grown since HEAD, never changed).
 */
export const TOLERATED_PATHS: readonly string[] = [
  AUDIT_REPORT,
  AUDIT_CHART,
  'reports/distillation/acceptance.json',
  'reports/distillation/phase6-acceptance-report.md',
  'reports/distillation/release-freeze.md',
  'reports/distillation/release-manifest.json',
  BASELINE_FILE,
  BASELINE_HEAD,
];

/** Facts for gate 1. */
export interface CleanGitFacts {
  repo: boolean;
  /** Uncommitted changes (paths relative to the project root). */
  entries: readonly StatusEntry[];
  /** Whether the baseline at HEAD is a byte prefix of the one on disk; null when it is unchanged or not committed. */
  baselineAppendOnly: boolean | null;
  /** The first commit of the baseline's git history that changed committed rows instead of appending (null: append-only). */
  baselineHistory?: { sha: string; problem: string } | null;
  /** Rewrites of the committed baseline that a later commit restored (information only, not a failure). */
  baselineReverted?: readonly { sha: string; problem: string; restoredIn: string }[];
}

/** Gate 1: nothing uncommitted but the tolerated reports and the (only appended) baseline. */
export function cleanGitGate(f: CleanGitFacts): GateResult {
  if (!f.repo)
    return result(
      'clean-git',
      ['not a git repository: a release must be a commit; run release-freeze in a git checkout'],
      '',
    );
  const problems: string[] = [];
  const tolerated: string[] = [];
  let untrackedBaseline = false;
  for (const e of f.entries) {
    const isBaseline = e.path === BASELINE_FILE || e.path === BASELINE_HEAD;
    // a deleted baseline (with its head) would let audit-full start a new history silently
    const deletedBaseline = isBaseline && e.status.includes('D');
    if (isBaseline && e.status.trim() === '??') untrackedBaseline = true;
    else if (!TOLERATED_PATHS.includes(e.path) || deletedBaseline)
      problems.push(`${e.status.trim() || '??'} ${e.path}`);
    else tolerated.push(e.path);
  }
  const out: string[] = [];
  // The baseline policy (docs/operator-handoff.md, "The audit baseline"): audits append rows, and
  // the rows travel with the repository. Rows that were never committed are a history no clone has.
  if (untrackedBaseline)
    out.push(
      `${BASELINE_FILE} is not committed: the audit baseline is the tracked record of every audit, and a release freezes against a committed one; commit it with \`git add ${BASELINE_FILE} ${BASELINE_HEAD} && git commit -m "audit baseline"\` and rerun`,
    );
  if (problems.length > 0)
    out.push(
      `${n(problems.length)} uncommitted change${problems.length === 1 ? '' : 's'}: ${problems.slice(0, 8).join(', ')}${problems.length > 8 ? ', …' : ''}; commit or stash them (git stash -u) and rerun`,
    );
  if (f.baselineAppendOnly === false)
    out.push(
      `${BASELINE_FILE} differs from HEAD by more than appended rows (edited or truncated): restore it with \`git checkout -- ${BASELINE_FILE} ${BASELINE_HEAD}\``,
    );
  if (f.baselineHistory)
    out.push(
      `the committed history of ${BASELINE_FILE} is not append-only: ${f.baselineHistory.problem}; the baseline is the tamper anchor, so find out who made that commit (\`git show ${f.baselineHistory.sha.slice(0, 12)} -- ${BASELINE_FILE}\`), restore the last good version (\`git checkout ${f.baselineHistory.sha.slice(0, 12)}~1 -- ${BASELINE_FILE} ${BASELINE_HEAD}\`), commit it and rerun (docs/recovery-runbook.md, "AUDIT_CHAIN_BROKEN")`,
    );
  // a rewrite a later commit restored (the recovery in docs/recovery-runbook.md) is information only
  const reverted = (f.baselineReverted ?? []).map(
    (r) => `${r.problem}, restored in ${r.restoredIn.slice(0, 12)}`,
  );
  const info =
    reverted.length === 0
      ? ''
      : `; note: the committed history of ${BASELINE_FILE} holds ${n(reverted.length)} reverted rewrite${reverted.length === 1 ? '' : 's'} (${reverted.join('; ')}), restored, so not a failure`;
  return result(
    'clean-git',
    out,
    (tolerated.length === 0
      ? 'working tree clean'
      : `working tree clean apart from ${n(tolerated.length)} regenerated file${tolerated.length === 1 ? '' : 's'} (${tolerated.join(', ')})`) +
      info,
  );
}

/** Facts for gate 2. */
export interface TestFacts {
  skipped: boolean;
  exitCode: number | null;
  /** `# tests`, `# pass`, `# fail`, `# skipped` from node:test's summary, when printed. */
  counts: { tests: number; pass: number; fail: number; skipped: number } | null;
  /** The names of failing tests (node:test `not ok` lines), first few. */
  failures: string[];
  /** The last lines of the output, for a failure without test names (e.g. the type-check). */
  tail: string[];
}

/** Gate 2: `npm test` exited 0; skipped (--skip-tests) is not release-ready. */
export function testsGate(f: TestFacts): GateResult {
  if (f.skipped)
    return {
      id: 'tests',
      name: nameOf('tests'),
      status: 'skipped',
      detail: 'skipped (--skip-tests): not release-ready; rerun without --skip-tests',
      problems: ['the test suite was skipped (--skip-tests)'],
    };
  const c = f.counts;
  if (f.exitCode === 0)
    return result(
      'tests',
      [],
      c
        ? `${n(c.pass)}/${n(c.tests)} tests pass${c.skipped ? ` (${n(c.skipped)} skipped: optional, e.g. real traces or a model not present)` : ''}`
        : 'npm test exited 0',
    );
  const what =
    f.failures.length > 0
      ? `failing: ${f.failures.slice(0, 5).join('; ')}`
      : `last output: ${f.tail.slice(-3).join(' / ') || '(none)'}`;
  return result(
    'tests',
    [
      `npm test exited ${f.exitCode ?? 'by a signal'}${c ? ` (${n(c.fail)} of ${n(c.tests)} tests fail)` : ''}; ${what}; run \`npm test\` and fix them`,
    ],
    '',
  );
}

/** Facts for gate 3: each pipeline phase's latest receipt, and the phase → commit map. */
export interface PhaseCommitFacts {
  receipts: readonly { phase: string; receiptPath: string; codeVersion: string | null; resolves: boolean }[];
  map: readonly PhaseCommit[];
}

/** Gate 3: every phase's latest receipt names a commit of this repository, and every phase's sources are committed. */
export function phaseCommitsGate(f: PhaseCommitFacts): GateResult {
  const problems: string[] = [];
  for (const r of f.receipts) {
    if (r.codeVersion === null)
      problems.push(`${r.phase}: no receipt at ${r.receiptPath}; build it with \`npm run run-all\``);
    else if (!r.resolves)
      problems.push(
        `${r.phase}: ${r.receiptPath} records code_version ${r.codeVersion}, which is not a commit of this repository (built from another checkout or before a history rewrite); rebuild with \`npm run run-all\``,
      );
  }
  for (const p of f.map)
    if (!p.commit)
      problems.push(
        `${p.phase}: no commit touches its sources (${p.globs.join(', ') || 'none declared'}); commit them`,
      );
  const resolved = f.receipts.filter((r) => r.resolves).length;
  return result(
    'phase-commits',
    problems,
    `${n(resolved)} phase receipts name commits of this repository; ${n(f.map.length)} phases mapped to their last commit`,
  );
}

/** Facts for gate 4. */
export interface AcceptanceFacts {
  exitCode: number | null;
  loaded: Loaded<AcceptanceResult>;
  tail: string[];
}

/** Gate 4: `npm run acceptance` exited 0 and its result holds 22 of 22 invariants. */
export function acceptanceGate(f: AcceptanceFacts, expected = ACCEPTANCE_INVARIANTS): GateResult {
  const problems = acceptanceProblems(f.loaded, expected);
  if (f.exitCode !== 0)
    problems.unshift(
      `npm run acceptance exited ${f.exitCode ?? 'by a signal'}${f.tail.length ? ` (${f.tail.slice(-2).join(' / ')})` : ''}`,
    );
  const r = f.loaded.ok ? f.loaded.value : null;
  return result('acceptance', problems, r ? `${r.passed}/${r.total} invariants pass` : '');
}

/** Facts for gate 5. */
export interface AuditFacts {
  /** Why audit-full did not run (e.g. AUDIT_CHAIN_BROKEN), or null. */
  error: string | null;
  passed: number;
  total: number;
  failing: readonly string[];
  baselineSeq: number | null;
}

/** Gate 5: audit-full ran and every required check held. */
export function auditGate(f: AuditFacts): GateResult {
  if (f.error !== null) return result('audit-full', [f.error], '');
  const problems =
    f.passed === f.total && f.total > 0
      ? []
      : [`${f.passed}/${f.total} required pass; failing: ${f.failing.join(', ')}; see ${AUDIT_REPORT}`];
  return result(
    'audit-full',
    problems,
    `${f.passed}/${f.total} required pass (baseline row ${f.baselineSeq ?? '?'})`,
  );
}

/** Facts for gate 6. */
export interface TagFacts {
  tag: string;
  /** The commit the tag already points at, or null. */
  existing: string | null;
  head: CommitRef | null;
}

/** Gate 6: the release tag does not exist yet (release-freeze never creates it). */
export function tagGate(f: TagFacts): GateResult {
  if (f.existing === null) return result('tag-available', [], `${f.tag} does not exist yet`);
  const same = f.head !== null && f.head.sha === f.existing;
  return result(
    'tag-available',
    [
      same
        ? `${f.tag} already exists and points at this commit (${f.existing.slice(0, 12)}): this release is already tagged; nothing to do`
        : `${f.tag} already exists (at ${f.existing.slice(0, 12)}): bump "version" in package.json (e.g. \`npm version patch --no-git-tag-version\`), commit, and rerun`,
    ],
    '',
  );
}
