import { promises as fsp } from 'node:fs';
import { dirname, isAbsolute, relative, sep } from 'node:path';

/**
 * A listed name that differs from an earlier one only by Unicode normalization (NFC / NFD) or
 * case: on macOS or Windows the two are one file, so provenance would be ambiguous. Returns the
 * earlier name, and records this one. Call in listing order (sorted), so the first one wins.
 */
export function nameCollision(rel: string, seen: Map<string, string>): string | null {
  const key = rel.normalize('NFC').toLowerCase();
  const first = seen.get(key);
  if (first !== undefined) return first;
  seen.set(key, rel);
  return null;
}

/**
 * True when the real folder of `abs` (symlinks in the path resolved) is outside the real project
 * root. `O_NOFOLLOW` only guards the last path component, so a symlinked folder is checked here.
 */
export async function escapesRoot(root: string, abs: string): Promise<boolean> {
  const realRoot = await fsp.realpath(root);
  let realDir: string;
  try {
    realDir = await fsp.realpath(dirname(abs));
  } catch {
    return false; // the folder vanished: opening the file reports it
  }
  const rel = relative(realRoot, realDir);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}
