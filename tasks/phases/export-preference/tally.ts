import type { Split } from '../../lib/export/split.ts';
import { bump, sortedCounts } from '../../lib/phase.ts';
import { emptyStats, type PreferenceStats } from './mining.ts';

/**
 * What one day shard of export-preference contributed to the build's counts: its runs' rows (drops,
 * correction pairs, and what each outcome side decided when it arrived: pairs, a KTO row, refused
 * candidates), or, for `evidence`, the judgments' rows. Counts add up, so an incremental build sums
 * the tallies kept in its state for the days it did not decide again with the ones it did, and gets
 * the counts a cold build computes.
 */
export interface Tally {
  stats: PreferenceStats;
  pairs: Record<Split, number>;
  kto: Record<Split, number>;
  openai: Record<Split, number>;
  /** Any pair / KTO row declaring tools (then every TRL / HF row of that family has a `tools` column). */
  pairTools: boolean;
  ktoTools: boolean;
  /** Quarantine rows: whole units by reason, refused candidate pairs by reason. */
  units: Record<string, number>;
  candidates: Record<string, number>;
}

export function newTally(): Tally {
  return {
    stats: emptyStats(0, 0),
    pairs: { train: 0, test: 0 },
    kto: { train: 0, test: 0 },
    openai: { train: 0, test: 0 },
    pairTools: false,
    ktoTools: false,
    units: {},
    candidates: {},
  };
}

const STAT_KEYS = Object.keys(emptyStats(0, 0)) as (keyof PreferenceStats)[];

/** A tally as kept in the state: its numbers in a fixed order (trailing zeros left out), reasons only when any. */
export interface PackedTally {
  n: number[];
  u?: Record<string, number>;
  c?: Record<string, number>;
}

export function packTally(t: Tally): PackedTally {
  const n = [
    ...STAT_KEYS.map((k) => t.stats[k]),
    t.pairs.train,
    t.pairs.test,
    t.kto.train,
    t.kto.test,
    t.openai.train,
    t.openai.test,
    t.pairTools ? 1 : 0,
    t.ktoTools ? 1 : 0,
  ];
  while (n.length > 0 && n[n.length - 1] === 0) n.pop();
  return {
    n,
    ...(Object.keys(t.units).length > 0 ? { u: sortedCounts(t.units) } : {}),
    ...(Object.keys(t.candidates).length > 0 ? { c: sortedCounts(t.candidates) } : {}),
  };
}

/** Adds a packed tally into `into`. */
export function addPacked(into: Tally, p: PackedTally): void {
  const at = (i: number): number => p.n[i] ?? 0;
  STAT_KEYS.forEach((k, i) => (into.stats[k] += at(i)));
  let i = STAT_KEYS.length;
  into.pairs.train += at(i++);
  into.pairs.test += at(i++);
  into.kto.train += at(i++);
  into.kto.test += at(i++);
  into.openai.train += at(i++);
  into.openai.test += at(i++);
  // (read before ||=, which would skip the read when the flag is already set)
  const pairTools = at(i++) === 1;
  const ktoTools = at(i++) === 1;
  into.pairTools ||= pairTools;
  into.ktoTools ||= ktoTools;
  for (const [k, v] of Object.entries(p.u ?? {})) bump(into.units, k, v);
  for (const [k, v] of Object.entries(p.c ?? {})) bump(into.candidates, k, v);
}
