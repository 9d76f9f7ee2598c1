/** What other modules may know of export-preference: its output folder, file names and reasons. */

export const PHASE = 'export-preference';
export const PREFERENCE_DIR = 'exports/preference';
/** DPO pairs and unpaired KTO rows, inside the output folder. */
export const PAIR_FILE = 'chosen_rejected.jsonl';
export const KTO_FILE = 'unpaired_kto.jsonl';
export const REBUILD = 'npm run export-preference';

export const REASONS = [
  'CATEGORY_EXCLUDED',
  'NO_FINAL_TEXT',
  'NO_USER_TURN',
  'TOOL_ARGS_INVALID',
  'TOOL_RESULT_ORPHAN',
  'IDENTICAL_TEXT',
  'SELF_PAIR',
] as const;
export type Reason = (typeof REASONS)[number];

/**
 * Rows left out by policy, counted apart as `excluded`: a category preference data does not take,
 * and candidates the pairing rules refuse (a run with itself, two identical texts); the rows
 * themselves are sound.
 */
export const EXCLUDED = [
  'CATEGORY_EXCLUDED',
  'IDENTICAL_TEXT',
  'SELF_PAIR',
] as const satisfies readonly Reason[];
