import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { FileEntry } from '../../schemas/stage-receipt.ts';
import { sha256File } from './hash.ts';
import { jsonlLines } from './jsonl-read.ts';

/**
 * Reading back what the last build published, for incremental phases (score, screen): a file that
 * no longer matches its manifest entry means the last build cannot be trusted, and the phase falls
 * back to a cold build instead of failing.
 */

/** The last build's outputs are not what its manifest says: build cold. */
export class StalePrevious extends Error {}

/** The lines of a previously published file, checked against its manifest entry (`manifest` names it) once read to the end. */
export async function* previousLines(
  root: string,
  entry: FileEntry,
  manifest: string,
): AsyncGenerator<string> {
  const h = createHash('sha256');
  let bytes = 0;
  // the file's bytes as read, not its lines re-joined: a missing final newline, a blank line or a
  // CR would otherwise pass for the published file (the same check as index-rag's shard read)
  const onBytes = (b: Buffer): void => {
    h.update(b);
    bytes += b.length;
  };
  for await (const { text } of jsonlLines(join(root, entry.path), undefined, onBytes)) yield text;
  if (bytes !== entry.bytes || h.digest('hex') !== entry.sha256)
    throw new StalePrevious(`${entry.path} does not match ${manifest}`);
}

/** A published file as stat saw it just after the publish (a later write, rename over it or `touch` changes its ctime). */
export interface OutputStat {
  path: string;
  size: number;
  ino: number;
  ctimeMs: number;
}

/** The stat of a published file (`path` relative to `root`), or null when it is gone. */
export async function statOf(root: string, path: string): Promise<OutputStat | null> {
  try {
    const st = await fsp.stat(join(root, path));
    return { path, size: st.size, ino: st.ino, ctimeMs: st.ctimeMs };
  } catch {
    return null;
  }
}

/** True when `now` is the file `was` recorded at the publish, with the size its manifest entry says. */
export function sameStat(now: OutputStat | null, was: OutputStat | undefined, entry: FileEntry): boolean {
  return (
    was !== undefined &&
    now !== null &&
    now.size === entry.bytes &&
    now.size === was.size &&
    now.ino === was.ino &&
    now.ctimeMs === was.ctimeMs
  );
}

/** True when a published file still is what its manifest entry says: unchanged since the publish (stat), or else by its sha256. */
export async function stillPublished(
  root: string,
  entry: FileEntry,
  was: OutputStat | undefined,
): Promise<boolean> {
  const now = await statOf(root, entry.path);
  if (now === null || now.size !== entry.bytes) return false;
  if (sameStat(now, was, entry)) return true;
  return (await sha256File(join(root, entry.path))) === entry.sha256;
}
