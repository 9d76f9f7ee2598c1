import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './fs-atomic.ts';
import { ERROR_CODES, UserError } from './result.ts';

/** Exit code for "another run holds the lock" (EX_TEMPFAIL). */
export const LOCKED_EXIT = ERROR_CODES.LOCKED.exit;

interface LockInfo {
  pid: number;
  host: string;
  phase: string;
  started_at: string;
}

/**
 * One run of a phase at a time: a lock file `.distill/locks/<phase>.lock` holding the owner's pid,
 * created whole (written aside, hard-linked into place: link fails with EEXIST like O_EXCL). A
 * lock whose pid is dead (a killed run) is stale and is taken over. Our own file lock instead of
 * proper-lockfile: we want the owner's pid in the error and no mtime-refresh timer.
 */
export async function acquireLock(root: string, phase: string): Promise<() => Promise<void>> {
  const dir = join(root, '.distill', 'locks');
  await fsp.mkdir(dir, { recursive: true });
  const path = join(dir, `${phase}.lock`);
  const info: LockInfo = { pid: process.pid, host: hostname(), phase, started_at: new Date().toISOString() };
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
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await fsp.rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await readLock(path);
      if (holder === 'gone') continue; // released between our link and our read: try again
      if (holder && holder.host === info.host && pidAlive(holder.pid)) {
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
