import { createHash } from 'node:crypto';
import type { Split } from '../../lib/export/split.ts';
import { bump, sortedCounts } from '../../lib/phase.ts';
import { emptyStats, type PreferenceStats } from './mining.ts';

/**
 * What one unit of export-preference's work contributed to the build's counts: a day shard's own
 * rows (its runs' drops and correction pairs), one task group's rows (outcome pairs, KTO rows,
 * their drops), or the judgments' rows. Counts add up, so an incremental build sums the
 * contributions kept in its state for the units it did not redo with the ones it did, and gets the
 * counts a cold build computes.
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

/**
 * An order-free digest of a set of rows: the sum of each row's 128-bit hash (sha256 of its family
 * and line) modulo 2^128, with the row count. Two units' rows in a shard can be compared without
 * keeping them: the rows a shard gets from the task groups mined again are the ones it had when the
 * sums of the groups that left it and of the groups that come in are equal.
 */
export interface RowSum {
  rows: number;
  sum: bigint;
}

const MOD = (1n << 128n) - 1n;

export function rowHash(family: string, line: string): bigint {
  return BigInt(
    `0x${createHash('sha256').update(family).update('\u0000').update(line).digest('hex').slice(0, 32)}`,
  );
}

export function addRow(sums: Map<string, RowSum>, shard: string, h: bigint): void {
  const s = sums.get(shard);
  if (s) {
    s.rows++;
    s.sum = (s.sum + h) & MOD;
  } else sums.set(shard, { rows: 1, sum: h });
}

/** Adds a row sum into `sums`. */
export function addSum(sums: Map<string, RowSum>, shard: string, v: RowSum): void {
  const s = sums.get(shard) ?? { rows: 0, sum: 0n };
  s.rows += v.rows;
  s.sum = (s.sum + v.sum) & MOD;
  sums.set(shard, s);
}

/** Adds a packed row sum (`[rows, hex]`) into `sums`. */
export function addPackedSum(sums: Map<string, RowSum>, shard: string, p: [number, string]): void {
  const s = sums.get(shard) ?? { rows: 0, sum: 0n };
  s.rows += p[0];
  s.sum = (s.sum + BigInt(`0x${p[1]}`)) & MOD;
  sums.set(shard, s);
}

export function packSums(sums: ReadonlyMap<string, RowSum>): Record<string, [number, string]> {
  return Object.fromEntries(
    [...sums.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, [v.rows, v.sum.toString(16)]]),
  );
}

export const sameSum = (a: RowSum | undefined, b: RowSum | undefined): boolean =>
  (a?.rows ?? 0) === (b?.rows ?? 0) && (a?.sum ?? 0n) === (b?.sum ?? 0n);
