import {
  bandKeys,
  BANDS,
  cannotReach,
  jaccardAtLeast,
  ROWS,
  shingleHashes,
  signature,
  words,
} from '../../lib/safety/minhash.ts';
import { exactKey } from '../../lib/safety/training-text.ts';

/**
 * Exact and near-duplicate detection over training units, in time order (the reference
 * implementation, in memory; screen runs the same rule with a persisted index, dedup-index.ts).
 *
 * Units are taken in (recorded_at, id) order, undated units last (after every timestamp, by id).
 * A unit is dropped iff it duplicates an EARLIER KEPT unit:
 * 1. Exact: its normalised content (NFC, whitespace collapsed, lowercase) within its class equals
 *    that of an earlier kept unit: DUPLICATE_OF it.
 * 2. Near: otherwise, the earlier kept units of its class that share an LSH band with it (word
 *    5-gram MinHash, 14 × 8) are verified in time order by exact Jaccard; the first at or above
 *    the threshold is the one it is NEAR_DUPLICATE_OF.
 * Otherwise it is kept. Only kept units count: a unit dropped as a (near) duplicate never makes a
 * later unit a duplicate of it. So a unit's fate depends only on the units before it, and
 * appending later units never changes an earlier decision.
 */

/** Near-duplicate threshold on exact word 5-gram Jaccard. */
export const NEAR_DUP_JACCARD = 0.8;

/** Where undated units sit in the order: after every ISO timestamp ('~' sorts after digits). */
export const UNDATED = '~';

/** One unit to deduplicate. */
export interface DedupUnit {
  id: string;
  /** Its recorded_at (ISO, UTC); null: undated, ordered after every dated unit. */
  at: string | null;
  /** Units are only compared within a class. */
  cls: string;
  /** Content for exact comparison. */
  full: string;
  /** Content for near-duplicate comparison. */
  body: string;
}

/** Why a unit is not kept. */
export interface DedupVerdict {
  reason: 'DUPLICATE_OF' | 'NEAR_DUPLICATE_OF';
  /** The id of the earlier kept unit it duplicates. */
  ref: string;
  detail: string;
}

/** Counts of one dedup run (sums over the units decided: each unit adds its own). */
export interface DedupStats {
  exact_duplicates: number;
  near_duplicates: number;
  pairs_verified: number;
  pairs_below_threshold: number;
}

export const emptyDedupStats = (): DedupStats => ({
  exact_duplicates: 0,
  near_duplicates: 0,
  pairs_verified: 0,
  pairs_below_threshold: 0,
});

/** A unit's place in the dedup order: its recorded_at (UNDATED when none), then its id. */
export const orderKey = (at: string | null, id: string): string => `${at ?? UNDATED}\u0000${id}`;

/** The day a timestamp falls on ('YYYY-MM-DD'), or UNDATED. Days order like timestamps. */
export const dayOf = (at: string | null): string => (at === null ? UNDATED : at.slice(0, 10));

export const duplicateDetail = (ref: string, exact: string): string =>
  `same normalised training content as ${ref}, an earlier kept unit (exact key ${exact.slice(0, 16)})`;

export const nearDetail = (ref: string, j: number, threshold: number): string =>
  `word 5-gram Jaccard ${j.toFixed(3)} ≥ ${threshold} with ${ref}, an earlier kept unit (exact, after MinHash LSH ${BANDS}×${ROWS})`;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Finds exact and near duplicates in time order; returns a verdict for every unit that is not kept. */
export function findDuplicates(
  input: readonly DedupUnit[],
  threshold = NEAR_DUP_JACCARD,
): { verdicts: Map<string, DedupVerdict>; stats: DedupStats } {
  const units = [...input].sort((a, b) => cmp(orderKey(a.at, a.id), orderKey(b.at, b.id)));
  const verdicts = new Map<string, DedupVerdict>();
  const stats = emptyDedupStats();
  const exact = new Map<string, string>(); // exact key → kept id
  const kept: { id: string; cls: string; shingles: Uint32Array }[] = [];
  const buckets = new Map<number, number[]>(); // band key → kept positions (ascending)
  for (const u of units) {
    const key = exactKey(u);
    const first = exact.get(key);
    if (first !== undefined) {
      stats.exact_duplicates++;
      verdicts.set(u.id, { reason: 'DUPLICATE_OF', ref: first, detail: duplicateDetail(first, key) });
      continue;
    }
    const shingles = shingleHashes(words(u.body));
    const bands = bandKeys(signature(shingles));
    const candidates = new Set<number>();
    for (const b of bands) for (const k of buckets.get(b) ?? []) candidates.add(k);
    let near: { ref: string; j: number } | null = null;
    for (const k of [...candidates].sort((a, b) => a - b)) {
      const other = kept[k] as (typeof kept)[number];
      if (other.cls !== u.cls) continue;
      stats.pairs_verified++;
      const j = cannotReach(shingles.length, other.shingles.length, threshold)
        ? -1
        : jaccardAtLeast(shingles, other.shingles, threshold);
      if (j < threshold) {
        stats.pairs_below_threshold++;
        continue;
      }
      near = { ref: other.id, j };
      break;
    }
    if (near) {
      stats.near_duplicates++;
      verdicts.set(u.id, {
        reason: 'NEAR_DUPLICATE_OF',
        ref: near.ref,
        detail: nearDetail(near.ref, near.j, threshold),
      });
      continue;
    }
    exact.set(key, u.id);
    const pos = kept.length;
    kept.push({ id: u.id, cls: u.cls, shingles });
    for (const b of new Set(bands)) {
      const list = buckets.get(b);
      if (list) list.push(pos);
      else buckets.set(b, [pos]);
    }
  }
  return { verdicts, stats };
}
