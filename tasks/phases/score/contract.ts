import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V, type ScoredRun } from '../../../schemas/scored-run.ts';

/** What other modules may know of score: its output folder, file names, reasons and versions. */

export const PHASE = 'score';
/** Its output folder: `YYYY/MM/DD/runs.jsonl` (documents and judgments pass through), `_quarantine.jsonl`, `_summary.json`. */
export const SCORED_DIR = 'data/scored-runs';
export const QUARANTINE_FILE = '_quarantine.jsonl';
export const SUMMARY_FILE = '_summary.json';
export const REBUILD = 'npm run score';

export const REASONS = ['ID_CONFLICT', 'DUPLICATE_RECORD', 'ORPHAN_SIGNAL', 'MISSING_TRACE_ID'] as const;
export type Reason = (typeof REASONS)[number];

export const SCHEMA_VERSIONS = { ScoredRun: SCORED_V, QuarantineRecord: QUARANTINE_V } as const;

/** The day file (relative to the output folder) of a run recorded at `recordedAt` (its run row's recorded_at). */
export function dayFile(recordedAt: string | null | undefined): string {
  return recordedAt
    ? `${recordedAt.slice(0, 4)}/${recordedAt.slice(5, 7)}/${recordedAt.slice(8, 10)}/runs.jsonl`
    : 'undated/runs.jsonl';
}

/** The day file of a scored run, by its day. */
export function scoredPartition(r: ScoredRun): string {
  return dayFile(r.recorded_at);
}
