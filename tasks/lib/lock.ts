import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './fs-atomic.ts';
import { UserError } from './result.ts';

/** Exit code for "another run holds the lock" (EX_TEMPFAIL). */
export const LOCKED_EXIT = 75;

interface LockInfo {
  pid: number;
  host: string;
  phase: string;
  started_at: string;
}

/**
 * One run of a phase at a time: an O_EXCL lock file `.distill/locks/<phase>.lock` holding the
 * owner's pid. A lock whose pid is dead (a killed run) is stale and is taken over. Plain O_EXCL
 * instead of proper-lockfile: we want the owner's pid in the error and no mtime-refresh timer.
 */
export async function acquireLock(root: string, phase: string): Promise<() => Promise<void>> {
  const dir = join(root, '.distill', 'locks');
  await fsp.mkdir(dir, { recursive: true });
  const path = join(dir, `${phase}.lock`);
  const info: LockInfo = { pid: process.pid, host: hostname(), phase, started_at: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fsp.open(path, 'wx');
      await fh.writeFile(`${JSON.stringify(info)}\n`);
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await fsp.rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await readLock(path);
      if (holder && holder.host === info.host && pidAlive(holder.pid)) {
        throw new UserError(
          `${phase} is locked by pid ${holder.pid} since ${holder.started_at} (${path}). ` +
            'Wait for that run to finish; if no such process exists, delete the lock file.',
          LOCKED_EXIT,
          'LOCKED',
        );
      }
      // stale: the owner is dead (or the file is unreadable); take it over
      await fsp.rm(path, { force: true });
    }
  }
  throw new UserError(`could not take the ${phase} lock at ${path}`, LOCKED_EXIT, 'LOCKED');
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const v = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' ? v : null;
  } catch {
    return null;
  }
}
