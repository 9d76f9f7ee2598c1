import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { alive, type ProcRef } from './process-tree.ts';
import { ERROR_CODES, UserError } from './result.ts';
import { trackTemp, untrackTemp } from './stop.ts';

/** Exit code for "another run holds the lock" (EX_TEMPFAIL). */
export const LOCKED_EXIT = ERROR_CODES.LOCKED.exit;

export interface LockInfo {
  pid: number;
  host: string;
  phase: string;
  started_at: string;
  /** Start-time token of `pid` (so a reused pid is not taken for the holder); absent in old locks. */
  start?: string | null;
  /** What holds it, for messages (the run lock: "npm run run-all"). */
  command?: string;
}

/** The lock of a whole build (`npm run <script>` or `distill run-all`): one build at a time. */
export const RUN_LOCK = 'run';

/** Who takes a lock on whose behalf: by default this process. */
export interface LockOwner extends ProcRef {
  command?: string;
}

const lockPath = (root: string, name: string): string => join(root, '.distill', 'locks', `${name}.lock`);

/** The live holder of a lock, or null when it is free or its holder is dead. */
export async function liveHolder(root: string, name: string): Promise<LockInfo | null> {
  const holder = await readLock(lockPath(root, name));
  return holder && holder !== 'gone' && holderAlive(holder) ? holder : null;
}

function holderAlive(h: LockInfo): boolean {
  return h.host === hostname() && alive({ pid: h.pid, start: h.start ?? null });
}

/**
 * Takes the run lock for a build owned by `owner` (the `npm run` process above wireit, or this
 * process for `distill run-all`), held until `releaseRunLock` or until the owner dies. Throws
 * LOCKED naming the holder, its command and start time, when another live build holds it; a lock
 * held by one of `ours` (this build's own processes) is taken over, and one already held by
 * `owner` itself (the same build) is kept.
 */
export async function acquireRunLock(
  root: string,
  owner: LockOwner,
  ours: readonly number[] = [],
): Promise<() => Promise<void>> {
  const path = lockPath(root, RUN_LOCK);
  const mine = await readLock(path);
  if (mine && mine !== 'gone' && ours.includes(mine.pid) && mine.pid !== owner.pid)
    await fsp.rm(path, { force: true });
  // re-entrant for the same wireit build: the lock already names this build's owner (another
  // process: the npm or wireit above us; same pid, same start, this host), e.g. a second
  // `run-all --begin` inside one build. A process that owns its build itself (`distill run-all`)
  // is one build per process, so a second acquisition there is refused as before.
  if (
    owner.pid !== process.pid &&
    mine &&
    mine !== 'gone' &&
    mine.pid === owner.pid &&
    mine.host === hostname() &&
    (mine.start ?? null) === (owner.start ?? null) &&
    holderAlive(mine)
  )
    return () => releaseRunLock(root, owner.pid);
  return acquireLock(root, RUN_LOCK, owner);
}

/** Removes the run lock if `pid` holds it (the end of the build). */
export async function releaseRunLock(root: string, pid: number): Promise<void> {
  const path = lockPath(root, RUN_LOCK);
  const h = await readLock(path);
  if (h && h !== 'gone' && h.pid === pid) await fsp.rm(path, { force: true });
}

/**
 * One run of a phase at a time: a lock file `.distill/locks/<phase>.lock` holding the owner's pid,
 * created whole (written aside, hard-linked into place: link fails with EEXIST like O_EXCL). A
 * lock whose pid is dead (a killed run) is stale and is taken over. Our own file lock instead of
 * proper-lockfile: we want the owner's pid in the error and no mtime-refresh timer.
 */
export async function acquireLock(
  root: string,
  phase: string,
  owner?: LockOwner,
): Promise<() => Promise<void>> {
  const dir = join(root, '.distill', 'locks');
  await fsp.mkdir(dir, { recursive: true });
  const path = join(dir, `${phase}.lock`);
  const info: LockInfo = {
    pid: owner?.pid ?? process.pid,
    host: hostname(),
    phase,
    started_at: new Date().toISOString(),
    ...(owner ? { start: owner.start } : {}),
    ...(owner?.command ? { command: owner.command } : {}),
  };
  // the lock appears with its content at once: written aside, then hard-linked into place (link
  // fails with EEXIST like O_EXCL), so another run never reads a half-written lock as stale. The
  // temp name is unique per call: one process may try several locks at once (log rotation does).
  const tmp = `${path}.tmp-${process.pid}-${++tmpSeq}`;
  await fsp.writeFile(tmp, `${JSON.stringify(info)}\n`);
  try {
    return await takeLock(path, tmp, info, phase);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

let tmpSeq = 0;

async function takeLock(
  path: string,
  tmp: string,
  info: LockInfo,
  phase: string,
): Promise<() => Promise<void>> {
  // A few rounds: the holder may release (ENOENT on read) or a stale lock may be taken over by
  // another run between our attempts; each round either takes the lock, reports a live holder, or
  // retries.
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await fsp.link(tmp, path);
      // a stopped process removes a lock it holds itself (lib/stop.ts)
      const own = info.pid === process.pid;
      if (own) trackTemp(path);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        if (own) untrackTemp(path);
        await fsp.rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await readLock(path);
      if (holder === 'gone') continue; // released between our link and our read: try again
      if (holder && holderAlive(holder)) {
        if (phase === RUN_LOCK)
          throw new UserError(
            'LOCKED',
            `another build is running: ${holder.command ?? 'distill run-all'} (pid ${holder.pid}, started ${holder.started_at}); ` +
              `this one is refused and changed nothing. Wait for it to finish and rerun (or stop it: kill ${holder.pid}); ` +
              `if no such process exists, delete ${path}.`,
          );
        throw new UserError(
          'LOCKED',
          `${phase} is locked by pid ${holder.pid} since ${holder.started_at} (${path}). ` +
            'Wait for that run to finish; if no such process exists, delete the lock file.',
        );
      }
      // stale: the owner is dead (or the file is not a lock we wrote). Move it aside under a name
      // of our own rather than deleting the path, so a lock another run took meanwhile is not
      // removed blindly: if what we moved is not the stale lock we read, put it back.
      const aside = `${path}.stale-${process.pid}-${++tmpSeq}`;
      try {
        await fsp.rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await readLock(aside);
      const same =
        holder === null
          ? moved === null
          : moved !== null &&
            moved !== 'gone' &&
            moved.pid === holder.pid &&
            moved.started_at === holder.started_at;
      if (!same) await fsp.link(aside, path).catch(() => undefined);
      await fsp.rm(aside, { force: true });
    }
  }
  throw new UserError('LOCKED', `could not take the ${phase} lock at ${path}`);
}

/** The lock's content; null when it is not a lock we wrote, 'gone' when the file is not there. */
async function readLock(path: string): Promise<LockInfo | null | 'gone'> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
  try {
    const v = JSON.parse(text) as LockInfo;
    return typeof v.pid === 'number' ? v : null;
  } catch {
    return null;
  }
}
