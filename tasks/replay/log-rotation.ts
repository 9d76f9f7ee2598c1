import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../lib/lock.ts';
import { UserError } from '../lib/result.ts';

/**
 * An append-only JSONL log with size-based rotation and a bounded number of kept files:
 * `<base>.jsonl` is the live file; before a row would push it past `maxBytes` it becomes
 * `<base>.1.jsonl`, `<base>.1.jsonl` becomes `<base>.2.jsonl`, … and `<base>.<keep>.jsonl` is
 * deleted. So at most keep + 1 files exist, each at most `maxBytes` (or one row, if a single row is
 * larger). Appends and rotations of concurrent processes are serialised by a lock.
 */

/** Rotation limits. */
export interface RotationLimits {
  maxBytes: number;
  /** Rotated files kept besides the live one (0 = the live file is simply restarted). */
  keep: number;
}

/** Name of the live file or of rotated file `i` (i ≥ 1). */
export function logFileName(base: string, i = 0): string {
  return i === 0 ? `${base}.jsonl` : `${base}.${i}.jsonl`;
}

async function size(path: string): Promise<number> {
  try {
    return (await fsp.stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/** Shifts every file one slot up and drops the oldest. */
async function rotate(dir: string, base: string, keep: number): Promise<void> {
  await fsp.rm(join(dir, logFileName(base, keep)), { force: true });
  for (let i = keep - 1; i >= 0; i--) {
    try {
      await fsp.rename(join(dir, logFileName(base, i)), join(dir, logFileName(base, i + 1)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

async function lockWithRetry(root: string, name: string, waitMs: number): Promise<() => Promise<void>> {
  const until = performance.now() + waitMs;
  for (;;) {
    try {
      return await acquireLock(root, name);
    } catch (e) {
      if (!(e instanceof UserError) || e.code !== 'LOCKED' || performance.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * Appends rows (already-serialisable values) to `<root>/<relDir>/<base>.jsonl`, rotating first
 * when they would not fit. Holds the `<base>-log` lock (.distill/locks/) while it works.
 */
export async function appendRotating(
  root: string,
  relDir: string,
  base: string,
  rows: readonly unknown[],
  limits: RotationLimits,
): Promise<void> {
  const dir = join(root, relDir);
  await fsp.mkdir(dir, { recursive: true });
  const release = await lockWithRetry(root, `${base}-log`, 5000);
  try {
    for (const row of rows) {
      const line = `${JSON.stringify(row)}\n`;
      const bytes = Buffer.byteLength(line);
      const live = join(dir, logFileName(base));
      const current = await size(live);
      if (current > 0 && current + bytes > limits.maxBytes) await rotate(dir, base, limits.keep);
      await fsp.appendFile(live, line, 'utf8');
    }
  } finally {
    await release();
  }
}
