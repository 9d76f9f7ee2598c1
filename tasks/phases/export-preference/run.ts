import { leftOutText } from '../../lib/quarantine.ts';
import { EXCLUDED } from './contract.ts';
import { join } from 'node:path';
import type { DistillConfig } from '../../../schemas/config.ts';
import { SCHEMA_VERSION as EVIDENCE_V, type EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { SCHEMA_VERSION as KTO_V, type KtoSample } from '../../../schemas/kto-sample.ts';
import { SCHEMA_VERSION as PREF_V, type PreferenceSample } from '../../../schemas/preference-sample.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V, type ScoredRun } from '../../../schemas/scored-run.ts';
import { renderCard } from '../../lib/export/formats/hf-card.ts';
import { openaiDpoRow } from '../../lib/export/formats/openai.ts';
import { trlKtoRow, trlPreferenceRow } from '../../lib/export/formats/trl.ts';
import { readLocated } from '../../lib/export/inputs.ts';
import { screenedFiles } from '../../lib/upstream.ts';
import { fanOutSharded, QuarantineSorter, rescanExport } from '../../lib/export/output.ts';
import {
  EVIDENCE_SHARD,
  EXPORT_LAYOUT,
  familyShard,
  latestShard,
  quarantineShard,
  shardOfInput,
  sidecarShard,
  sortedShards,
  splitShard,
} from '../../lib/export/shards.ts';
import { ExternalSorter, SORT_MEMORY_CHARS } from '../../lib/external-sort.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { LineSpill } from '../../lib/line-spill.ts';
import { KTO_FAMILY, PAIR_FAMILY, PREFERENCE_DIR } from './contract.ts';
import { n } from '../../lib/log.ts';
import type { PhaseResult } from '../../lib/phase.ts';
import { stagedPhase } from '../../lib/phase-shell.ts';
import {
  checkAccounting,
  emptyStats,
  mineGroup,
  mineJudgment,
  mineRun,
  sidesOf,
  TaskUnion,
  type MinedRows,
} from './mining.ts';
import { SPLITS, type Split } from '../../lib/export/split.ts';

/** The canonical files of exports/preference/. */

/**
 * The export-preference phase: pairs + unpaired KTO rows in exports/preference/. The same three
 * steps as `minePreferences`, streaming: runs one at a time (drops, correction pairs; outcome sides
 * spilled to disk), task groups formed by a union-find over run ids and an external sort of the
 * sides by (group root, run_id), judgments one at a time; pairs, KTO rows and drops go through
 * external sorts into their files.
 */
export async function exportPreference(root: string, config: DistillConfig): Promise<PhaseResult> {
  const dir = PREFERENCE_DIR;
  const cap = config.exports.preference_cap_per_task;
  const testFraction = config.exports.test_fraction;
  const opts = { cap, testFraction };
  const { runs: runFiles, evidence: evFiles } = await screenedFiles(root);
  return stagedPhase(root, { phase: 'export-preference', outDir: dir }, async ({ staged, scratch }) => {
    // three sorters fill at once here (pairs, KTO rows, then the task groups), so each gets a third
    // of the default buffer: at the default each, the 1M-row bench corpus held more for no speed
    // (RSS 270 → 236 MB with a third, same time)
    const pairs = new ExternalSorter(scratch.dir, 'pairs', SORT_MEMORY_CHARS / 3);
    const kto = new ExternalSorter(scratch.dir, 'kto', SORT_MEMORY_CHARS / 3);
    const quarantine = new QuarantineSorter(scratch.dir, 'export-preference');
    const pairParts: Record<Split, number> = { train: 0, test: 0 };
    const ktoParts: Record<Split, number> = { train: 0, test: 0 };
    const openaiParts: Record<Split, number> = { train: 0, test: 0 };
    // rows per shard file, counted as they are mined (the self-check of every shard file)
    const expectedRows: Record<string, number> = {};
    const count = (rel: string): void => {
      expectedRows[rel] = (expectedRows[rel] ?? 0) + 1;
    };
    let pairTools = false;
    let ktoTools = false;
    // the shard (day file) of each run: a pair, KTO row or quarantine row belongs to the latest
    // shard of the runs it names; rows of judgments only to `evidence`
    const runShard = new Map<string, string>();
    const shardOf = (...ids: (string | null | undefined)[]): string =>
      latestShard(
        ids.map((id) => (id ? runShard.get(id) : undefined)),
        EVIDENCE_SHARD,
      );
    const used = new Set<string>();
    const put = async (rows: MinedRows): Promise<void> => {
      for (const p of rows.pairs) {
        const shard = shardOf(p.chosen_id, p.rejected_id);
        used.add(shard);
        pairParts[p.split]++;
        count(familyShard(PAIR_FAMILY, shard));
        count(splitShard('trl/preference', p.split, shard));
        count(splitShard('hf/preference', p.split, shard));
        if (openaiDpoRow(p) !== null) {
          openaiParts[p.split]++;
          count(splitShard('openai', p.split, shard));
          count(sidecarShard('openai', p.split, shard));
        }
        pairTools ||= (p.tools ?? []).length > 0;
        await pairs.add(`${shard}\u0000${p.id}`, JSON.stringify(p));
      }
      for (const k of rows.kto) {
        const shard = shardOf(k.run_id);
        used.add(shard);
        ktoParts[k.split]++;
        count(familyShard(KTO_FAMILY, shard));
        count(splitShard('trl/kto', k.split, shard));
        count(splitShard('hf/kto', k.split, shard));
        ktoTools ||= (k.tools ?? []).length > 0;
        await kto.add(`${shard}\u0000${k.id}`, JSON.stringify(k));
      }
      for (const d of rows.drops) {
        const shard = shardOf(d.record, d.trace, d.ref);
        used.add(shard);
        count(quarantineShard(shard));
        await quarantine.add(d, shard);
      }
    };
    const stats = emptyStats(0, 0);
    // step 1: runs; outcome sides wait on disk until every side is known
    const sides = new LineSpill([scratch.path('sides.jsonl')]);
    const groups = new TaskUnion();
    for (const f of runFiles) {
      const shard = shardOfInput(f.path);
      for await (const { text } of jsonlLines(join(root, f.path))) {
        const run = JSON.parse(text) as ScoredRun;
        runShard.set(run.run_id, shard);
        stats.runs_in++;
        const { side, rows } = mineRun(run, opts, stats);
        await put(rows);
        if (!side) continue;
        groups.add(run.run_id, run.task_key, run.run.escalated_from);
        await sides.append(0, text);
      }
    }
    await sides.close();
    // step 2: task groups, each sorted by run_id
    groups.link();
    const byGroup = new ExternalSorter(scratch.dir, 'groups', SORT_MEMORY_CHARS / 3);
    if (sides.lines[0] !== 0) {
      for await (const { text } of jsonlLines(scratch.path('sides.jsonl'))) {
        const run = JSON.parse(text) as ScoredRun;
        await byGroup.add(`${groups.root(run.run_id)}\u0000${run.run_id}`, text);
      }
    }
    let current: string | null = null;
    let members: ScoredRun[] = [];
    const flush = async (): Promise<void> => {
      if (members.length > 0) await put(mineGroup(sidesOf(members), opts, stats));
      members = [];
    };
    for await (const { key, line } of byGroup.sorted()) {
      const g = key.slice(0, key.indexOf('\u0000'));
      if (g !== current) {
        await flush();
        current = g;
      }
      members.push(JSON.parse(line) as ScoredRun);
    }
    await flush();
    // step 3: imported judgments
    for await (const row of readLocated(
      root,
      evFiles.map((f) => f.path),
    )) {
      const ev = row.value as EvidenceRecord;
      if (ev.kind !== 'judgment') continue;
      stats.judgments_in++;
      await put(mineJudgment(ev, opts, stats));
    }
    checkAccounting(stats);
    const pairCount = pairs.size;
    const ktoCount = kto.size;
    const dropCount = quarantine.size;
    const shards = sortedShards([
      ...runFiles.map((f) => shardOfInput(f.path)),
      ...(evFiles.length > 0 ? [EVIDENCE_SHARD] : []),
      ...used,
    ]);
    for (const shard of shards)
      for (const rel of [
        familyShard(PAIR_FAMILY, shard),
        familyShard(KTO_FAMILY, shard),
        quarantineShard(shard),
      ])
        expectedRows[rel] ??= 0;
    for (const shard of shards)
      for (const sp of SPLITS)
        for (const p of ['openai', 'openai/ids', 'trl/preference', 'hf/preference', 'trl/kto', 'hf/kto'])
          expectedRows[`${p}/${sp}/${shard}.jsonl`] ??= 0;
    await fanOutSharded<PreferenceSample>(
      staged,
      pairs,
      PAIR_FAMILY,
      [
        { prefix: 'openai', convert: openaiDpoRow, idSidecar: true },
        { prefix: 'trl/preference', convert: (p) => trlPreferenceRow(p, pairTools) },
        { prefix: 'hf/preference', convert: (p) => trlPreferenceRow(p, pairTools) },
      ],
      shards,
    );
    await fanOutSharded<KtoSample>(
      staged,
      kto,
      KTO_FAMILY,
      [
        { prefix: 'trl/kto', convert: (k) => trlKtoRow(k, ktoTools) },
        { prefix: 'hf/kto', convert: (k) => trlKtoRow(k, ktoTools) },
      ],
      shards,
    );
    await staged.writeFile(
      'hf/README.md',
      renderCard({
        prettyName: 'distill preference pairs',
        tags: ['dpo', 'kto', 'preference', 'agent-traces', 'distill'],
        configs: [
          {
            name: 'preference',
            default: true,
            splits: SPLITS.map((s) => ({ split: s, path: `preference/${s}/*.jsonl`, rows: pairParts[s] })),
          },
          {
            name: 'kto',
            splits: SPLITS.map((s) => ({ split: s, path: `kto/${s}/*.jsonl`, rows: ktoParts[s] })),
          },
        ],
        body: [
          '# distill preference pairs',
          '',
          "Exported by `distill export-preference`. `preference`: TRL conversational preference rows with an explicit prompt (`id`, `prompt`, `chosen`, `rejected`): the prompt is exactly the opening both conversations share (at least through the first user turn), and each side is the rest of its own conversation (a list of messages starting with the model's turn, tool calls and results included). Pairs are an accepted vs a rejected attempt at one task, a human correction vs the original answer, or an imported human judgment. Never a run paired with itself, never two different dialogues, never two sides that are only pleasantries.",
          "`kto`: unpaired rows (`id`, `prompt`, `completion`, `label`) for accepted (true) and rejected (false) runs that found no partner: the prompt is the run up to the model's first turn, the completion the rest up to its last substantive turn.",
          'TRL computes the DPO / KTO loss over every token of a side or completion, tool results and any later user turn included; mask them yourself if your trainer should not learn them.',
          'Each split is one file per day of the traces (`preference/<split>/<YYYY-MM-DD>.jsonl`, `undated.jsonl`; a pair belongs to the latest day of its runs, a judgment to `evidence.jsonl`); `load_dataset` reads them all through the globs above.',
          'Tool-call `arguments` are JSON objects; splits are assigned by a hash of the task_key. Trace any row back to its source line with `distill trace <id>`.',
        ],
      }),
    );
    // receipt counts are per unit (run / judgment): in = out + quarantined; skipped candidates are stats
    const { units: byReason, candidates: skipped } = quarantine.counts();
    await quarantine.write(staged, shards);
    const parameters = {
      export_layout: EXPORT_LAYOUT,
      preference_cap_per_task: cap,
      test_fraction: testFraction,
      pair_order: 'zip-then-lexicographic by run_id',
    };
    const schemaVersions = {
      ScoredRun: SCORED_V,
      EvidenceRecord: EVIDENCE_V,
      PreferenceSample: PREF_V,
      KtoSample: KTO_V,
      QuarantineRecord: QUARANTINE_V,
    };
    const openaiOmitted = pairCount - openaiParts.train - openaiParts.test;
    const counts = {
      ...stats,
      pairs: pairCount,
      kto: ktoCount,
      openai_omitted: openaiOmitted,
      quarantined: dropCount,
    };
    const inputs = [...runFiles, ...evFiles];
    const unitsIn = stats.runs_in + stats.judgments_in;
    const unitsDropped = stats.runs_quarantined + stats.judgments_quarantined;
    return {
      parameters,
      schemaVersions,
      inputs: outputsSorted(inputs),
      expectedRows: expectedRows,
      manifestCounts: counts,
      beforePublish: rescanExport(dir, config.secret_allowlist),
      counts: { in: unitsIn, out: unitsIn - unitsDropped, quarantined: unitsDropped, by_reason: byReason },
      stats: {
        ...stats,
        pairs: pairCount,
        kto: ktoCount,
        openai_omitted: openaiOmitted,
        ...Object.fromEntries(Object.entries(skipped).map(([k, v]) => [`candidates_skipped.${k}`, v])),
      },
      summary: `${n(stats.runs_in)} runs + ${n(stats.judgments_in)} judgments → ${n(pairCount)} pairs (${n(stats.pairs_outcome)} outcome, ${n(stats.pairs_correction)} correction, ${n(stats.pairs_judgment)} judgment), ${n(ktoCount)} unpaired KTO rows${dropCount ? `; ${leftOutText(byReason, EXCLUDED)}` : ''}`,
    };
  });
}

function outputsSorted<T extends { path: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
