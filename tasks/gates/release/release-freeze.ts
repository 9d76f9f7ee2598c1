import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ReleaseManifest, SCHEMA_VERSION as MANIFEST_V } from '../../../schemas/release-manifest.ts';
import { readAcceptance } from '../audit/acceptance-check.ts';
import { REQUIRED_CHECKS } from '../audit/check-list.ts';
import { exportsDigest } from '../audit/export-digest.ts';
import { corpusCounts } from '../audit/metrics.ts';
import { auditFull } from '../audit/audit-full.ts';
import { BASELINE_FILE, readBaseline } from '../audit/baseline.ts';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import { log } from '../../lib/log.ts';
import { latestReceipt, REPORTS_DIR } from '../../lib/receipts.ts';
import { UserError } from '../../lib/result.ts';
import { readCodeInputs, type PipelinePhase } from '../../phases/registry.ts';
import {
  acceptanceGate,
  auditGate,
  cleanGitGate,
  phaseCommitsGate,
  tagGate,
  testsGate,
  type AuditFacts,
  type GateResult,
  type PhaseCommitFacts,
  type TestFacts,
} from './gates.ts';
import {
  appendOnlyHistory,
  commitResolves,
  committedFile,
  currentBranch,
  headCommit,
  isRepo,
  repoPrefix,
  statusEntries,
  tagTarget,
} from './git.ts';
import { phaseCommitMap, phaseSources, type PhaseCommit, type WireitScript } from './phase-map.ts';
import {
  RELEASE_MANIFEST,
  RELEASE_REPORT,
  formatFreeze,
  releaseTag,
  renderFreeze,
  tagCommand,
} from './report.ts';
import { parseTestOutput, runNpm, tailLines, type CommandOutput } from './runners.ts';

/**
 * `distill release-freeze` (`npm run release-freeze`, the last node of the wireit graph, after
 * run-all): always runs the six release gates and reports each: 1 clean git state, 2 `npm test`,
 * 3 every phase's recorded commit resolves, 4 `npm run acceptance` (22/22), 5 audit-full (16/16),
 * 6 the tag `distillation-v<version>` is free. Writes reports/distillation/release-freeze.md and
 * release-manifest.json and prints the `git tag -a` command when all six pass. Never creates the
 * tag. Ready (exit 0) only when every gate passes; a skipped gate is not a pass.
 */

/** How the slow gates run; tests replace them with stubs. */
export interface FreezeRunners {
  tests: (root: string) => Promise<TestFacts>;
  acceptance: (root: string) => Promise<CommandOutput>;
  audit: (root: string, phases: readonly PipelinePhase[]) => Promise<AuditFacts>;
}

/** The real runners: `npm test`, `npm run acceptance`, and audit-full in this process. */
export const DEFAULT_RUNNERS: FreezeRunners = {
  tests: async (root) => {
    const r = await runNpm(root, ['test']);
    return parseTestOutput(r.exitCode, r.output);
  },
  acceptance: (root) => runNpm(root, ['run', 'acceptance']),
  audit: async (root, phases) => {
    try {
      const res = await auditFull(root, { phases });
      return {
        error: null,
        passed: res.passed,
        total: res.total,
        failing: res.checks.filter((c) => !c.ok).map((c) => c.id),
        baselineSeq: res.row.seq,
      };
    } catch (e) {
      if (e instanceof UserError)
        return { error: e.message, passed: 0, total: REQUIRED_CHECKS, failing: [], baselineSeq: null };
      throw e;
    }
  },
};

/** Options of a freeze. `skipTests` exists for the tests of release-freeze itself: it makes the release not ready. */
export interface FreezeOptions {
  skipTests: boolean;
  phases: readonly PipelinePhase[];
  runners?: Partial<FreezeRunners>;
  now?: () => Date;
}

async function packageJson(root: string): Promise<{ version: string; wireit: Record<string, WireitScript> }> {
  let raw: { version?: unknown; wireit?: Record<string, WireitScript> };
  try {
    raw = JSON.parse(await fsp.readFile(join(root, 'package.json'), 'utf8')) as typeof raw;
  } catch (e) {
    throw new UserError(
      'CONFIG_INVALID',
      `cannot read ${join(root, 'package.json')} (${(e as Error).message}): release-freeze takes the version from it`,
    );
  }
  if (typeof raw.version !== 'string' || !/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(raw.version))
    throw new UserError(
      'CONFIG_INVALID',
      `package.json "version" is ${JSON.stringify(raw.version)}: expected a semver such as 1.0.0 (the tag is distillation-v<version>)`,
    );
  return { version: raw.version, wireit: raw.wireit ?? {} };
}

