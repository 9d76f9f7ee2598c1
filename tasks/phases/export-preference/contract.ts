/** What other modules may know of export-preference: its output folder, file names and reasons. */

export const PHASE = 'export-preference';
export const PREFERENCE_DIR = 'exports/preference';
/** DPO pairs and unpaired KTO rows, inside the output folder: `<family>/<shard>.jsonl` (lib/export/shards.ts). */
export const PAIR_FAMILY = 'chosen_rejected';
export const KTO_FAMILY = 'unpaired_kto';
export const REBUILD = 'npm run export-preference';

/** Why a candidate pair is not a pair. */
export const PAIR_REFUSALS = [
  'NO_SHARED_PROMPT',
  'PARTED_BY_INPUT',
  'NO_DIVERGENCE',
  'COURTESY_ONLY',
  'IDENTICAL_TEXT',
] as const;
export type PairRefusal = (typeof PAIR_REFUSALS)[number];

export const REASONS = [
  'CATEGORY_EXCLUDED',
  'NO_SUBSTANCE',
  'NO_USER_TURN',
  'TOOL_ARGS_INVALID',
  'TOOL_RESULT_ORPHAN',
  'TOOL_RESULT_MISSING',
  'SELF_PAIR',
  ...PAIR_REFUSALS,
] as const;
export type Reason = (typeof REASONS)[number];

/**
 * Rows left out by policy, counted apart as `excluded`: a category preference data does not take,
 * and candidates the pairing rules refuse (a run with itself, two conversations that are not a
 * pair: no shared prompt, parted by input, no divergence, only pleasantries, identical); the rows
 * themselves are sound.
 */
export const EXCLUDED = [
  'CATEGORY_EXCLUDED',
  'SELF_PAIR',
  ...PAIR_REFUSALS,
] as const satisfies readonly Reason[];
