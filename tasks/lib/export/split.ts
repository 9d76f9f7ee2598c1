import { sha256 } from '../hash.ts';

/** The two dataset splits every export writes. */
export const SPLITS = ['train', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/**
 * Deterministic train/test assignment of a group (a task_key): the first 52 bits of
 * sha256("split\0" + key) as a fraction in [0, 1), compared with `testFraction`. Every row of one
 * task gets the same split, so no task lands in both; no randomness, no input order.
 */
export function splitOf(groupKey: string, testFraction: number): Split {
  if (testFraction <= 0) return 'train';
  if (testFraction >= 1) return 'test';
  const bucket = Number.parseInt(sha256(`split\u0000${groupKey}`).slice(0, 13), 16) / 2 ** 52;
  return bucket < testFraction ? 'test' : 'train';
}

/** The group a row is split by: its task_key, or (no task_key) a key of its own so it stays alone. */
export function splitGroup(taskKey: string | null, ownKey: string): string {
  return taskKey ?? `own:${ownKey}`;
}
