/**
 * Every reason an adapter can drop a row for (closed list; the shell adds its own line / JSON /
 * timestamp reasons). The first four come from `readInput`.
 */
export const ADAPTER_DROP_REASONS = [
  'SCHEMA_MISSING_FIELD',
  'SCHEMA_TYPE',
  'SCHEMA_ENUM',
  'SCHEMA_INVALID',
  'EMPTY_DOCUMENT',
  'EMPTY_OUTPUT',
  'PREFERENCE_INVALID',
  'PREFERENCE_TIE',
  'PREFERENCE_IDENTICAL',
  'NO_CONVERSATION',
  'SIGNAL_UNMAPPABLE',
  'SOURCE_OPTION_MISSING',
] as const;

/** One adapter drop reason. */
export type AdapterDropReason = (typeof ADAPTER_DROP_REASONS)[number];

/** True for a member of the closed list (what build-evidence checks each adapter drop against). */
export function isAdapterDropReason(r: string): r is AdapterDropReason {
  return (ADAPTER_DROP_REASONS as readonly string[]).includes(r);
}
