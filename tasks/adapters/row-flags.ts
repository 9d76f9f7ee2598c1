/**
 * Keys a producer may use to assert a label about its own run. Outcomes come only from the outcome
 * streams (reviews, tests, auditors, rewards), so these are read, ignored and flagged.
 */
export const UNTRUSTED_LABEL_KEYS = [
  'review_status',
  'is_eval',
  'approved',
  'accepted',
  'quality',
  'label',
  'verdict',
] as const;

/** `untrusted_label` when any of the objects carries a self-asserted label key. */
export function untrustedLabelFlag(
  ...objects: ReadonlyArray<Record<string, unknown> | null | undefined>
): string[] {
  const hit = objects.some((o) => o != null && UNTRUSTED_LABEL_KEYS.some((k) => Object.hasOwn(o, k)));
  return hit ? ['untrusted_label'] : [];
}

/** Merges flag lists into one sorted, de-duplicated list (the EvidenceRecord invariant). */
export function mergeFlags(...lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())].sort();
}
