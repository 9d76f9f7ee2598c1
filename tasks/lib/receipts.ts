import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StageReceipt } from '../../schemas/stage-receipt.ts';
import { inheritedRun } from './current-run.ts';
import { writeFileAtomic } from './fs-atomic.ts';

/** Where run reports live, relative to the project root. */
export const REPORTS_DIR = 'reports/distillation';

let runIdCache: string | undefined;

/**
 * The id of this run, fixed for the life of the process: $DISTILL_RUN_ID when set; otherwise the
 * run of the wireit build this process is part of (the run-state file written by `begin-run`, see
 * current-run.ts); otherwise a new sortable id from the clock and pid. Run ids live in reports
 * only, never in datasets.
 */
export function currentRunId(root?: string): string {
  runIdCache ??= envRunId() ?? (root !== undefined ? inheritedRun(root)?.run_id : undefined) ?? newRunId();
  return runIdCache;
}

/**
 * Starts a new run in this process (`distill run-all`): $DISTILL_RUN_ID or a new id, used by every
 * receipt written after it, so two run-alls in one process do not share a run folder.
 */
export function startRun(): string {
  runIdCache = envRunId() ?? newRunId();
  return runIdCache;
}

/**
 * Forgets the run id of this process, so the next receipt decides it afresh. `main` (the CLI) calls
 * it first: each `distill` command run in one process (the tests run the CLI in-process) is its
 * own run, as each `distill` process is, and reads $DISTILL_RUN_ID as that command sees it.
 */
export function forgetRun(): void {
  runIdCache = undefined;
}

/** $DISTILL_RUN_ID when it is set to a usable folder name. */
function envRunId(): string | undefined {
  const env = process.env['DISTILL_RUN_ID'];
  return env && /^[A-Za-z0-9_.-]+$/.test(env) ? env : undefined;
}

/** A new run id: UTC time to the millisecond plus pid, so ids sort by start time. */
export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${t}-${process.pid.toString(16)}`;
}

/** Validates and writes a receipt into the run's folder and as the phase's latest receipt. */
export async function writeReceipt(root: string, receipt: StageReceipt): Promise<string> {
  const valid = StageReceipt.parse(receipt);
  const text = `${JSON.stringify(valid, null, 2)}\n`;
  const rel = join(REPORTS_DIR, valid.run_id, `${valid.phase}.receipt.json`);
  await writeFileAtomic(join(root, rel), text);
  await writeFileAtomic(join(root, REPORTS_DIR, 'latest', `${valid.phase}.receipt.json`), text);
  return rel;
}

/** Reads the latest receipt of a phase, or null if it never ran here. */
export async function latestReceipt(root: string, phase: string): Promise<StageReceipt | null> {
  try {
    return StageReceipt.parse(
      JSON.parse(await fsp.readFile(join(root, REPORTS_DIR, 'latest', `${phase}.receipt.json`), 'utf8')),
    );
  } catch {
    return null;
  }
}
