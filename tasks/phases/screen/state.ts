import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import type { DedupStats } from './dedup.ts';

/**
 * What screen keeps between builds (`.distill/cache/screen-dedup/`, never an output, safe to
 * delete: the next build is then cold): the persisted index of kept units (dedup-index.ts), the
 * day of every row of the published files that mix days (documents, judgments, quarantine), and
 * `state.json`: the key it was built under (code fingerprint and every screen parameter), the
 * sha256 of the manifest it published, and per input file and per day the counts the summary is
 * made of, so an incremental build adds up the same numbers as a cold one.
 */

export const STATE_FORMAT = 1;

export const dedupDir = (root: string): string => join(root, '.distill', 'cache', 'screen-dedup');
export const statePath = (root: string): string => join(dedupDir(root), 'state.json');

/** The files of the published folder that mix days: their sidecar in the state folder holds one `<day>\t<JSON sort key>` line per row. */
export const SIDECARS = {
  documents: 'documents.days',
  judgments: 'judgments.days',
  quarantine: 'quarantine.days',
} as const;

export type KindCounts = { run: number; document: number; judgment: number };

/** What steps 1–4 gave for one input file. */
export interface InputInfo {
  path: string;
  sha256: string;
  /** Its size and rows (a file that grew past them starting with the same bytes is screened from there on). */
  bytes: number;
  rows: number;
  /** The first and last day of its units (null: it holds none, e.g. evidence of runs and signals). */
  days: [string, string] | null;
  units: KindCounts;
  /** Detector stats (secrets.*, pii.*) of its units. */
  stats: Record<string, number>;
  /** Its units dropped by steps 1–4, by reason. */
  drops: Record<string, number>;
}

/** What dedup gave for the units of one day. */
export interface DayInfo {
  kept: KindCounts;
  dedup: DedupStats;
  /** DUPLICATE_OF / NEAR_DUPLICATE_OF counts. */
  drops: Record<string, number>;
}

/** A published file as stat saw it just after the publish (a later write, rename or touch changes its ctime). */
export interface OutputStat {
  path: string;
  size: number;
  ino: number;
  ctimeMs: number;
}

export interface ScreenState {
  format: number;
  key: string;
  manifest_sha256: string;
  index: { entries: number; metaBytes: number; shingleBytes: number };
  inputs: InputInfo[];
  days: Record<string, DayInfo>;
  outputs: OutputStat[];
}

export async function readState(root: string): Promise<ScreenState | null> {
  try {
    const s = JSON.parse(await fsp.readFile(statePath(root), 'utf8')) as ScreenState;
    return s.format === STATE_FORMAT ? s : null;
  } catch {
    return null;
  }
}

export async function statOf(root: string, path: string): Promise<OutputStat | null> {
  try {
    const st = await fsp.stat(join(root, path));
    return { path, size: st.size, ino: st.ino, ctimeMs: st.ctimeMs };
  } catch {
    return null;
  }
}

/** Writes the state last, after the index and the sidecars: a crash before leaves a state that names the previous manifest, so the next build is cold. */
export async function writeState(root: string, state: ScreenState): Promise<void> {
  await writeFileAtomic(statePath(root), `${JSON.stringify(state)}\n`);
}

/** True when a published file still is what its manifest entry says: unchanged since the publish (stat), or else by its sha256. */
export async function stillPublished(
  root: string,
  entry: FileEntry,
  was: OutputStat | undefined,
): Promise<boolean> {
  const now = await statOf(root, entry.path);
  if (now === null || now.size !== entry.bytes) return false;
  if (was && now.ino === was.ino && now.ctimeMs === was.ctimeMs && now.size === was.size) return true;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(join(root, entry.path))) h.update(chunk as Buffer);
  return h.digest('hex') === entry.sha256;
}
