/** What other modules may know of screen: its output folder, file names and reasons. */

export const PHASE = 'screen';
/** Its output folder: `runs/YYYY/MM/DD/runs.jsonl`, `evidence/{documents,judgments}.jsonl`, `_quarantine.jsonl`, `_summary.json`. */
export const SCREENED_DIR = 'data/screened';
export const QUARANTINE_FILE = '_quarantine.jsonl';
export const SUMMARY_FILE = '_summary.json';
/** Sub-folders: scored runs by day, and the documents and judgments (paths relative to the project root). */
export const SCREENED_RUNS = `${SCREENED_DIR}/runs/`;
export const SCREENED_EVIDENCE = `${SCREENED_DIR}/evidence/`;
/** Files of the screened documents and judgments, inside the output folder. */
export const SCREENED_DOCUMENTS = 'evidence/documents.jsonl';
export const SCREENED_JUDGMENTS = 'evidence/judgments.jsonl';
export const REBUILD = 'npm run screen';

/** Reason codes the screen phase gives (SECRET_DETECTED carries `:<rule id>` in quarantine rows). */
export const REASONS = [
  'SECRET_DETECTED',
  'DETECTOR_TIMEOUT',
  'EVAL_CONTAMINATION',
  'PII_DENSE',
  'DUPLICATE_OF',
  'NEAR_DUPLICATE_OF',
] as const;
export type Reason = (typeof REASONS)[number];

/**
 * Rows left out by policy, counted apart as `excluded`: duplicates (one copy is kept) and copies of
 * a protected eval item. Secrets, PII-dense rows and detector timeouts are quarantined: unsafe as
 * they are.
 */
export const EXCLUDED = [
  'DUPLICATE_OF',
  'NEAR_DUPLICATE_OF',
  'EVAL_CONTAMINATION',
] as const satisfies readonly Reason[];

/** The reason written in a quarantine row: SECRET_DETECTED names the rule that fired. */
export type QuarantineReason = Exclude<Reason, 'SECRET_DETECTED'> | `SECRET_DETECTED:${string}`;
