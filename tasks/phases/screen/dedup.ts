import { bandKeys, BANDS, jaccard, ROWS, shingleHashes, signature, words } from '../../lib/safety/minhash.ts';
import { exactKey } from '../../lib/safety/training-text.ts';

/**
 * Exact and near-duplicate detection over training units. Pure and order-independent: units are
 * sorted by id first, and the lowest id of each group is the one kept.
 *
 * 1. Exact: units whose normalised content (NFC, whitespace collapsed, lowercase) is equal, within
 *    one class, are DUPLICATE_OF the lowest id.
 * 2. Near: the remaining units' word 5-gram MinHash signatures are banded (LSH); every candidate
 *    pair that is not yet in one cluster has its exact Jaccard computed, and pairs at or above
 *    the threshold are joined (union-find). Each cluster keeps its lowest id; the others are
 *    NEAR_DUPLICATE_OF it. Clusters are the connected components of the verified pairs, so the
 *    order in which pairs are checked does not change them.
 */

/** Near-duplicate threshold on exact word 5-gram Jaccard. */
export const NEAR_DUP_JACCARD = 0.8;

/** One unit to deduplicate. */
export interface DedupUnit {
  id: string;
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
  /** The id of the unit that is kept in its place. */
  ref: string;
  detail: string;
}

/** Counts of one dedup run. */
export interface DedupStats {
  exact_duplicates: number;
  near_duplicates: number;
  near_clusters: number;
  pairs_verified: number;
  pairs_below_threshold: number;
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r] as number;
    while (this.parent[x] !== r) {
      const next = this.parent[x] as number;
      this.parent[x] = r;
      x = next;
    }
    return r;
  }
  /** Joins two sets; the smaller index becomes the root, so a root is its set's lowest index. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Finds exact and near duplicates; returns a verdict for every unit that is not kept. */
export function findDuplicates(
  input: readonly DedupUnit[],
  threshold = NEAR_DUP_JACCARD,
): { verdicts: Map<string, DedupVerdict>; stats: DedupStats } {
  const units = [...input].sort((a, b) => cmp(a.id, b.id));
  const verdicts = new Map<string, DedupVerdict>();
  const stats: DedupStats = {
    exact_duplicates: 0,
    near_duplicates: 0,
    near_clusters: 0,
    pairs_verified: 0,
    pairs_below_threshold: 0,
  };

  const firstByKey = new Map<string, string>();
  const survivors: DedupUnit[] = [];
  for (const u of units) {
    const key = exactKey(u);
    const first = firstByKey.get(key);
    if (first === undefined) {
      firstByKey.set(key, u.id);
      survivors.push(u);
    } else {
      stats.exact_duplicates++;
      verdicts.set(u.id, {
        reason: 'DUPLICATE_OF',
        ref: first,
        detail: `same normalised training content as ${first}, which is kept (exact key ${key.slice(0, 16)})`,
      });
    }
  }

  // LSH buckets per class: band key → member indexes into survivors (ascending)
  const byClass = new Map<string, Map<number, number[]>>();
  survivors.forEach((u, i) => {
    let buckets = byClass.get(u.cls);
    if (!buckets) byClass.set(u.cls, (buckets = new Map()));
    for (const band of bandKeys(signature(shingleHashes(words(u.body))))) {
      const list = buckets.get(band);
      if (list) list.push(i);
      else buckets.set(band, [i]);
    }
  });
  const shingleCache = new Map<number, Uint32Array>();
  const shingles = (i: number): Uint32Array => {
    let s = shingleCache.get(i);
    if (!s) shingleCache.set(i, (s = shingleHashes(words((survivors[i] as DedupUnit).body))));
    return s;
  };
  const uf = new UnionFind(survivors.length);
  const rejected = new Set<number>();
  const link = new Map<number, { other: number; j: number }>();
  const verify = (a: number, b: number): void => {
    if (uf.find(a) === uf.find(b)) return; // already one cluster: the pair cannot change the components
    const pair = a * survivors.length + b;
    if (rejected.has(pair)) return;
    stats.pairs_verified++;
    const j = jaccard(shingles(a), shingles(b));
    if (j < threshold) {
      stats.pairs_below_threshold++;
      rejected.add(pair);
      return;
    }
    uf.union(a, b);
    if (!link.has(b)) link.set(b, { other: a, j });
    if (!link.has(a)) link.set(a, { other: b, j });
  };
  for (const cls of [...byClass.keys()].sort(cmp)) {
    const buckets = byClass.get(cls) as Map<number, number[]>;
    for (const key of [...buckets.keys()].sort((a, b) => a - b)) {
      const members = buckets.get(key) as number[];
      for (let x = 0; x < members.length; x++)
        for (let y = x + 1; y < members.length; y++) verify(members[x] as number, members[y] as number);
    }
  }
  const size = new Map<number, number>();
  for (let i = 0; i < survivors.length; i++) size.set(uf.find(i), (size.get(uf.find(i)) ?? 0) + 1);
  for (const [, n] of size) if (n > 1) stats.near_clusters++;
  for (let i = 0; i < survivors.length; i++) {
    const root = uf.find(i);
    if (root === i) continue;
    const rep = (survivors[root] as DedupUnit).id;
    const e = link.get(i) as { other: number; j: number };
    stats.near_duplicates++;
    verdicts.set((survivors[i] as DedupUnit).id, {
      reason: 'NEAR_DUPLICATE_OF',
      ref: rep,
      detail: `word 5-gram Jaccard ${e.j.toFixed(3)} ≥ ${threshold} with ${(survivors[e.other] as DedupUnit).id} (exact, after MinHash LSH ${BANDS}×${ROWS}); cluster of ${size.get(root)}, ${rep} is kept`,
    });
  }
  return { verdicts, stats };
}
