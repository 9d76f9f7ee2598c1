import { writeCurrentRun } from '../lib/current-run.ts';
import { startRun } from '../lib/receipts.ts';
import { updateSourceFingerprint } from './source-index.ts';

// A module of its own, apart from run-all.ts: begin-run starts on every `npm run` of a phase, and
// run-all's report modules cost ~0.2 s of start-up it does not need.

/**
 * `run-all --begin`, the first step of every wireit build (`begin-run`): writes the run-state
 * file, so every phase wireit runs next, and `run-all --collect` at the end, share one run id;
 * and brings `.distill/sources.fingerprint.json` (what wireit hashes for build-evidence) up to date.
 */
export async function beginRun(root: string): Promise<number> {
  // build-evidence's wireit input: a content fingerprint of the sources, from a stat index (see source-index.ts)
  await updateSourceFingerprint(root);
  const runId = startRun();
  await writeCurrentRun(root, {
    run_id: runId,
    started_at: new Date().toISOString(),
    script: process.env['npm_lifecycle_event'] || 'distill',
  });
  return 0;
}
