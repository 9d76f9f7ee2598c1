import type { Category } from '../../../schemas/category.ts';
import { SFT_QUALITY } from '../../../schemas/sft-sample.ts';

/** What other modules may know of export-sft (and its --include-partial variant). */

export const PHASE = 'export-sft';
export const PARTIAL_PHASE = 'export-sft-partial';
export const SFT_DIR = 'exports/sft';
export const SFT_PARTIAL_DIR = 'exports/sft-partial';
/** The canonical SFT rows of either folder: `instruction_response/<shard>.jsonl`, one file per day (lib/export/shards.ts). */
export const SFT_FAMILY = 'instruction_response';
export const REBUILD = 'npm run export-sft';
export const REBUILD_PARTIAL = 'npm run export-sft:partial';

export const REASONS = [
  'CATEGORY_EXCLUDED',
  'EMPTY_CONVERSATION',
  'NO_ASSISTANT_TURN',
  'NO_USER_TURN',
  'NO_SUBSTANCE',
  'TOOL_ARGS_INVALID',
  'TOOL_RESULT_ORPHAN',
  'TOOL_RESULT_MISSING',
] as const;
export type Reason = (typeof REASONS)[number];

/** Rows left out by policy (a category this variant does not take), counted apart as `excluded`. */
export const EXCLUDED = ['CATEGORY_EXCLUDED'] as const satisfies readonly Reason[];

/**
 * Layer 2 of 3 that keep forbidden runs out of SFT: categories the exporter refuses whatever the
 * options say (layer 1 is the SftSample `quality_score` enum, layer 3 the re-read of the written
 * file in `verifySftFile`). Do not loosen.
 */
export const SFT_NEVER = ['rejected', 'needs_human_review'] as const satisfies readonly Category[];

/** True for a category that must never reach SFT (the SFT_NEVER filter). */
export function isSftNever(category: string): boolean {
  return (SFT_NEVER as readonly string[]).includes(category);
}

/** A category an SFT row may carry. */
export type SftQuality = (typeof SFT_QUALITY)[number];

/** The categories one variant exports: strictly accepted, or also partially_accepted. */
export function sftAllowed(includePartial: boolean): readonly SftQuality[] {
  return includePartial ? SFT_QUALITY : ['accepted'];
}
