import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { IsoTimestamp } from '../../schemas/provenance.ts';
import { writeFileAtomic } from './fs-atomic.ts';

/**
 * The run-state file: the first step of every wireit build (`begin-run`) writes it, so every phase
 * process of that one `npm run ...` shares one run id. Relative to the project root.
 */
export const CURRENT_RUN_FILE = 'reports/distillation/.current-run.json';

/** What the run-state file holds. */
export const CurrentRun = z.strictObject({
  run_id: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  started_at: IsoTimestamp,
  /** The npm script that started the build ($npm_lifecycle_event), e.g. "run-all". */
  script: z.string().min(1),
  /**
   * The process that owns the build (the `npm run ...` above wireit): every phase of the build
   * stops when it is gone (lib/stop.ts). `start` tells a reused pid from it.
   */
  owner: z
    .strictObject({ pid: z.number().int().positive(), start: z.string().nullable(), command: z.string() })
    .optional(),
});
export type CurrentRun = z.infer<typeof CurrentRun>;

/** Writes the run-state file for the build that is starting. */
export async function writeCurrentRun(root: string, run: CurrentRun): Promise<void> {
  await writeFileAtomic(join(root, CURRENT_RUN_FILE), `${JSON.stringify(CurrentRun.parse(run), null, 2)}\n`);
}

/** The run-state file, or null when it is absent or unreadable. */
export function readCurrentRun(root: string): CurrentRun | null {
  try {
    const res = CurrentRun.safeParse(JSON.parse(readFileSync(join(root, CURRENT_RUN_FILE), 'utf8')));
    return res.success ? res.data : null;
  } catch {
    return null;
  }
}

/**
 * The run this process belongs to, when it was started by the same npm script that wrote the
 * run-state file (wireit passes $npm_lifecycle_event to every script it runs). A `distill` command
 * run by hand, by npx or by a test has another (or no) script name and gets a run of its own.
 */
export function inheritedRun(root: string, env: NodeJS.ProcessEnv = process.env): CurrentRun | null {
  const script = env['npm_lifecycle_event'];
  if (!script) return null;
  const cur = readCurrentRun(root);
  return cur && cur.script === script ? cur : null;
}

/** Removes the run-state file (the build it described is over). */
export function clearCurrentRun(root: string): void {
  rmSync(join(root, CURRENT_RUN_FILE), { force: true });
}
