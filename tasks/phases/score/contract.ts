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

/** score leaves nothing out by policy: every row it drops is bad (quarantined). */
export const EXCLUDED = [] as const satisfies readonly Reason[];

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

/**
 * The rule ids of the rule table (tasks/phases/score/rules.ts, docs/scoring.md), in precedence
 * order: what a ScoredRun's `decided_by` and `rules_fired` can name.
 */
export const RULE_IDS = [
  'R01-api-error',
  'R02-error-event',
  'R03-empty-output',
  'R04-truncated',
  'R05-human-reject',
  'R06-human-edit',
  'R07-human-approve-vs-strong-negative',
  'R08-human-approve',
  'R09-human-unsure',
  'R10-conflicting-strong-signals',
  'R11-strong-negative',
  'R12-strong-positive-weak-negative',
  'R13-strong-positive',
  'R14-auditor-fail',
  'R15-tool-failure',
  'R16-auditor-pass',
  'R17-auditor-uncertain',
  'R17a-agent-submitted',
  'R18-no-signal',
  'R19-default-deny',
] as const;
export type RuleId = (typeof RULE_IDS)[number];
