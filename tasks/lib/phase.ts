import type { FileEntry, StageCounts } from '../../schemas/stage-receipt.ts';
import { diskName } from './disk.ts';
import { acquireLock } from './lock.ts';
import { log } from './log.ts';
import { codeVersion } from './project.ts';
import { executorRecord, resetBuilt } from './queue/log.ts';
import { currentRunId, writeReceipt } from './receipts.ts';
import { describeUserError, IO_ERROR_EXIT, isIoError, UserError } from './result.ts';
import { leaveCritical, setStopLabel, watchBuild } from './stop.ts';

/** What a phase core reports back to the shell. */
export interface PhaseResult {
  parameters: Record<string, unknown>;
  schemaVersions: Record<string, number>;
  inputs: FileEntry[];
  outputs: FileEntry[];
  counts: StageCounts;
  stats: Record<string, number>;
  /** The closing summary line, without the phase name. */
  summary: string;
}

/**
 * The thin shell around a phase: takes the phase lock, times it, writes the receipt, prints the
 * closing line and turns errors into exit codes (UserError → its code, an I/O error such as ENOSPC
 * → 74, anything else → 1 with a stack, since it is a bug). Returns the exit code; the CLI sets process.exitCode.
 */
export async function runPhase(
  phase: string,
  root: string,
  body: () => Promise<PhaseResult>,
  excluded: readonly string[] = [],
): Promise<number> {
  const started = new Date();
  const t0 = performance.now();
  let release: (() => Promise<void>) | null = null;
  let published = false;
  setStopLabel(phase);
  resetBuilt(phase);
  try {
    // under wireit: stop when the build that started this phase is gone (lib/stop.ts)
    watchBuild(root);
    release = await acquireLock(root, phase);
    const res = await body();
    published = true;
    const executor = executorRecord(phase);
    await writeReceipt(root, {
      schema_version: 1,
      run_id: currentRunId(root),
      phase,
      code_version: codeVersion(root),
      schema_versions: res.schemaVersions,
      parameters: res.parameters,
      inputs: res.inputs,
      outputs: res.outputs,
      counts: splitExcluded(res.counts, excluded),
      stats: res.stats,
      started_at: started.toISOString(),
      duration_ms: Math.round(performance.now() - t0),
      ok: true,
      errors: [],
      ...(executor ? { executor } : {}),
    });
    log.done(`${phase}: ${res.summary} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      log.error(`${phase}: ${describeUserError(e)}`);
      if (e.code === 'LOCKED' || e.code === 'STOPPED') return e.exitCode;
      await failedReceipt(root, phase, started, t0, e.message);
      return e.exitCode;
    }
    if (isIoError(e)) {
      // the disk, not a bug: no stack, one line naming the disk, and what state the outputs are in
      const where = `I/O error on ${diskName((e as NodeJS.ErrnoException).path ?? root)}`;
      log.error(
        published
          ? `${phase}: the outputs were published, but writing its receipt failed (${where}): ${(e as Error).message}`
          : `${phase}: ${where}: ${(e as Error).message}. Nothing was published; the previous outputs are in place. Fix the cause (free disk space, check the device or permissions) and rerun.`,
      );
      await failedReceipt(root, phase, started, t0, (e as Error).message);
      return IO_ERROR_EXIT;
    }
    log.error(
      `${phase}: internal error (a bug; please report it with this stack):\n${(e as Error).stack ?? String(e)}`,
    );
    await failedReceipt(root, phase, started, t0, (e as Error).message);
    return 1;
  } finally {
    if (release) await release();
    // a stop that came during the publish and the receipt happens now
    leaveCritical();
  }
}

/**
 * Pure core: a phase's counts with the rows it left out by policy (reasons in `excluded`, its
 * contract's EXCLUDED list) moved from `quarantined` / `by_reason` to `excluded` /
 * `excluded_by_reason`, so bad rows and policy exclusions are counted apart.
 */
export function splitExcluded(c: StageCounts, excluded: readonly string[]): StageCounts {
  const policy = new Set(excluded);
  const byReason: Record<string, number> = {};
  const excludedBy: Record<string, number> = {};
  for (const [reason, v] of Object.entries(c.by_reason)) {
    if (policy.has(reason)) excludedBy[reason] = v;
    else byReason[reason] = v;
  }
  const out = Object.values(excludedBy).reduce((s, v) => s + v, 0);
  return {
    ...c,
    quarantined: c.quarantined - out,
    by_reason: byReason,
    excluded: out,
    excluded_by_reason: excludedBy,
  };
}

async function failedReceipt(
  root: string,
  phase: string,
  started: Date,
  t0: number,
  message: string,
): Promise<void> {
  try {
    await writeReceipt(root, {
      schema_version: 1,
      run_id: currentRunId(root),
      phase,
      code_version: codeVersion(root),
      schema_versions: {},
      parameters: {},
      inputs: [],
      outputs: [],
      counts: { in: 0, out: 0, quarantined: 0, by_reason: {} },
      stats: {},
      started_at: started.toISOString(),
      duration_ms: Math.round(performance.now() - t0),
      ok: false,
      errors: [message],
    });
  } catch {
    // a failed receipt must not mask the original error
  }
}

/** Adds `n` to `key` in a count map. */
export function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** A count map with keys sorted, for deterministic output. */
export function sortedCounts(map: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
