import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import type { OutputStat } from '../../lib/previous-output.ts';
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

export async function writeState(root: string, state: ScreenState): Promise<void> {
  await writeFileAtomic(statePath(root), `${JSON.stringify(state)}\n`);
}
