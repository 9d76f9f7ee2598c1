import { writeCurrentRun } from '../lib/current-run.ts';
import { acquireRunLock } from '../lib/lock.ts';
import { buildOwner, startOf } from '../lib/process-tree.ts';
import { loadConfig } from '../lib/project.ts';
import { startRun } from '../lib/receipts.ts';
import { PIPELINE } from '../phases/registry.ts';
import { updateCodeDigests } from './code-digest.ts';
import { removeDeadTemps, removeIncompleteCacheEntries } from './leftovers.ts';
import { refuseIfPhaseLocked } from './preflight.ts';
import { updateSourceFingerprint } from './source-index.ts';

// A module of its own, apart from run-all.ts: begin-run starts on every `npm run` of a phase, and
// run-all's report modules cost ~0.2 s of start-up it does not need.

/**
 * `run-all --begin`, the first step of every wireit build (`begin-run`). First the checks that
 * refuse a build before anything is written (no run folder, no run-state file, no drift): the
 * config loads, no other build is running (the run lock, taken for the `npm run ...` process
 * that owns this build, so it is held until `run-all --collect` releases it or that process is
 * gone), and no phase lock is held. Then it removes what killed builds left (dead processes'
 * staging and scratch folders, incomplete wireit cache entries), writes the run-state file, so
 * every phase wireit runs next, and `run-all --collect` at the end, share one run id and know the
 * build's owner, and brings `.distill/sources.fingerprint.json` (what wireit hashes for
 * build-evidence) and `.distill/code/<phase>.json` (each phase's code, code-digest.ts) up to
 * date. Last, it runs build-evidence's source checks that need no reading
 * (a source matching nothing, a file vanished, shrunk or changed since the last build; see
 * build-evidence/preflight.ts): they must refuse the build here, since wireit may restore an
 * older build-evidence output from its cache and never run build-evidence.
 */
export async function beginRun(root: string): Promise<number> {
  const config = loadConfig(root);
  const build = buildOwner();
  const owner = build
    ? { ...build.owner, command: build.command }
    : { pid: process.pid, start: startOf(process.pid), command: 'distill run-all --begin' };
  const release = await acquireRunLock(
    root,
    owner,
    (build?.chain ?? []).map((r) => r.pid),
  );
  try {
    await refuseIfPhaseLocked(root);
    await removeDeadTemps(root);
    await removeIncompleteCacheEntries(root, PIPELINE);
    // the source checks that need no reading, before wireit decides whether build-evidence is
    // fresh or restores an older output from its cache (then build-evidence would never run them)
    const { listSources, previousInputs, checkSourcesBeforeBuild } =
      await import('../phases/build-evidence/preflight.ts');
    const listed = await listSources(root, config);
    // build-evidence's wireit input: a content fingerprint of the sources, from a stat index (see source-index.ts)
    const { now } = await updateSourceFingerprint(root, {
      files: listed.flatMap((l) => l.files),
      readBefore: await previousInputs(root),
    });
    await checkSourcesBeforeBuild(root, listed, now, process.env['DISTILL_ACCEPT_SOURCE_CHANGES'] === '1');
    // every phase's code input: the sha256 of each module it loads (see code-digest.ts)
    await updateCodeDigests(root);
    await writeCurrentRun(root, {
      run_id: startRun(),
      started_at: new Date().toISOString(),
      script: process.env['npm_lifecycle_event'] || 'distill',
      owner,
    });
  } catch (e) {
    // refused or failed (a full disk): the build does not start, and holds nothing
    await release();
    throw e;
  }
  // typed by hand (no wireit build goes on after it): it checked the lock, and holds nothing
  if (!build) await release();
  return 0;
}
