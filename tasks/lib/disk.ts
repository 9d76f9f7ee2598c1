import { readFileSync, realpathSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './result.ts';

/**
 * Disk space: which disk a path is on, for one-line disk-full messages, and the guard that keeps
 * wireit's cache copy from filling the disk (docs/reliability.md, "Disk full in wireit's cache copy").
 *
 * Test hook: DISTILL_CACHE_FREE=<bytes> makes `cacheFreeBytes` report that many free bytes, so a
 * test can simulate a disk too full for wireit's cache copy without filling a real one.
 */

/** The nearest existing folder at or above `path`, resolved. */
function existing(path: string): string {
  let p = resolve(path);
  for (;;) {
    try {
      return realpathSync(p);
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

/** "the disk mounted at /data (/dev/sdb1)" for a path on it, or "the disk of <path>" when unknown. */
export function diskName(path: string): string {
  const abs = existing(path);
  try {
    let best: { mount: string; dev: string } | null = null;
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const [dev, rawMount] = line.split(' ');
      if (!dev || !rawMount) continue;
      const mount = rawMount.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      const inside = mount === '/' || abs === mount || abs.startsWith(`${mount}/`);
      if (inside && (!best || mount.length >= best.mount.length)) best = { mount, dev };
    }
    if (best) return `the disk mounted at ${best.mount} (${best.dev})`;
  } catch {
    // no /proc (macOS): name the folder instead
  }
  return `the disk of ${abs}`;
}

/** Free bytes for an unprivileged writer on the disk of `path`. */
export function freeBytes(path: string): number {
  const s = statfsSync(existing(path));
  return Number(s.bavail) * Number(s.bsize);
}

/** Free bytes where wireit keeps its cache (`<root>/.wireit`); DISTILL_CACHE_FREE overrides it (test hook). */
export function cacheFreeBytes(root: string): number {
  const sim = process.env['DISTILL_CACHE_FREE'];
  if (sim !== undefined && /^[0-9]+$/.test(sim)) return Number(sim);
  return freeBytes(`${root}/.wireit`);
}

/**
 * True when this process runs under wireit with its local cache on: wireit then copies a script's
 * outputs into `.wireit/<script>/cache/` after it exits 0 (WIREIT_CACHE=local, the default
 * outside CI). `underWireit` is whether a wireit process is above this one (lib/process-tree.ts).
 */
export function wireitLocalCache(underWireit: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!underWireit) return false;
  const mode = env['WIREIT_CACHE'];
  if (mode !== undefined) return mode === 'local';
  return env['CI'] !== 'true';
}

/** Space kept free besides the copy itself: wireit's fingerprint and manifest, and the receipts. */
export const CACHE_MARGIN_BYTES = 1024 * 1024;

const human = (b: number): string =>
  b >= 1024 ** 3
    ? `${(b / 1024 ** 3).toFixed(1)} GB`
    : b >= 1024 ** 2
      ? `${(b / 1024 ** 2).toFixed(1)} MB`
      : b >= 1024
        ? `${(b / 1024).toFixed(1)} kB`
        : `${b} bytes`;

/**
 * Pure core of the cache guard: null when `free` bytes hold a copy of `need` bytes plus the
 * margin, else the IO_ERROR to throw before the publish (one line, naming the disk).
 */
export function cacheRoomError(disk: string, free: number, need: number): UserError | null {
  if (free >= need + CACHE_MARGIN_BYTES) return null;
  return new UserError(
    'IO_ERROR',
    `disk full: ${disk} has ${human(free)} free, and wireit's cache copy of these outputs needs ${human(need + CACHE_MARGIN_BYTES)}. ` +
      'Nothing was published; the previous outputs are in place. Free space (npm run cache:prune) or turn the cache off (WIREIT_CACHE=none), and rerun.',
  );
}