/** Gate 1's facts: uncommitted changes relative to the project root, and whether the baseline only grew. */
async function gitState(root: string): Promise<Parameters<typeof cleanGitGate>[0]> {
  if (!isRepo(root)) return { repo: false, entries: [], baselineAppendOnly: null, baselineHistory: null };
  const prefix = repoPrefix(root);
  const entries = (statusEntries(root) ?? []).map((e) => ({
    status: e.status,
    path: e.path.startsWith(prefix) ? e.path.slice(prefix.length) : `(outside the project) ${e.path}`,
  }));
  let baselineAppendOnly: boolean | null = null;
  if (entries.some((e) => e.path === BASELINE_FILE && e.status.includes('M'))) {
    const committed = committedFile(root, BASELINE_FILE);
    const now = await fsp.readFile(join(root, BASELINE_FILE)).catch(() => null);
    baselineAppendOnly =
      committed !== null &&
      now !== null &&
      now.length >= committed.length &&
      now.subarray(0, committed.length).equals(committed);
  }
  const history = appendOnlyHistory(root, BASELINE_FILE);
  return {
    repo: true,
    entries,
    baselineAppendOnly,
    baselineHistory: history.rewrite,
    baselineReverted: history.reverted,
  };
}

/** Runs the six gates, writes the report and manifest, prints them; returns the manifest (ready = all six pass). */
export async function releaseFreeze(root: string, opts: FreezeOptions): Promise<ReleaseManifest> {
  const runners: FreezeRunners = { ...DEFAULT_RUNNERS, ...opts.runners };
  const pkg = await packageJson(root);
  // refused here, before the slow gates run, when the module lists are gone (gate 3 maps each phase by them)
  const code = readCodeInputs(
    root,
    opts.phases.map((p) => p.phase),
  );
  const tag = releaseTag(pkg.version);
  const repo = isRepo(root);
  const head = repo ? headCommit(root) : null;
  const step = (i: number, what: string): void => log.info(`release-freeze ${i}/6: ${what}`);

  step(1, 'git state');
  const clean = cleanGitGate(await gitState(root)); // first: before any gate regenerates a file
  const tagFacts = {
    tag,
    existing: repo ? tagTarget(root, tag) : null,
    head: head ? { sha: head, subject: '' } : null,
  };

  step(
    2,
    opts.skipTests ? 'npm test skipped (--skip-tests)' : 'npm test (the whole suite; this takes a while)',
  );
  const tests = opts.skipTests
    ? testsGate({ skipped: true, exitCode: null, counts: null, failures: [], tail: [] })
    : testsGate(await runners.tests(root));

  step(3, 'phase commits');
  const receipts: PhaseCommitFacts['receipts'][number][] = [];
  for (const p of opts.phases) {
    const r = await latestReceipt(root, p.phase);
    const cv = r?.code_version ?? null;
    receipts.push({
      phase: p.phase,
      receiptPath: `${REPORTS_DIR}/latest/${p.phase}.receipt.json`,
      codeVersion: cv,
      resolves: repo && cv !== null && commitResolves(root, cv),
    });
  }
  const sources = phaseSources(pkg.wireit, opts.phases, code);
  const map: PhaseCommit[] = repo
    ? phaseCommitMap(root, sources)
    : sources.map((s) => ({ ...s, commit: null }));
  const commits = phaseCommitsGate({ receipts, map });

  step(4, 'npm run acceptance');
  const acc = await runners.acceptance(root);
  const acceptance = acceptanceGate({
    exitCode: acc.exitCode,
    loaded: await readAcceptance(root),
    tail: tailLines(acc.output, 4),
  });

  step(5, 'audit-full');
  const audit = auditGate(await runners.audit(root, opts.phases));

  step(6, `tag ${tag}`);
  const tagResult = tagGate(tagFacts);

  const gates: GateResult[] = [clean, tests, commits, acceptance, audit, tagResult];
  const ready = gates.every((g) => g.status === 'pass');
  const counts = await corpusCounts(root, opts.phases);
  const digest = await exportsDigest(root);
  const last = await readBaseline<unknown>(root).then(
    (b) => b.rows.at(-1) ?? null,
    () => null,
  );
  const manifest = ReleaseManifest.parse({
    schema_version: MANIFEST_V,
    version: pkg.version,
    tag,
    ready,
    git_head: head,
    git_branch: repo ? currentBranch(root) : null,
    released_at: (opts.now ?? (() => new Date()))().toISOString(),
    phase_commits: map.map((p) => ({
      phase: p.phase,
      commit: p.commit?.sha ?? null,
      subject: p.commit?.subject ?? null,
      receipt_code_version: receipts.find((r) => r.phase === p.phase)?.codeVersion ?? null,
      sources: p.globs,
    })),
    dataset_counts: {
      rag: counts.rag,
      sft: counts.sft,
      sft_partial: counts.sft_partial,
      preference: counts.preference,
      kto: counts.kto,
      evidence: counts.evidence,
      scored: counts.scored,
      screened: counts.screened,
      quarantined: counts.quarantined,
    },
    latest_baseline_row: last ? { seq: last.seq, prev: last.prev, entry: last.entry } : null,
    gates: gates.map((g, i) => ({
      n: i + 1,
      id: g.id,
      name: g.name,
      status: g.status,
      detail: g.detail,
      problems: g.problems,
    })),
    exports: digest,
    tag_command: ready && head ? tagCommand(tag, head, digest.sha256) : null,
  });
  await writeFileAtomic(join(root, RELEASE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFileAtomic(join(root, RELEASE_REPORT), renderFreeze(manifest));
  log.report(formatFreeze(manifest));
  return manifest;
}
