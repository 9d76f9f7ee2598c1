import { CATEGORIES } from '../../../schemas/category.ts';
import { RULE_IDS } from '../../phases/score/contract.ts';
import type { Snapshot } from './snapshot.ts';
import { countBy, countDiffs, listCounts, verdict, type CheckResult } from './verdict.ts';

/** A03: scored runs per category and per deciding rule are the pinned ones; every category and every rule of the table occurs. */
export function categoryAndRuleCounts(s: Snapshot): CheckResult {
  const byCategory = countBy(s.scored, (r) => r.category);
  const byRule = countBy(s.scored, (r) => r.decided_by);
  const problems = [
    ...countDiffs(byCategory, s.expected.categories, 'category '),
    ...countDiffs(byRule, s.expected.rules, 'rule '),
  ];
  for (const c of CATEGORIES) if (!byCategory[c]) problems.push(`no run is ${c}`);
  for (const id of RULE_IDS)
    if (!byRule[id])
      problems.push(
        `rule ${id} decided no run (every rule of tasks/phases/score/rules.ts must be exercised)`,
      );
  return verdict(
    problems,
    `${s.scored.length} runs: ${CATEGORIES.map((c) => `${byCategory[c] ?? 0} ${c}`).join(', ')}; all ${RULE_IDS.length} rules decided at least one run`,
  );
}

/** A04: quarantine rows per stage and reason are exactly the pinned ones. */
export function quarantineReasonCounts(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const stages = [...new Set([...Object.keys(s.quarantine), ...Object.keys(s.expected.quarantine)])].sort();
  let total = 0;
  let reasons = 0;
  for (const stage of stages) {
    const got = countBy(s.quarantine[stage] ?? [], (q) => String(q['reason']));
    total += (s.quarantine[stage] ?? []).length;
    reasons += Object.keys(got).length;
    problems.push(...countDiffs(got, s.expected.quarantine[stage] ?? {}, `${stage}: `));
  }
  return verdict(
    problems,
    `${total} quarantine rows over ${stages.length} stages, ${reasons} distinct (stage, reason) pairs, all as pinned`,
  );
}

/** The export row counts the fixture pins, computed from the export files. */
export function exportCounts(s: Snapshot): Record<string, number> {
  const pairs = countBy(s.exports.pairs, (p) => p.pair_type);
  return {
    rag: s.exports.rag.length,
    'rag.documents': s.exports.rag.filter((r) => r.metadata['chunk_index'] === 0).length,
    sft: s.exports.sft.length,
    'sft-partial': s.exports.sftPartial.length,
    preference: s.exports.pairs.length,
    'preference.outcome': pairs['outcome'] ?? 0,
    'preference.correction': pairs['correction'] ?? 0,
    'preference.judgment': pairs['judgment'] ?? 0,
    kto: s.exports.kto.length,
  };
}

/** A05: rows of every export are the pinned ones. */
export function exportRowCounts(s: Snapshot): CheckResult {
  const got = exportCounts(s);
  return verdict(countDiffs(got, s.expected.exports, 'export '), listCounts(got));
}

/** Unit ids against what a stage used and quarantined: each unit exactly once, nothing unknown. */
function reconcileUnits(
  stage: string,
  units: readonly string[],
  used: ReadonlySet<string>,
  quarantined: readonly string[],
): string[] {
  const problems: string[] = [];
  const known = new Set(units);
  const q = countBy(quarantined, (x) => x);
  for (const id of units) {
    const u = used.has(id);
    const n = q[id] ?? 0;
    if (u && n > 0) problems.push(`${stage}: ${id} was both used and quarantined`);
    else if (!u && n === 0) problems.push(`${stage}: ${id} was neither used nor quarantined (lost silently)`);
    else if (n > 1) problems.push(`${stage}: ${id} was quarantined ${n} times`);
  }
  for (const id of Object.keys(q))
    if (!known.has(id))
      problems.push(`${stage}: a quarantine row names ${id}, which is not one of its input units`);
  for (const id of used)
    if (!known.has(id)) problems.push(`${stage}: wrote a row for ${id}, which is not one of its input units`);
  return problems;
}

/** record_id of the stage's quarantine rows that are whole units (not refused candidate pairs). */
function quarantinedIds(s: Snapshot, stage: string): string[] {
  return (s.quarantine[stage] ?? [])
    .map((q) => String(q['record_id']))
    .filter((id) => !id.startsWith('pref_'));
}

/**
 * A06: units reconcile between phases, by id: every run / signal of evidence is scored or
 * score-quarantined; every scored run, document and judgment is screened or screen-quarantined;
 * every screened unit is exported or quarantined by each export — each exactly once.
 */
export function unitsReconcile(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const scoredIds = new Set([
    ...s.scored.map((r) => r.evidence_id),
    ...s.scored.flatMap((r) => r.signals.map((x) => x.evidence_id)),
  ]);
  const joinable = s.evidence
    .filter((e) => e.kind === 'run' || e.kind === 'signal')
    .map((e) => e.evidence_id);
  problems.push(...reconcileUnits('score', joinable, scoredIds, quarantinedIds(s, 'score')));

  const passthrough = s.evidence
    .filter((e) => e.kind === 'document' || e.kind === 'judgment')
    .map((e) => e.evidence_id);
  const screenedIds = new Set([
    ...s.screened.runs.map((r) => r.run_id),
    ...s.screened.documents.map((d) => d.evidence_id),
    ...s.screened.judgments.map((j) => j.evidence_id),
  ]);
  problems.push(
    ...reconcileUnits(
      'screen',
      [...s.scored.map((r) => r.run_id), ...passthrough],
      screenedIds,
      quarantinedIds(s, 'screen'),
    ),
  );

  const runIds = s.screened.runs.map((r) => r.run_id);
  problems.push(
    ...reconcileUnits(
      'export-sft',
      runIds,
      new Set(s.exports.sft.map((r) => r.run_id)),
      quarantinedIds(s, 'export-sft'),
    ),
  );
  problems.push(
    ...reconcileUnits(
      'export-sft-partial',
      runIds,
      new Set(s.exports.sftPartial.map((r) => r.run_id)),
      quarantinedIds(s, 'export-sft-partial'),
    ),
  );
  const ragUsed = new Set(
    s.exports.rag.map((r) =>
      String(r.metadata['kind'] === 'run' ? r.metadata['trace_id'] : r.metadata['evidence_id']),
    ),
  );
  problems.push(
    ...reconcileUnits(
      'export-rag',
      [...runIds, ...s.screened.documents.map((d) => d.evidence_id)],
      ragUsed,
      quarantinedIds(s, 'export-rag'),
    ),
  );
  const prefUsed = new Set<string>(s.exports.kto.map((k) => k.run_id));
  for (const p of s.exports.pairs) {
    if (p.pair_type === 'outcome') prefUsed.add(p.chosen_id).add(p.rejected_id);
    else if (p.pair_type === 'correction') prefUsed.add(p.rejected_id);
    else prefUsed.add(p.chosen_id.split('#')[0] as string);
  }
  problems.push(
    ...reconcileUnits(
      'export-preference',
      [...runIds, ...s.screened.judgments.map((j) => j.evidence_id)],
      prefUsed,
      quarantinedIds(s, 'export-preference'),
    ),
  );
  return verdict(
    problems,
    `evidence → score → screen → each of 4 exports: every unit used or quarantined exactly once (${joinable.length} runs and signals, ${runIds.length} screened runs)`,
  );
}
