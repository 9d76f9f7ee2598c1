import type { DistillConfig } from '../schemas/config.ts';
import { SCHEMA_VERSION as EVIDENCE_V } from '../schemas/evidence-record.ts';
import { SCHEMA_VERSION as KTO_V } from '../schemas/kto-sample.ts';
import { SCHEMA_VERSION as PREF_V } from '../schemas/preference-sample.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V } from '../schemas/scored-run.ts';
import { renderCard } from './export-formats/hf-card.ts';
import { openaiDpoRow } from './export-formats/openai.ts';
import { trlKtoRow, trlPreferenceRow } from './export-formats/trl.ts';
import { readPassthroughEvidence, readScoredRuns, SCREENED_FROM, screenedFiles } from './export-inputs.ts';
import { bySplit, QUARANTINE_FILE, sealExport, writeQuarantine, writeRows, writeSplits } from './export-output.ts';
import { EXPORT_DIRS } from './lib/layout.ts';
import { n } from './lib/log.ts';
import { bump, sortedCounts, type PhaseResult } from './lib/phase.ts';
import { StagedDir } from './lib/staged-dir.ts';
import { minePreferences } from './preference-mining.ts';
import { SPLITS } from './split.ts';

/** The canonical files of exports/preference/. */
export const PAIR_FILE = 'chosen_rejected.jsonl';
export const KTO_FILE = 'unpaired_kto.jsonl';

/** The export-preference phase: pairs + unpaired KTO rows in exports/preference/. */
export async function exportPreference(root: string, config: DistillConfig): Promise<PhaseResult> {
  const dir = EXPORT_DIRS.preference;
  const cap = config.exports.preference_cap_per_task;
  const testFraction = config.exports.test_fraction;
  const { runs: runFiles, evidence: evFiles } = await screenedFiles(root);
  const runs = await readScoredRuns(root, runFiles, SCREENED_FROM);
  const { judgments } = await readPassthroughEvidence(root, evFiles, SCREENED_FROM);
  const { pairs, kto, drops, stats } = minePreferences(runs, judgments, { cap, testFraction });
  const pairParts = bySplit(pairs);
  const ktoParts = bySplit(kto);
  const pairTools = pairs.some((p) => (p.tools ?? []).length > 0);
  const ktoTools = kto.some((k) => (k.tools ?? []).length > 0);
  const staged = await StagedDir.begin(root, dir);
  try {
    await writeRows(staged, PAIR_FILE, pairs);
    await writeRows(staged, KTO_FILE, kto);
    await writeSplits(staged, 'openai', pairs, openaiDpoRow);
    await writeSplits(staged, 'trl/preference', pairs, (p) => trlPreferenceRow(p, pairTools));
    await writeSplits(staged, 'trl/kto', kto, (k) => trlKtoRow(k, ktoTools));
    await writeSplits(staged, 'hf/preference', pairs, (p) => ({ id: p.id, ...trlPreferenceRow(p, pairTools) }));
    await writeSplits(staged, 'hf/kto', kto, (k) => ({ id: k.id, ...trlKtoRow(k, ktoTools) }));
    await staged.writeFile(
      'hf/README.md',
      renderCard({
        prettyName: 'distill preference pairs',
        tags: ['dpo', 'kto', 'preference', 'agent-traces', 'distill'],
        configs: [
          { name: 'preference', default: true, splits: SPLITS.map((s) => ({ split: s, path: `preference/${s}.jsonl`, rows: pairParts[s].length })) },
          { name: 'kto', splits: SPLITS.map((s) => ({ split: s, path: `kto/${s}.jsonl`, rows: ktoParts[s].length })) },
        ],
        body: [
          '# distill preference pairs',
          '',
          'Exported by `distill export-preference`. `preference`: TRL conversational preference rows with an explicit prompt (`prompt`, `chosen`, `rejected`, each side a list of one assistant message); pairs are an accepted vs a rejected attempt at one task, a human correction vs the original answer, or an imported human judgment. Never a run paired with itself, never identical texts.',
          '`kto`: unpaired rows (`prompt`, `completion`, `label`) for accepted (true) and rejected (false) runs that found no partner.',
          'Tool-call `arguments` are JSON objects; splits are assigned by a hash of the task_key. Trace any row back to its source line with `distill trace <id>`.',
        ],
      }),
    );
    await writeQuarantine(staged, 'export-preference', drops);
    // receipt counts are per unit (run / judgment): in = out + quarantined; skipped candidates are stats
    const byReason: Record<string, number> = {};
    const skipped: Record<string, number> = {};
    for (const d of drops) bump(d.candidate ? skipped : byReason, d.reason);
    const expectedRows: Record<string, number> = { [PAIR_FILE]: pairs.length, [KTO_FILE]: kto.length, [QUARANTINE_FILE]: drops.length };
    for (const s of SPLITS) {
      expectedRows[`openai/${s}.jsonl`] = pairParts[s].length;
      expectedRows[`trl/preference/${s}.jsonl`] = pairParts[s].length;
      expectedRows[`hf/preference/${s}.jsonl`] = pairParts[s].length;
      expectedRows[`trl/kto/${s}.jsonl`] = ktoParts[s].length;
      expectedRows[`hf/kto/${s}.jsonl`] = ktoParts[s].length;
    }
    const parameters = { preference_cap_per_task: cap, test_fraction: testFraction, pair_order: 'zip-then-lexicographic by run_id' };
    const schemaVersions = { ScoredRun: SCORED_V, EvidenceRecord: EVIDENCE_V, PreferenceSample: PREF_V, KtoSample: KTO_V, QuarantineRecord: QUARANTINE_V };
    const counts = { ...stats, pairs: pairs.length, kto: kto.length, quarantined: drops.length };
    const inputs = [...runFiles, ...evFiles];
    const outputs = await sealExport(staged, { phase: 'export-preference', dir, parameters, schemaVersions, inputs, expectedRows, counts, secretAllowlist: config.secret_allowlist });
    await staged.publish();
    const unitsIn = stats.runs_in + stats.judgments_in;
    const unitsDropped = stats.runs_quarantined + stats.judgments_quarantined;
    return {
      parameters,
      schemaVersions,
      inputs: outputsSorted(inputs),
      outputs,
      counts: { in: unitsIn, out: unitsIn - unitsDropped, quarantined: unitsDropped, by_reason: sortedCounts(byReason) },
      stats: { ...stats, pairs: pairs.length, kto: kto.length, ...Object.fromEntries(Object.entries(sortedCounts(skipped)).map(([k, v]) => [`candidates_skipped.${k}`, v])) },
      summary: `${n(stats.runs_in)} runs + ${n(stats.judgments_in)} judgments → ${n(pairs.length)} pairs (${n(stats.pairs_outcome)} outcome, ${n(stats.pairs_correction)} correction, ${n(stats.pairs_judgment)} judgment), ${n(kto.length)} unpaired KTO rows; ${n(drops.length)} quarantined`,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}

function outputsSorted<T extends { path: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
