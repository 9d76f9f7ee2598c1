import type { ScoredRun } from '../../../schemas/scored-run.ts';
import type { DocumentEvidence, JudgmentEvidence } from '../../lib/export/inputs.ts';
import type { QuarantineReason } from './contract.ts';
import { bump, sortedCounts } from '../../lib/phase.ts';
import { Budget } from '../../lib/safety/budget.ts';
import { findContamination, type ProtectedIndex } from '../../lib/safety/decontaminate.ts';
import { findDuplicates, type DedupStats } from './dedup.ts';
import { DENSE_MIN_SPANS, DENSE_PER_1K, PII_TYPES, type PiiType } from '../../lib/safety/pii.ts';
import { piiFlag, redactRecord } from '../../lib/safety/redact.ts';
import { SECRET_RULES_VERSION } from '../../lib/safety/secret-rules.ts';
import { newScan, scanRecord, type SecretHit } from '../../lib/safety/secret-scan.ts';
import { documentText, judgmentText, runText, type TrainingText } from '../../lib/safety/training-text.ts';

/**
 * The pure core of the screen phase: training units (scored runs, knowledge documents, imported
 * judgments) in, screened units and drops out. Per unit, in this order:
 *   1. secrets (any hit: SECRET_DETECTED:<rule>; the unit is dropped, never redacted-and-kept);
 *   2. the detector budget (ran out: DETECTOR_TIMEOUT, fail closed);
 *   3. eval contamination of runs and judgments (EVAL_CONTAMINATION);
 *   4. PII redaction, and PII_DENSE when the unit is mostly PII;
 * then, over the units still kept, exact and near-duplicate removal in time order (DUPLICATE_OF /
 * NEAR_DUPLICATE_OF of an earlier kept unit, dedup.ts). A dropped unit has exactly one reason.
 */

/** One unit to screen. */
export type ScreenUnit =
  | { kind: 'run'; record: ScoredRun }
  | { kind: 'document'; record: DocumentEvidence }
  | { kind: 'judgment'; record: JudgmentEvidence };

/** A unit that was not kept, with its reason. */
export interface ScreenDrop {
  unit: ScreenUnit;
  reason: QuarantineReason;
  detail: string;
  ref: string | null;
}

/** What the core needs besides the units. */
export interface ScreenOptions {
  /** sha256 of known fake secrets to let through (config `secret_allowlist`). */
  allow: ReadonlySet<string>;
  protectedIndex: ProtectedIndex;
  /** Per-record budget override (tests). */
  budget?: () => Budget;
}

/** The result of screening every unit. */
export interface ScreenResult {
  kept: ScreenUnit[];
  drops: ScreenDrop[];
  stats: Record<string, number>;
  dedup: DedupStats;
}

/** The id a unit is known by (run_id or evidence_id). */
export function unitId(u: ScreenUnit): string {
  return u.kind === 'run' ? u.record.run_id : u.record.evidence_id;
}

/** A unit's training content (what dedup and decontamination read). */
export function textOf(u: ScreenUnit): TrainingText {
  switch (u.kind) {
    case 'run':
      return runText(u.record);
    case 'document':
      return documentText(u.record.document);
    case 'judgment':
      return judgmentText(u.record.judgment);
  }
}

/** The quarantine detail of secret hits: rule, table version, field path, offsets, hash prefix. Never the secret. */
export function secretDetail(hits: readonly SecretHit[]): string {
  const shown = hits
    .slice(0, 5)
    .map((h) => `${h.rule} at ${h.path}[${h.start}..${h.end}] (sha256 ${h.sha256})`);
  const more = hits.length > 5 ? `; and ${hits.length - 5} more` : '';
  return `${hits.length} secret${hits.length === 1 ? '' : 's'} found (rule table ${SECRET_RULES_VERSION}): ${shown.join('; ')}${more}. The whole record is kept out of every training export; allowlist a known fake by its full sha256 in distill.config.json secret_allowlist`;
}

/** Adds a flag to a sorted, de-duplicated flag list. */
function withFlag(flags: readonly string[], flag: string): string[] {
  return [...new Set([...flags, flag])].sort();
}

/** The outcome of steps 1–4 for one unit. */
export type Screened =
  { type: 'keep'; unit: ScreenUnit; pii: Record<PiiType, number> } | { type: 'drop'; drop: ScreenDrop };

