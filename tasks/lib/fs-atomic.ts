import { promises as fsp } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { crashPoint, maybeFault } from './fault.ts';

/** fsync a directory so a rename inside it survives power loss (write-file-atomic skips this). */
export async function fsyncDir(dir: string): Promise<void> {
  const d = await fsp.open(dir, 'r');
  try {
    maybeFault('fsync');
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Writes a small file atomically: temp file in the same dir, fsync, rename, fsync of the dir. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  const fh = await fsp.open(tmp, 'w');
  try {
    maybeFault('write');
    await fh.writeFile(data);
    maybeFault('fsync');
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  crashPoint('file:before-rename');
  try {
    maybeFault('rename');
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
  await removeStaleTempsOf(dir, basename(path));
}

/** Removes temps of `name` (`.name.tmp-<pid>`) that processes killed mid-write left in `dir`. */
async function removeStaleTempsOf(dir: string, name: string): Promise<void> {
  const prefix = `.${name}.tmp-`;
  for (const n of await fsp.readdir(dir)) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (Number.isInteger(pid) && !pidAlive(pid)) await fsp.rm(join(dir, n), { force: true });
  }
}

/** Removes `.name.tmp-<pid>` files left in `dir` by processes that are no longer alive. */
export async function removeStaleTemps(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = /\.tmp-(\d+)$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) {
      await fsp.rm(join(dir, name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
