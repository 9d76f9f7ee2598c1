import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StageReceipt } from '../../schemas/stage-receipt.ts';
import { writeFileAtomic } from './fs-atomic.ts';

/** Where run reports live, relative to the project root. */
export const REPORTS_DIR = 'reports/distillation';

let runIdCache: string | undefined;

/**
 * The id of this run: $DISTILL_RUN_ID when run-all set one, otherwise a new sortable id from the
 * clock and pid. Run ids live in reports only, never in datasets.
 */
export function currentRunId(): string {
  if (runIdCache) return runIdCache;
  const env = process.env['DISTILL_RUN_ID'];
  if (env && /^[A-Za-z0-9_.-]+$/.test(env)) runIdCache = env;
  else runIdCache = newRunId();
  return runIdCache;
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
    return StageReceipt.parse(JSON.parse(await fsp.readFile(join(root, REPORTS_DIR, 'latest', `${phase}.receipt.json`), 'utf8')));
  } catch {
    return null;
  }
}