/** Steps 1–4 for one unit. */
export function screenOne(u: ScreenUnit, opts: ScreenOptions, stats: Record<string, number>): Screened {
  const drop = (reason: QuarantineReason, detail: string, ref: string | null = null): Screened => ({
    type: 'drop',
    drop: { unit: u, reason, detail, ref },
  });
  const budget = opts.budget ? opts.budget() : new Budget();
  const scan = newScan(budget, opts.allow);
  const hits = scanRecord(u.record, scan);
  if (scan.allowlisted > 0) bump(stats, 'secrets.allowlisted', scan.allowlisted);
  if (hits.length > 0) {
    for (const h of hits) bump(stats, `secrets.${h.rule}`);
    return drop(`SECRET_DETECTED:${(hits[0] as SecretHit).rule}`, secretDetail(hits));
  }
  if (budget.exhausted)
    return drop(
      'DETECTOR_TIMEOUT',
      `${budget.why}; fail closed: a record the detectors could not finish is never passed as clean`,
    );
  if (u.kind !== 'document') {
    const c = findContamination(textOf(u).pieces, opts.protectedIndex);
    if (c)
      return drop(
        'EVAL_CONTAMINATION',
        `${c.how}: protected set "${c.origin.set}" at ${c.origin.at}`,
        c.origin.at,
      );
  }
  const red = redactRecord(u.record, budget);
  if (budget.exhausted)
    return drop(
      'DETECTOR_TIMEOUT',
      `${budget.why}; fail closed: a record the detectors could not finish is never passed as clean`,
    );
  if (red.spans >= DENSE_MIN_SPANS && (red.spans * 1000) / Math.max(red.chars, 1) >= DENSE_PER_1K) {
    const types = PII_TYPES.filter((t) => red.counts[t] > 0)
      .map((t) => `${t} ${red.counts[t]}`)
      .join(', ');
    return drop(
      'PII_DENSE',
      `${red.spans} PII spans in ${red.chars} characters of text (${types}): at least ${DENSE_MIN_SPANS} spans and ${DENSE_PER_1K} per 1,000 characters`,
    );
  }
  if (red.ids > 0) bump(stats, 'pii.ids_hashed', red.ids);
  const flag = piiFlag(red.counts);
  // no text redacted: the record as it was, but with any id that carried PII replaced by its hash
  if (flag === null)
    return {
      type: 'keep',
      unit: red.ids > 0 ? ({ kind: u.kind, record: red.value } as ScreenUnit) : u,
      pii: red.counts,
    };
  const record = { ...red.value, flags: withFlag(red.value.flags, flag) };
  return { type: 'keep', unit: { kind: u.kind, record } as ScreenUnit, pii: red.counts };
}

/** Screens every unit: steps 1–4 per unit, then dedup over the units kept (in time order, whatever the input order). */
export function screenAll(units: readonly ScreenUnit[], opts: ScreenOptions): ScreenResult {
  const stats: Record<string, number> = {};
  const drops: ScreenDrop[] = [];
  const kept: ScreenUnit[] = [];
  for (const u of units) {
    const r = screenOne(u, opts, stats);
    if (r.type === 'drop') drops.push(r.drop);
    else {
      kept.push(r.unit);
      countPii(stats, r.pii);
    }
  }
  const texts = new Map(kept.map((u) => [unitId(u), textOf(u)]));
  const { verdicts, stats: dedup } = findDuplicates(
    kept.map((u) => {
      const t = texts.get(unitId(u)) as TrainingText;
      return { id: unitId(u), at: u.record.recorded_at, cls: t.cls, full: t.full, body: t.body };
    }),
  );
  const survivors: ScreenUnit[] = [];
  for (const u of kept) {
    const v = verdicts.get(unitId(u));
    if (v) drops.push({ unit: u, reason: v.reason, detail: v.detail, ref: v.ref });
    else survivors.push(u);
  }
  return { kept: survivors, drops, stats: finishStats(stats), dedup };
}

/** Adds a kept unit's PII counts to the stats. */
export function countPii(stats: Record<string, number>, pii: Record<PiiType, number>): void {
  for (const t of PII_TYPES) if (pii[t] > 0) bump(stats, `pii.${t}`, pii[t]);
  if (PII_TYPES.some((t) => pii[t] > 0)) bump(stats, 'pii.rows_redacted');
}

/** The stats as published: every PII type present (0 when none), keys sorted. */
export function finishStats(stats: Record<string, number>): Record<string, number> {
  for (const t of PII_TYPES) if (stats[`pii.${t}`] === undefined) stats[`pii.${t}`] = 0;
  return sortedCounts(stats);
}
