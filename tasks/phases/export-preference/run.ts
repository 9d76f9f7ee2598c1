import { leftOutText } from '../../lib/quarantine.ts';
import { EXCLUDED, PHASE } from './contract.ts';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { DistillConfig } from '../../../schemas/config.ts';
import { SCHEMA_VERSION as EVIDENCE_V, type EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { SCHEMA_VERSION as KTO_V, type KtoSample } from '../../../schemas/kto-sample.ts';
import { SCHEMA_VERSION as PREF_V, type PreferenceSample } from '../../../schemas/preference-sample.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V, type ScoredRun } from '../../../schemas/scored-run.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { renderCard } from '../../lib/export/formats/hf-card.ts';
import { openaiDpoRow } from '../../lib/export/formats/openai.ts';
import { trlKtoRow, trlPreferenceRow } from '../../lib/export/formats/trl.ts';
import { screenedFiles } from '../../lib/upstream.ts';
import { fanOutSharded, QuarantineSorter, rescanExport, type ExportDrop } from '../../lib/export/output.ts';
import {
  EVIDENCE_SHARD,
  EXPORT_LAYOUT,
  familyShard,
  latestShard,
  loadBuild,
  quarantineShard,
  saveBuild,
  shardEntries,
  shardOfInput,
  sidecarShard,
  sortedShards,
  splitShard,
  stillAsPublished,
  type PreviousBuild,
  type ShardRecord,
} from '../../lib/export/shards.ts';
import { ExternalSorter, SORT_MEMORY_CHARS } from '../../lib/external-sort.ts';
import { sha256 } from '../../lib/hash.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { LineSpill } from '../../lib/line-spill.ts';
import { KTO_FAMILY, PAIR_FAMILY, PREFERENCE_DIR } from './contract.ts';
import { n } from '../../lib/log.ts';
import type { PhaseResult } from '../../lib/phase.ts';
import { stagedPhase, type PhaseOutput, type ShellContext } from '../../lib/phase-shell.ts';
import { previousLines, StalePrevious } from '../../lib/previous-output.ts';
import {
  checkAccounting,
  mineGroup,
  mineJudgment,
  mineRun,
  sidesOf,
  TaskUnion,
  type MinedRows,
} from './mining.ts';
import {
  addPacked,
  addPackedSum,
  addRow,
  addSum,
  newTally,
  packSums,
  packTally,
  rowHash,
  sameSum,
  type PackedTally,
  type RowSum,
  type Tally,
} from './tally.ts';
import { SPLITS } from '../../lib/export/split.ts';

/**
 * An outcome side as the state keeps it: run_id, task_key, escalated_from (what groups it), and
 * where its line is in its day file (byte offset and length), so a task group mined again reads
 * its old members' lines without reading their whole day files.
 */
type Side = [id: string, task: string | null, from: string | null, offset: number, length: number];

/** What the state keeps per shard: its outcome sides, and the tally of its own rows (its runs' drops and correction pairs; for `evidence`, the judgments'). */
interface PrefShard {
  sides: Side[];
  tally: PackedTally;
  /** `evidence` only: the judgments its rows come from, sha256 of the judgment's line (first 32 hex digits) → evidence_id. */
  judgments?: Record<string, string>;
}

/** What the state keeps per task group (keyed by its root, the lowest run_id): its tally, and its rows per shard as a row sum. */
interface PrefGroup {
  tally: PackedTally;
  rows: Record<string, [number, string]>;
}

interface PrefExtra {
  groups: Record<string, PrefGroup>;
}

type Prev = PreviousBuild<PrefShard, PrefExtra>;

/** A build that must start over cold (the previous build cannot be trusted or reused), and why. */
class GoCold extends Error {}

/**
 * The export-preference phase: pairs + unpaired KTO rows in exports/preference/, one file per day
 * shard (docs/exports.md). The same three steps as `minePreferences`, streaming: runs one at a time
 * (drops, correction pairs: a run's own rows, in its day's shard; outcome sides spilled to disk),
 * task groups formed by a union-find over run ids and an external sort of the sides by (group root,
 * run_id), each group mined whole (its rows land in the latest shard of the runs they name), and
 * judgments one at a time (shard `evidence`).
 *
 * Incremental: the state (.distill/cache/exports/export-preference.json) keeps, per shard, the
 * sha256 of its input, its outcome sides and the tally of its own rows, and per task group its
 * tally and a row sum per shard it has rows in. A later build reads only the day files that are
 * new or changed; groups that gained, lost or changed a run are mined again (their unchanged
 * members' lines read by offset); every other group's rows and counts come from the last build.
 * A shard is written again when its input changed or the rows the re-mined groups put in it differ
 * from the ones they had there (the per-task cap can move pairs in an old shard); then its other
 * rows are copied from its published files. The rest is hard-linked. The counts are the sum of the
 * tallies, so they are a cold build's.
 */
export async function exportPreference(root: string, config: DistillConfig): Promise<PhaseResult> {
  const dir = PREFERENCE_DIR;
  const cap = config.exports.preference_cap_per_task;
  const testFraction = config.exports.test_fraction;
  const parameters = {
    export_layout: EXPORT_LAYOUT,
    preference_cap_per_task: cap,
    test_fraction: testFraction,
    pair_order: 'zip-then-lexicographic by run_id',
  };
  const { runs: runFiles, evidence: evFiles } = await screenedFiles(root);
  return stagedPhase(root, { phase: PHASE, outDir: dir }, async (ctx) => {
    const loaded = await loadBuild<PrefShard, PrefExtra>(root, PHASE, dir, parameters);
    let prev: Prev | null = loaded.prev;
    let why = loaded.why;
    if (prev && !prev.extra?.groups) {
      prev = null;
      why = 'the state of the last build keeps no task groups';
    }
    for (;;) {
      try {
        return await build(ctx, { config, parameters, runFiles, evFiles, prev, why });
      } catch (e) {
        if (!(e instanceof GoCold || e instanceof StalePrevious) || prev === null) throw e;
        why = e.message;
        prev = null;
        await ctx.restart();
      }
    }
  });
}

interface BuildInput {
  config: DistillConfig;
  parameters: Record<string, unknown>;
  runFiles: FileEntry[];
  evFiles: FileEntry[];
  prev: Prev | null;
  why: string | null;
}

async function build(ctx: ShellContext, b: BuildInput): Promise<PhaseOutput> {
  const { root, staged, scratch } = ctx;
  const { prev, runFiles, evFiles, config } = b;
  const dir = PREFERENCE_DIR;
  const opts = { cap: config.exports.preference_cap_per_task, testFraction: config.exports.test_fraction };

  const runShards = runFiles.map((f) => ({ shard: shardOfInput(f.path), file: f }));
  if (sortedShards(runShards.map((x) => x.shard)).length !== runShards.length)
    throw new Error('two screened run files map to one shard');
  const evInput =
    evFiles.length > 0 ? sha256(evFiles.map((f) => `${f.path}\u0000${f.sha256}`).join('\n')) : null;
  const allShards = sortedShards([...runShards.map((x) => x.shard), ...(evInput ? [EVIDENCE_SHARD] : [])]);

  // which shards the last build can give: same input, and every published file still as its manifest says
  const kept = new Map<string, ShardRecord<PrefShard>>();
  const intact = async (shard: string): Promise<boolean> => {
    const entries = prev ? shardEntries(prev, dir, shard) : [];
    if (entries.length === 0) return false;
    for (const e of entries) if (!(await stillAsPublished(root, prev as Prev, e))) return false;
    return true;
  };
  for (const x of [
    ...runShards,
    ...(evInput ? [{ shard: EVIDENCE_SHARD, file: { sha256: evInput } }] : []),
  ]) {
    const was = prev?.shards.get(x.shard);
    if (was && was.input === x.file.sha256 && (await intact(x.shard))) kept.set(x.shard, was);
  }
  const fresh = new Set(allShards.filter((s) => !kept.has(s)));
  const shardSet = new Set(allShards);

  // the build's sinks: rows of the shards this build writes go to the sorters; rows the re-mined
  // task groups put in an old shard wait in `pending` until it is known whether that shard changed
  const pairs = new ExternalSorter(scratch.dir, 'pairs', SORT_MEMORY_CHARS / 4);
  const kto = new ExternalSorter(scratch.dir, 'kto', SORT_MEMORY_CHARS / 4);
  const quarantine = new QuarantineSorter(scratch.dir, PHASE);
  const pending = new ExternalSorter(scratch.dir, 'pending', SORT_MEMORY_CHARS / 4);
  // rows per shard file written in this build (the self-check of every file written)
  const expectedRows: Record<string, number> = {};
  const count = (rel: string): void => {
    expectedRows[rel] = (expectedRows[rel] ?? 0) + 1;
  };
  const sink = {
    async pair(p: PreferenceSample, line: string, shard: string): Promise<void> {
      count(familyShard(PAIR_FAMILY, shard));
      count(splitShard('trl/preference', p.split, shard));
      count(splitShard('hf/preference', p.split, shard));
      if (openaiDpoRow(p) !== null) {
        count(splitShard('openai', p.split, shard));
        count(sidecarShard('openai', p.split, shard));
      }
      await pairs.add(`${shard}\u0000${p.id}`, line);
    },
    async kto(k: KtoSample, line: string, shard: string): Promise<void> {
      count(familyShard(KTO_FAMILY, shard));
      count(splitShard('trl/kto', k.split, shard));
      count(splitShard('hf/kto', k.split, shard));
      await kto.add(`${shard}\u0000${k.id}`, line);
    },
    async drop(
      row: Parameters<QuarantineSorter['addWritten']>[0],
      line: string,
      shard: string,
    ): Promise<void> {
      count(quarantineShard(shard));
      await quarantine.addWritten(row, line, shard);
    },
  };

  /**
   * Puts mined rows into their shards (`shardOf`), counting them into `tally` and, when `sums` is
   * given, into the row sums per shard; rows of shards this build does not surely write wait in
   * `pending`.
   */
  const put = async (
    rows: MinedRows,
    tally: Tally,
    shardOf: (...ids: (string | null | undefined)[]) => string,
    sums: Map<string, RowSum> | null,
  ): Promise<void> => {
    const to = async (fam: string, shard: string, row: unknown, line: string): Promise<void> => {
      if (!shardSet.has(shard)) throw new Error(`a row of shard ${shard}, which this build does not write`);
      if (sums) addRow(sums, shard, rowHash(fam, line));
      if (fresh.has(shard)) {
        if (fam === PAIR_FAMILY) await sink.pair(row as PreferenceSample, line, shard);
        else if (fam === KTO_FAMILY) await sink.kto(row as KtoSample, line, shard);
        else await sink.drop(row as QRowFields, line, shard);
      } else await pending.add(`${shard}\u0000${fam}`, line);
    };
    for (const p of rows.pairs) {
      tally.pairs[p.split]++;
      if (openaiDpoRow(p) !== null) tally.openai[p.split]++;
      tally.pairTools ||= (p.tools ?? []).length > 0;
      await to(PAIR_FAMILY, shardOf(p.chosen_id, p.rejected_id), p, JSON.stringify(p));
    }
    for (const k of rows.kto) {
      tally.kto[k.split]++;
      tally.ktoTools ||= (k.tools ?? []).length > 0;
      await to(KTO_FAMILY, shardOf(k.run_id), k, JSON.stringify(k));
    }
    for (const d of rows.drops) {
      const counts = d.candidate ? tally.candidates : tally.units;
      counts[d.reason] = (counts[d.reason] ?? 0) + 1;
      await to(QUARANTINE_FAMILY, shardOf(d.record, d.trace, d.ref), qFields(d), quarantine.lineOf(d));
    }
  };

  // step 1: the runs of new or changed day files: their own rows, and their outcome sides
  const records = new Map<string, ShardRecord<PrefShard>>();
  const sideShard = new Map<string, string>();
  const spill = new LineSpill([scratch.path('sides.jsonl')]);
  for (const x of runShards) {
    if (!fresh.has(x.shard)) continue;
    const tally = newTally();
    const sides: Side[] = [];
    let offset = 0;
    const own = (): string => x.shard; // a run's own rows are in its day's shard
    for await (const { text } of jsonlLines(join(root, x.file.path))) {
      const length = Buffer.byteLength(text);
      const run = JSON.parse(text) as ScoredRun;
      tally.stats.runs_in++;
      const { side, rows } = mineRun(run, opts, tally.stats);
      await put(rows, tally, own, null);
      if (side) {
        sides.push([run.run_id, run.task_key, run.run.escalated_from, offset, length]);
        await spill.append(0, text);
      }
      offset += length + 1;
    }
    records.set(x.shard, { input: x.file.sha256, data: { sides, tally: packTally(tally) } });
  }
  await spill.close();
  for (const [shard, r] of kept) if (shard !== EVIDENCE_SHARD) records.set(shard, r);

  // step 2: task groups over every side (this build's and the kept shards'), and which of them
  // must be mined again: a group with a side of a new or changed shard, or with a run that was in
  // a group of the last build that had one (or one of a removed shard)
  const groups = new TaskUnion();
  for (const [shard, r] of records)
    for (const [id, task, from] of r.data.sides) {
      groups.add(id, task, from);
      sideShard.set(id, shard);
    }
  groups.link();
  // (one step is enough: an old group none of whose runs left or changed lies whole inside one
  // group of this build, since the links between its runs are the same)
  const oldMembers = new Set<string>();
  const oldGone = new Set<string>(); // roots of the last build's groups that are mined again
  const again = new Set<string>(); // roots of this build's groups that are mined again
  if (prev) {
    const old = new TaskUnion();
    for (const r of prev.shards.values())
      for (const [id, task, from] of r.data.sides) old.add(id, task, from);
    old.link();
    for (const [shard, r] of prev.shards)
      if (!kept.has(shard)) for (const [id] of r.data.sides) oldGone.add(old.root(id));
    const touched = new Set<string>();
    for (const r of prev.shards.values())
      for (const [id] of r.data.sides) if (oldGone.has(old.root(id))) touched.add(id);
    for (const [id, shard] of sideShard) if (fresh.has(shard) || touched.has(id)) again.add(groups.root(id));
    // an old group whose runs now join a group mined again goes too (a new run of its task)
    for (const [shard, r] of kept)
      if (shard !== EVIDENCE_SHARD)
        for (const [id] of r.data.sides) if (again.has(groups.root(id))) oldGone.add(old.root(id));
    for (const r of prev.shards.values())
      for (const [id] of r.data.sides) if (oldGone.has(old.root(id))) oldMembers.add(id);
  } else for (const id of sideShard.keys()) again.add(groups.root(id));

  // the sides of those groups, sorted by (group root, run_id): this build's from the spill, the
  // kept shards' read by offset from their day files (checked: the state says what is there)
  const byGroup = new ExternalSorter(scratch.dir, 'groups', SORT_MEMORY_CHARS / 4);
  if (spill.lines[0] !== 0)
    for await (const { text } of jsonlLines(scratch.path('sides.jsonl'))) {
      const run = JSON.parse(text) as ScoredRun;
      await byGroup.add(`${groups.root(run.run_id)}\u0000${run.run_id}`, text);
    }
  for (const x of runShards) {
    const r = kept.get(x.shard);
    if (!r) continue;
    const want = r.data.sides.filter(([id]) => again.has(groups.root(id)));
    if (want.length > 0) await readSides(join(root, x.file.path), want, byGroup, (id) => groups.root(id));
  }

  // step 3: mine those groups
  const newGroups = new Map<string, PrefGroup>();
  const newSums = new Map<string, RowSum>();
  let current: string | null = null;
  let members: ScoredRun[] = [];
  const flush = async (): Promise<void> => {
    if (members.length === 0) return;
    const tally = newTally();
    const sums = new Map<string, RowSum>();
    const shardOf = (...ids: (string | null | undefined)[]): string =>
      latestShard(
        ids.map((id) => (id ? sideShard.get(id) : undefined)),
        EVIDENCE_SHARD,
      );
    await put(mineGroup(sidesOf(members), opts, tally.stats), tally, shardOf, sums);
    for (const [s, v] of sums) addSum(newSums, s, v);
    newGroups.set(current as string, { tally: packTally(tally), rows: packSums(sums) });
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

  // step 4: judgments (shard `evidence`), when the screened evidence changed. A judgment's rows
  // depend on it alone: one whose line the last build mined (same sha256) keeps its rows, copied
  // from the published shard and counted from them; only new or changed judgments are mined
  let evRecord: PrefShard | null = null;
  if (evInput && fresh.has(EVIDENCE_SHARD)) {
    const tally = newTally();
    const was = prev?.shards.get(EVIDENCE_SHARD);
    const known = was?.data.judgments && (await intact(EVIDENCE_SHARD)) ? was.data.judgments : {};
    const judgments: Record<string, string> = {};
    const keep = new Set<string>();
    const mined = new Set<string>();
    for (const f of evFiles)
      for await (const { text } of jsonlLines(join(root, f.path))) {
        // a judgment row holds the word (its kind); documents without it are not parsed
        if (!text.includes('judgment')) continue;
        const h = sha256(text).slice(0, 32);
        const id = known[h];
        if (id !== undefined) {
          if (judgments[h] !== undefined)
            throw new GoCold('a judgment occurs twice in the screened evidence');
          judgments[h] = id;
          keep.add(id);
          continue;
        }
        const ev = JSON.parse(text) as EvidenceRecord;
        if (ev.kind !== 'judgment') continue;
        judgments[h] = ev.evidence_id;
        mined.add(ev.evidence_id);
        tally.stats.judgments_in++;
        await put(mineJudgment(ev, opts, tally.stats), tally, () => EVIDENCE_SHARD, null);
      }
    if (keep.size > 0) {
      const copied = new Map<string, number>();
      await copyKeptRows(
        root,
        prev as Prev,
        EVIDENCE_SHARD,
        (fam, row) => keep.has(judgmentOf(fam, row)),
        sink,
        (fam, row) => {
          const id = judgmentOf(fam, row);
          copied.set(id, (copied.get(id) ?? 0) + 1);
          countJudgmentRow(tally, fam, row);
        },
      );
      // each judgment has exactly one row (a pair or its quarantine row), and one id one judgment
      if (
        copied.size !== keep.size ||
        [...copied.values()].some((c) => c !== 1) ||
        [...mined].some((id) => keep.has(id))
      )
        throw new GoCold('the published evidence shard does not hold one row per kept judgment');
    }
    evRecord = { sides: [], tally: packTally(tally), judgments };
  }
  if (evInput)
    records.set(EVIDENCE_SHARD, {
      input: evInput,
      data: evRecord ?? (kept.get(EVIDENCE_SHARD) as ShardRecord<PrefShard>).data,
    });

  // the groups of this build: the last build's that were not mined again, and the ones that were
  const allGroups: Record<string, PrefGroup> = {};
  const oldSums = new Map<string, RowSum>();
  for (const [root_, g] of Object.entries(prev?.extra?.groups ?? {})) {
    if (!oldGone.has(root_)) allGroups[root_] = g;
    else for (const [s, v] of Object.entries(g.rows)) addPackedSum(oldSums, s, v);
  }
  for (const [root_, g] of newGroups) {
    if (allGroups[root_]) throw new GoCold(`task group ${root_} is both kept and mined again`);
    allGroups[root_] = g;
  }
  for (const r of oldGone)
    if (!prev?.extra?.groups[r]) throw new GoCold(`the state of the last build misses task group ${r}`);

  // the totals: every shard's own tally and every group's
  const total = newTally();
  for (const r of records.values()) addPacked(total, r.data.tally);
  for (const g of Object.values(allGroups)) addPacked(total, g.tally);
  const tools = (): { pair: boolean; kto: boolean } => ({ pair: total.pairTools, kto: total.ktoTools });
  if (prev && kept.size > 0) {
    const was = newTally();
    for (const r of prev.shards.values()) addPacked(was, r.data.tally);
    for (const g of Object.values(prev.extra?.groups ?? {})) addPacked(was, g.tally);
    if (was.pairTools !== tools().pair || was.ktoTools !== tools().kto)
      throw new GoCold('whether any row declares tools changed (the TRL / HF tools column)');
  }

  // which kept shards change: the rows the re-mined groups put there differ from the ones they had
  const rewrite = new Set(fresh);
  for (const s of kept.keys()) if (!sameSum(oldSums.get(s), newSums.get(s))) rewrite.add(s);
  // a shard written again keeps its other rows: copied from its published files, without the rows
  // of the groups mined again (every row naming one of their runs: an outcome side's rows are all
  // its group's)
  for (const s of [...rewrite].sort()) {
    if (fresh.has(s)) continue;
    await copyKeptRows(
      root,
      prev as Prev,
      s,
      (fam, row) => !namedRuns(fam, row).some((id) => typeof id === 'string' && oldMembers.has(id)),
      sink,
    );
  }
  for await (const { key, line } of pending.sorted()) {
    const [shard, fam] = key.split('\u0000') as [string, string];
    if (!rewrite.has(shard)) continue;
    const row = JSON.parse(line) as Record<string, unknown>;
    if (fam === PAIR_FAMILY) await sink.pair(row as unknown as PreferenceSample, line, shard);
    else if (fam === KTO_FAMILY) await sink.kto(row as unknown as KtoSample, line, shard);
    else await sink.drop(row as unknown as QRowFields, line, shard);
  }
  // the rest is linked from the published folder (each file was checked against its digest above)
  const reused = new Set<string>();
  for (const s of kept.keys()) {
    if (rewrite.has(s)) continue;
    for (const e of shardEntries(prev as Prev, dir, s)) {
      const rel = e.path.slice(dir.length + 1);
      await staged.linkFile(rel, join(root, e.path), { sha256: e.sha256, bytes: e.bytes, rows: e.rows });
      reused.add(rel);
    }
  }

  const written = sortedShards(rewrite);
  for (const shard of written)
    for (const rel of [
      familyShard(PAIR_FAMILY, shard),
      familyShard(KTO_FAMILY, shard),
      quarantineShard(shard),
    ])
      expectedRows[rel] ??= 0;
  for (const shard of written)
    for (const sp of SPLITS)
      for (const p of ['openai', 'openai/ids', 'trl/preference', 'hf/preference', 'trl/kto', 'hf/kto'])
        expectedRows[`${p}/${sp}/${shard}.jsonl`] ??= 0;
  await fanOutSharded<PreferenceSample>(
    staged,
    pairs,
    PAIR_FAMILY,
    [
      { prefix: 'openai', convert: openaiDpoRow, idSidecar: true },
      { prefix: 'trl/preference', convert: (p) => trlPreferenceRow(p, total.pairTools) },
      { prefix: 'hf/preference', convert: (p) => trlPreferenceRow(p, total.pairTools) },
    ],
    written,
  );
  await fanOutSharded<KtoSample>(
    staged,
    kto,
    KTO_FAMILY,
    [
      { prefix: 'trl/kto', convert: (k) => trlKtoRow(k, total.ktoTools) },
      { prefix: 'hf/kto', convert: (k) => trlKtoRow(k, total.ktoTools) },
    ],
    written,
  );
  await quarantine.write(staged, written);
  const stats = total.stats;
  checkAccounting(stats);
  const pairCount = total.pairs.train + total.pairs.test;
  const ktoCount = total.kto.train + total.kto.test;
  const byReason = Object.fromEntries(Object.entries(total.units).sort(([a], [c]) => (a < c ? -1 : 1)));
  const skipped = Object.fromEntries(Object.entries(total.candidates).sort(([a], [c]) => (a < c ? -1 : 1)));
  const dropCount =
    Object.values(total.units).reduce((a, v) => a + v, 0) +
    Object.values(total.candidates).reduce((a, v) => a + v, 0);
  await staged.writeFile('hf/README.md', card(total));
  const schemaVersions = {
    ScoredRun: SCORED_V,
    EvidenceRecord: EVIDENCE_V,
    PreferenceSample: PREF_V,
    KtoSample: KTO_V,
    QuarantineRecord: QUARANTINE_V,
  };
  const openaiOmitted = pairCount - total.openai.train - total.openai.test;
  const counts = {
    ...stats,
    pairs: pairCount,
    kto: ktoCount,
    openai_omitted: openaiOmitted,
    quarantined: dropCount,
  };
  const unitsIn = stats.runs_in + stats.judgments_in;
  const unitsDropped = stats.runs_quarantined + stats.judgments_quarantined;
  const groupCount = Object.keys(allGroups).length;
  const how = prev
    ? ` (incremental: ${n(written.length)} shards built, ${n(allShards.length - written.length)} unchanged reused; ${n(newGroups.size)} of ${n(groupCount)} task groups mined again)`
    : b.why && b.why !== 'no earlier build'
      ? ` (built whole: ${b.why})`
      : '';
  return {
    parameters: b.parameters,
    schemaVersions,
    inputs: outputsSorted([...runFiles, ...evFiles]),
    expectedRows,
    manifestCounts: counts,
    beforePublish: rescanExport(
      dir,
      config.secret_allowlist,
      reused,
      prev ? { root, files: prev.manifest.files } : undefined,
    ),
    afterPublish: (manifest: string) =>
      saveBuild<PrefShard, PrefExtra>(root, PHASE, b.parameters, manifest, records, {
        groups: Object.fromEntries(Object.entries(allGroups).sort(([a], [c]) => (a < c ? -1 : 1))),
      }),
    counts: { in: unitsIn, out: unitsIn - unitsDropped, quarantined: unitsDropped, by_reason: byReason },
    stats: {
      ...stats,
      pairs: pairCount,
      kto: ktoCount,
      openai_omitted: openaiOmitted,
      ...Object.fromEntries(Object.entries(skipped).map(([k, v]) => [`candidates_skipped.${k}`, v])),
    },
    summary: `${n(stats.runs_in)} runs + ${n(stats.judgments_in)} judgments → ${n(pairCount)} pairs (${n(stats.pairs_outcome)} outcome, ${n(stats.pairs_correction)} correction, ${n(stats.pairs_judgment)} judgment), ${n(ktoCount)} unpaired KTO rows${dropCount ? `; ${leftOutText(byReason, EXCLUDED)}` : ''}${how}`,
  };
}

/** The quarantine family's name in row sums and the pending rows (its files are `_quarantine/<shard>.jsonl`). */
const QUARANTINE_FAMILY = '_quarantine';

type QRowFields = { record_id: string; reason: string; ref: string | null; detail: string };

const qFields = (d: ExportDrop): QRowFields => ({
  record_id: d.record,
  reason: d.reason,
  ref: d.ref,
  detail: d.detail,
});

/**
 * Reads the lines of `want` (sides the state recorded with their offset and length) from a day
 * file and adds them to the group sort; a line that is not the run the state names means the state
 * does not describe the file: the build starts over cold.
 */
async function readSides(
  path: string,
  want: Side[],
  byGroup: ExternalSorter,
  rootOf: (id: string) => string,
): Promise<void> {
  const fh = await fsp.open(path, 'r');
  try {
    for (const [id, , , offset, length] of [...want].sort((a, c) => a[3] - c[3])) {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      const text = buf.toString('utf8', 0, bytesRead);
      let runId: unknown;
      try {
        runId = (JSON.parse(text) as ScoredRun).run_id;
      } catch {
        runId = undefined;
      }
      if (bytesRead !== length || runId !== id)
        throw new GoCold(`${path} does not hold run ${id} where the state of the last build says`);
      await byGroup.add(`${rootOf(id)}\u0000${id}`, text);
    }
  } finally {
    await fh.close();
  }
}

/** The run ids a published row names (its pair sides, its run, or a quarantine row's record, trace and ref). */
function namedRuns(fam: string, row: Record<string, unknown>): unknown[] {
  if (fam === PAIR_FAMILY) return [row['chosen_id'], row['rejected_id']];
  if (fam === KTO_FAMILY) return [row['run_id']];
  return [row['record_id'], row['trace_id'], row['ref']];
}

/** The judgment (evidence_id) a row of the `evidence` shard comes from. */
function judgmentOf(fam: string, row: Record<string, unknown>): string {
  if (fam === PAIR_FAMILY) return String(row['chosen_id']).replace(/#chosen$/, '');
  if (fam === QUARANTINE_FAMILY) return String(row['record_id']);
  return '';
}

/** Counts a copied row of one judgment as `mineJudgment` and `put` counted it: a judgment pair, or the judgment's quarantine row. */
function countJudgmentRow(tally: Tally, fam: string, row: Record<string, unknown>): void {
  tally.stats.judgments_in++;
  if (fam === PAIR_FAMILY) {
    const p = row as unknown as PreferenceSample;
    tally.stats.judgments_paired++;
    tally.stats.pairs_judgment++;
    tally.pairs[p.split]++;
    if (openaiDpoRow(p) !== null) tally.openai[p.split]++;
    tally.pairTools ||= (p.tools ?? []).length > 0;
  } else if (fam === QUARANTINE_FAMILY) {
    const reason = String(row['reason']);
    tally.stats.judgments_quarantined++;
    tally.units[reason] = (tally.units[reason] ?? 0) + 1;
  } else throw new GoCold('the published evidence shard holds a KTO row');
}

/**
 * Copies the rows of a kept shard that `keep` selects (those no group or judgment mined again
 * owns) from its published canonical files (each checked against the last manifest as it is
 * read) into this build's sorters; `seen` is told of each.
 */
async function copyKeptRows(
  root: string,
  prev: Prev,
  shard: string,
  keep: (fam: string, row: Record<string, unknown>) => boolean,
  sink: {
    pair(p: PreferenceSample, line: string, shard: string): Promise<void>;
    kto(k: KtoSample, line: string, shard: string): Promise<void>;
    drop(row: QRowFields, line: string, shard: string): Promise<void>;
  },
  seen?: (fam: string, row: Record<string, unknown>) => void,
): Promise<void> {
  const dir = PREFERENCE_DIR;
  for (const [fam, rel] of [
    [PAIR_FAMILY, familyShard(PAIR_FAMILY, shard)],
    [KTO_FAMILY, familyShard(KTO_FAMILY, shard)],
    [QUARANTINE_FAMILY, quarantineShard(shard)],
  ] as const) {
    const entry = prev.manifest.files.find((f) => f.path === `${dir}/${rel}`);
    if (!entry) throw new GoCold(`${dir}/${rel} is not in the last manifest`);
    for await (const line of previousLines(root, entry, `${dir}/_manifest.json`)) {
      const row = JSON.parse(line) as Record<string, unknown>;
      if (!keep(fam, row)) continue;
      seen?.(fam, row);
      if (fam === PAIR_FAMILY) await sink.pair(row as unknown as PreferenceSample, line, shard);
      else if (fam === KTO_FAMILY) await sink.kto(row as unknown as KtoSample, line, shard);
      else await sink.drop(row as unknown as QRowFields, line, shard);
    }
  }
}

function card(total: Tally): string {
  return renderCard({
    prettyName: 'distill preference pairs',
    tags: ['dpo', 'kto', 'preference', 'agent-traces', 'distill'],
    configs: [
      {
        name: 'preference',
        default: true,
        splits: SPLITS.map((s) => ({ split: s, path: `preference/${s}/*.jsonl`, rows: total.pairs[s] })),
      },
      {
        name: 'kto',
        splits: SPLITS.map((s) => ({ split: s, path: `kto/${s}/*.jsonl`, rows: total.kto[s] })),
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
  });
}

function outputsSorted<T extends { path: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
