import { rmSync } from 'node:fs';
import { inheritedRun } from './current-run.ts';
import { alive, buildOwner, type ProcRef } from './process-tree.ts';
import { ERROR_CODES, UserError } from './result.ts';

/**
 * Stopping a phase cleanly (docs/reliability.md, "Killing a build stops every phase it started"): on SIGINT, SIGTERM or SIGHUP,
 * or when the build that started it is gone, a phase removes its staging and scratch folders and
 * its lock and exits STOPPED (130) without publishing. Outputs are built aside and swapped in
 * whole (staged-dir.ts), so a stop at any point leaves the previous outputs; a stop that arrives
 * while the swap and the receipt are being written waits for them (a few milliseconds) and then exits.
 */

/** Exit code of a stopped command. */
export const STOPPED_EXIT = ERROR_CODES.STOPPED.exit;

const temps = new Set<string>();
let label = 'distill';
let critical = 0;
let pending: string | null = null;

/** A folder or file this process must remove if it is stopped (staging, scratch, its own lock). */
export function trackTemp(path: string): void {
  temps.add(path);
}

/** The path is gone or published: a stop leaves it alone. */
export function untrackTemp(path: string): void {
  temps.delete(path);
}

/** What stop messages name (the phase being run). */
export function setStopLabel(name: string): void {
  label = name;
}

/**
 * The publish begins: a stop now waits for `leaveCritical` (the swap and the receipt). A build
 * that is already gone is not published into: this throws STOPPED instead.
 */
export function enterCritical(): void {
  const gone = watched ? goneFrom(watched) : null;
  if (gone) throw new UserError('STOPPED', `${gone}; nothing was published`);
  critical++;
}

/** The publish and the receipt are written; a stop that came meanwhile happens now. */
export function leaveCritical(): void {
  if (critical === 0) return;
  critical--;
  if (critical === 0 && pending !== null) stopNow(pending, true);
}

function stopNow(why: string, published = false): never {
  for (const p of [...temps].reverse()) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      // best effort: a leftover temp is removed by the next run (stale-pid sweep)
    }
  }
  const state = published
    ? 'its outputs and receipt were complete before it stopped'
    : 'nothing was published; the previous outputs are in place';
  try {
    process.stderr.write(`✖ ${label}: stopped: ${why}; ${state} [STOPPED]\n`);
  } catch {
    // stderr may be a closed pipe (wireit gone)
  }
  process.exit(STOPPED_EXIT);
}

/** Stops now, or right after the publish under way. */
export function requestStop(why: string): void {
  if (critical > 0) {
    pending ??= why;
    return;
  }
  stopNow(why);
}

let installed = false;

/** SIGINT, SIGTERM and SIGHUP stop the command cleanly (the CLI entry point installs this). */
export function installStopHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => requestStop(`${sig} received`));
}

interface Watched {
  refs: { ref: ProcRef; what: string }[];
}
let watched: Watched | null = null;

/** True when `watchBuild` found a wireit build above this process. */
export function underWireit(): boolean {
  return watched !== null;
}
let timer: NodeJS.Timeout | null = null;

function goneFrom(w: Watched): string | null {
  for (const { ref, what } of w.refs) if (!alive(ref)) return what;
  return null;
}

/**
 * Under wireit: watches the processes between this one and the build's owner (the `npm run ...`
 * that started it, as found now and as begin-run recorded it in the run-state file), every 250 ms.
 * When one is gone (the group of `npm run run-all` was killed, or npm was), the command stops.
 * Throws STOPPED at once when the build is already gone (wireit outliving a killed npm starts the
 * next phase). A no-op outside wireit.
 */
export function watchBuild(root: string): void {
  if (watched || !process.env['npm_lifecycle_event']) return;
  const build = buildOwner();
  if (!build) return;
  const recorded = inheritedRun(root)?.owner;
  const owner = `the build that started it (${build.command}, pid ${build.owner.pid})`;
  // the owner first, so the message names it when the whole group went
  const refs = [
    { ref: build.owner, what: `${owner} is gone` },
    ...build.chain
      .filter((ref) => ref.pid !== build.owner.pid)
      .map((ref) => ({ ref, what: `${owner} is broken: its process ${ref.pid} ended` })),
  ];
  if (recorded && recorded.pid !== build.owner.pid)
    refs.unshift({
      ref: { pid: recorded.pid, start: recorded.start },
      what: `the build that started it (${recorded.command}, pid ${recorded.pid}) is gone`,
    });
  watched = { refs };
  const gone = goneFrom(watched);
  if (gone) throw new UserError('STOPPED', `${gone}; not started`);
  timer = setInterval(() => {
    const g = watched ? goneFrom(watched) : null;
    if (g) requestStop(g);
  }, 250);
  timer.unref();
  // with wireit gone, a write to its pipe fails (EPIPE): stop rather than die on an unhandled error
  for (const s of [process.stdout, process.stderr])
    s.on('error', () => requestStop('its output pipe closed (the build that started it is gone)'));
}
