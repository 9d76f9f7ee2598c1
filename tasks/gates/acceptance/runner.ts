import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentRunId } from '../../lib/receipts.ts';
import { readDrift, readSummary } from '../../run/run-reports.ts';
import type { PipelinePhase } from '../../phases/registry.ts';
import { runAll } from '../../run/run-all.ts';
import { copyProject, outputHashes } from '../determinism/verify-determinism.ts';
import { captureStderr, tail } from './capture-stderr.ts';
import type { Expected } from './expected.ts';
import { loadSnapshot } from './load-snapshot.ts';
import type { BuildLabel, BuildRecord, Snapshot } from './snapshot.ts';

/**
 * The shell that builds the acceptance fixture three times in temporary folders, in this process:
 *   first    — a copy of the fixture, `run-all` (every phase of tasks/phases/registry.ts, in order);
 *              the snapshot is loaded from it right after;
 *   rerun    — `run-all` again in the same folder (outputs rewritten in place, drift against first);
 *   shuffled — a fresh copy with the config's sources and each source's globs in reverse order.
 * Each build's output hashes, summary and drift go into the snapshot for the invariants.
 */

/** How to run the pipeline: the phases in build order and a way to run one `distill` command in a root. */
export interface PipelineDeps {
  phases: readonly PipelinePhase[];
  runPhase: (root: string, argv: readonly string[]) => Promise<number>;
}

/** Test hooks: inert unless given. */
export interface AcceptanceHooks {
  /** Called after each phase of each build (a test can mutate an intermediate output here). */
  afterPhase?: (ctx: { build: BuildLabel; phase: string; root: string }) => void | Promise<void>;
}

/** What one acceptance build needs. */
export interface RunnerOptions {
  fixtureDir: string;
  expected: Expected;
  bundledStreams: { stream: string; adapter: string }[];
  deps: PipelineDeps;
  hooks?: AcceptanceHooks;
  /** Keep the temporary folder (its path is returned). */
  keep?: boolean;
  /** Parent of the temporary folder (default: the OS temp dir). */
  tmpParent?: string;
}

/** The built fixture: the snapshot, and where the builds were (removed unless `keep`). */
export interface BuiltFixture {
  snapshot: Snapshot;
  workDir: string;
  roots: Record<BuildLabel, string>;
}

/** A first build that failed: nothing can be checked. */
export class FixtureBuildError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

/** Runs `run-all` in `root` in this process, quietly; records exit code, output hashes, summary and drift. */
async function build(label: BuildLabel, root: string, o: RunnerOptions): Promise<BuildRecord> {
  const phaseName = (argv: readonly string[]): string =>
    o.deps.phases.find((p) => p.argv.join(' ') === argv.join(' '))?.phase ?? argv.join(' ');
  const cap = captureStderr();
  let exitCode: number;
  let crash = '';
  try {
    exitCode = await runAll(
      root,
      { mode: 'run', json: false },
      {
        phases: o.deps.phases,
        runPhase: async (argv) => {
          const code = await o.deps.runPhase(root, argv);
          if (o.hooks?.afterPhase) await o.hooks.afterPhase({ build: label, phase: phaseName(argv), root });
          return code;
        },
      },
    );
  } catch (e) {
    exitCode = 1;
    crash = `\n${(e as Error).stack ?? String(e)}`;
  } finally {
    crash = cap.stop() + crash;
  }
  const runId = currentRunId(root);
  const summary = await readSummary(root, runId);
  const drift = await readDrift(root, runId);
  return {
    label,
    exitCode,
    log: exitCode === 0 ? '' : tail(crash),
    hashes: Object.fromEntries(outputHashes(root)),
    summary: summary.ok ? summary.value : null,
    drift: drift.ok ? drift.value : null,
  };
}

/**
 * Builds the fixture (first, rerun, shuffled) and loads the snapshot. Throws FixtureBuildError when
 * the first build fails (there is nothing to check then).
 */
export async function buildFixture(o: RunnerOptions): Promise<BuiltFixture> {
  const workDir = mkdtempSync(join(o.tmpParent ?? tmpdir(), 'distill-acceptance-'));
  const roots: Record<BuildLabel, string> = {
    first: join(workDir, 'first'),
    rerun: join(workDir, 'first'),
    shuffled: join(workDir, 'shuffled'),
  };
  // one run id per run-all: a fixed $DISTILL_RUN_ID would put all three builds in one run folder
  const pinnedRunId = process.env['DISTILL_RUN_ID'];
  delete process.env['DISTILL_RUN_ID'];
  try {
    copyProject(o.fixtureDir, roots.first, false);
    const first = await build('first', roots.first, o);
    if (first.exitCode !== 0)
      throw new FixtureBuildError(
        `the first build of the fixture failed (run-all exit ${first.exitCode})`,
        first.log,
      );
    const pending: BuildRecord = {
      label: 'rerun',
      exitCode: -1,
      log: 'not built',
      hashes: {},
      summary: null,
      drift: null,
    };
    let snapshot: Snapshot;
    try {
      snapshot = await loadSnapshot(roots.first, {
        expected: o.expected,
        bundledStreams: o.bundledStreams,
        phases: o.deps.phases,
        builds: { first, rerun: pending, shuffled: { ...pending, label: 'shuffled' } },
      });
    } catch (e) {
      throw new FixtureBuildError(
        `the first build's outputs cannot be loaded (${(e as Error).message.split('\n')[0]})`,
        (e as Error).stack ?? String(e),
      );
    }
    snapshot.builds.rerun = await build('rerun', roots.rerun, o);
    copyProject(o.fixtureDir, roots.shuffled, true);
    snapshot.builds.shuffled = await build('shuffled', roots.shuffled, o);
    return { snapshot, workDir, roots };
  } finally {
    if (pinnedRunId !== undefined) process.env['DISTILL_RUN_ID'] = pinnedRunId;
    if (!o.keep) rmSync(workDir, { recursive: true, force: true });
  }
}
