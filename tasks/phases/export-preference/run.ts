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
  loadBuild,
  quarantineShard,
  saveBuild,
  shardEntries,
  shardOfInput,
  SpilledJson,
  sidecarShard,
  sortedShards,
  splitShard,
  stillAsPublished,
  UNDATED_SHARD,
  type PreviousBuild,
  type ShardRecord,
} from '../../lib/export/shards.ts';
import { ExternalSorter, SORT_MEMORY_CHARS } from '../../lib/external-sort.ts';
import { sha256 } from '../../lib/hash.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { KTO_FAMILY, PAIR_FAMILY, PREFERENCE_DIR } from './contract.ts';
import { n } from '../../lib/log.ts';
import type { PhaseResult } from '../../lib/phase.ts';
import { stagedPhase, type PhaseOutput, type ShellContext } from '../../lib/phase-shell.ts';
import { previousLines, StalePrevious } from '../../lib/previous-output.ts';
import {
  checkAccounting,
  factOf,
  mineArrival,
  mineJudgment,
  mineRun,
  PairBook,
  usableRun,
  type MinedRows,
  type SideFact,
  type Usable,
} from './mining.ts';
import { addPacked, newTally, packTally, type PackedTally, type Tally } from './tally.ts';
import { SPLITS } from '../../lib/export/split.ts';

/**
 * An outcome side as the state keeps it, in time order: run_id, task_key, escalated_from (what
 * groups it), where its line is in its day file (byte offset and length: a later run that may pair
 * with it reads it from there), its outcome (1 accepted, 0 rejected), the hashes of its opening and
 * conversation, and what it decided when it arrived: quarantined as a contradiction (1) or not
 * (0), and the earlier runs it paired with.
 */
type Side = [
  id: string,
  task: string | null,
  from: string | null,
  offset: number,
  length: number,
  accepted: 0 | 1,
  opening: string,
  key: string,
  quarantined: 0 | 1,
  partners: string[],
];

/** What the state keeps per shard: its outcome sides and the tally of all its rows (for `evidence`, the judgments'). */
interface PrefShard {
  /** In a state read back: the sides; while a build runs, a day it decided has them spilled to its scratch folder. */
  sides: Side[] | SpilledJson;
  tally: PackedTally;
  /** `evidence` only: the judgments its rows come from, sha256 of the judgment's line (first 32 hex digits) → evidence_id. */
  judgments?: Record<string, string>;
}

/** What the state keeps beside its shards: the version of the pairing rule its decisions follow. */
interface PrefExtra {
  pairing: string;
}

/** The pairing rule the decisions in a state follow (a state without it, or with another, is from the old rule). */
const PAIRING = 'time-order-1';

type Prev = PreviousBuild<PrefShard, PrefExtra>;

/** A build that must start over cold (the previous build cannot be trusted or reused), and why. */
class GoCold extends Error {}

const sideFact = (s: Side): SideFact => ({
  id: s[0],
  task: s[1],
  from: s[2],
  accepted: s[5] === 1,
  opening: s[6],
  key: s[7],
});

/**
 * The export-preference phase: pairs + unpaired KTO rows in exports/preference/, one file per day
 * shard (docs/exports.md). The same steps as `minePreferences`, day by day in shard order: each
 * day file is read once (drops and correction pairs: a run's own rows), its outcome sides are taken
 * in time order (recorded_at, run_id) and each is decided against the earlier sides of its task
 * group (`PairBook`; the conversations of the candidates it may pair with are read back by offset
 * from their day files, a bounded number kept in memory), and judgments one at a time (shard
 * `evidence`). Every row of a run's arrival lives in its day's shard.
 *
 * Incremental: the state (.distill/cache/exports/export-preference.json) keeps, per shard, the
 * sha256 of its input, the tally of its rows and its outcome sides with what each decided when it
 * arrived. A later build decides again only from the earliest day that is new, changed or removed
 * (an appended day: that day, and `undated`, which sits last); the days before are replayed from
 * the state (no file read) and their files hard-linked. The counts are the sum of the tallies, so
 * they are a cold build's.
 */
export async function exportPreference(root: string, config: DistillConfig): Promise<PhaseResult> {
  const dir = PREFERENCE_DIR;
  const cap = config.exports.preference_cap_per_task;
  const testFraction = config.exports.test_fraction;
  const parameters = {
    export_layout: EXPORT_LAYOUT,
    preference_cap_per_task: cap,
    test_fraction: testFraction,
    pair_order:
      'time order (day, recorded_at, run_id): each run against the earlier ones, partners by fewest pairs then earliest',
  };
  const { runs: runFiles, evidence: evFiles } = await screenedFiles(root);
  return stagedPhase(root, { phase: PHASE, outDir: dir }, async (ctx) => {
    const loaded = await loadBuild<PrefShard, PrefExtra>(root, PHASE, dir, parameters);
    let prev: Prev | null = loaded.prev;
    let why = loaded.why;
    if (prev && prev.extra?.pairing !== PAIRING) {
      prev = null;
      why = 'the state of the last build was decided by another pairing rule';
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

/**
 * Reads the runs a decision needs back from their day files (by the offset and length recorded
 * for them), keeping the most recently used ones in memory up to `limit` characters of lines.
 * A line that is not the run expected there means the state does not describe the file: cold.
 */
class RunReader {
  /** Where each run's line is (one entry a side of the corpus, so in columns): run_id → its number; its file (an index of `paths`), offset and length. */
  private readonly where = new Map<string, number>();
  private readonly paths: string[] = [];
  private readonly pathIndex = new Map<string, number>();
  private readonly fileOf: number[] = [];
  private readonly offsetOf: number[] = [];
  private readonly lengthOf: number[] = [];
  private readonly cache = new Map<string, { u: Usable; size: number }>();
  private readonly handles = new Map<string, fsp.FileHandle>();
  private chars = 0;
  constructor(private readonly limit: number) {}

  locate(id: string, path: string, offset: number, length: number): void {
    let p = this.pathIndex.get(path);
    if (p === undefined) {
      p = this.paths.push(path) - 1;
      this.pathIndex.set(path, p);
    }
    const had = this.where.get(id);
    const i = had ?? this.fileOf.length;
    if (had === undefined) this.where.set(id, i);
    this.fileOf[i] = p;
    this.offsetOf[i] = offset;
    this.lengthOf[i] = length;
  }

  keep(id: string, u: Usable, size: number): void {
    const had = this.cache.get(id);
    if (had) {
      this.cache.delete(id);
      this.chars -= had.size;
    }
    this.cache.set(id, { u, size });
    this.chars += size;
    for (const [k, v] of this.cache) {
      if (this.chars <= this.limit || this.cache.size <= 1) break;
      this.cache.delete(k);
      this.chars -= v.size;
    }
  }

  async get(id: string): Promise<Usable> {
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit.u;
    }
    const at = this.where.get(id);
    if (at === undefined) throw new GoCold(`no day file is known to hold run ${id}`);
    const [path, offset, length] = [
      this.paths[this.fileOf[at] as number] as string,
      this.offsetOf[at] as number,
      this.lengthOf[at] as number,
    ];
    let fh = this.handles.get(path);
    if (!fh) {
      if (this.handles.size >= 32) {
        const [p, h] = this.handles.entries().next().value as [string, fsp.FileHandle];
        this.handles.delete(p);
        await h.close();
      }
      fh = await fsp.open(path, 'r');
      this.handles.set(path, fh);
    }
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    let run: ScoredRun | null = null;
    try {
      run = JSON.parse(buf.toString('utf8', 0, bytesRead)) as ScoredRun;
    } catch {
      run = null;
    }
    if (bytesRead !== length || run?.run_id !== id)
      throw new GoCold(`${path} does not hold run ${id} where the state of the last build says`);
    const u = usableRun(run);
    if (u.type === 'drop') throw new GoCold(`run ${id} was an outcome side and is not usable now`);
    this.keep(id, u.usable, length);
    return u.usable;
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await h.close();
    this.handles.clear();
  }
}

/** Characters of run lines the reader keeps parsed in memory. */
const READER_CHARS = 16 * 1024 * 1024;

async function build(ctx: ShellContext, b: BuildInput): Promise<PhaseOutput> {
  const { root, staged, scratch } = ctx;
  const { prev, runFiles, evFiles, config } = b;
  const dir = PREFERENCE_DIR;
  const opts = { cap: config.exports.preference_cap_per_task, testFraction: config.exports.test_fraction };

  const runShards = runFiles
    .map((f) => ({ shard: shardOfInput(f.path), file: f }))
    .sort((x, y) => (x.shard < y.shard ? -1 : x.shard > y.shard ? 1 : 0));
  if (sortedShards(runShards.map((x) => x.shard)).length !== runShards.length)
    throw new Error('two screened run files map to one shard');
  const evInput =
    evFiles.length > 0 ? sha256(evFiles.map((f) => `${f.path}\u0000${f.sha256}`).join('\n')) : null;
  const allShards = sortedShards([...runShards.map((x) => x.shard), ...(evInput ? [EVIDENCE_SHARD] : [])]);

  const intact = async (shard: string): Promise<boolean> => {
    const entries = prev ? shardEntries(prev, dir, shard) : [];
    if (entries.length === 0) return false;
    for (const e of entries) if (!(await stillAsPublished(root, prev as Prev, e))) return false;
    return true;
  };
  // what to decide again: every day from the earliest one that is new, changed, removed or no
  // longer as published (a day's rows depend on the days before it, never on later ones); the
  // days before it are kept (their decisions replayed from the state, their files linked)
  const kept = new Map<string, ShardRecord<PrefShard>>();
  const prevRunShards = prev ? [...prev.shards.keys()].filter((s) => s !== EVIDENCE_SHARD) : [];
  let from: string | null = null;
  for (const s of prevRunShards)
    if (!runShards.some((x) => x.shard === s) && (from === null || s < from)) from = s;
  for (const x of runShards) {
    if (from !== null && x.shard >= from) break;
    const was = prev?.shards.get(x.shard);
    if (was && was.input === x.file.sha256 && (await intact(x.shard))) kept.set(x.shard, was);
    else {
      from = x.shard;
      break;
    }
  }
  if (evInput) {
    const was = prev?.shards.get(EVIDENCE_SHARD);
    if (was && was.input === evInput && (await intact(EVIDENCE_SHARD))) kept.set(EVIDENCE_SHARD, was);
  }
  const fresh = new Set(allShards.filter((s) => !kept.has(s)));

  // the build's sinks: rows of the shards this build writes
  const pairs = new ExternalSorter(scratch.dir, 'pairs', SORT_MEMORY_CHARS / 4);
  const kto = new ExternalSorter(scratch.dir, 'kto', SORT_MEMORY_CHARS / 4);
  const quarantine = new QuarantineSorter(scratch.dir, PHASE);
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

  /** Puts mined rows into a shard this build writes, counting them into `tally`. */
  const put = async (rows: MinedRows, tally: Tally, shard: string): Promise<void> => {
    if (!fresh.has(shard)) throw new Error(`a row of shard ${shard}, which this build does not write`);
    for (const p of rows.pairs) {
      tally.pairs[p.split]++;
      if (openaiDpoRow(p) !== null) tally.openai[p.split]++;
      tally.pairTools ||= (p.tools ?? []).length > 0;
      await sink.pair(p, JSON.stringify(p), shard);
    }
    for (const k of rows.kto) {
      tally.kto[k.split]++;
      tally.ktoTools ||= (k.tools ?? []).length > 0;
      await sink.kto(k, JSON.stringify(k), shard);
    }
    for (const d of rows.drops) {
      const counts = d.candidate ? tally.candidates : tally.units;
      counts[d.reason] = (counts[d.reason] ?? 0) + 1;
      await sink.drop(qFields(d), quarantine.lineOf(d), shard);
    }
  };

  const records = new Map<string, ShardRecord<PrefShard>>();
  const book = new PairBook();
  const reader = new RunReader(READER_CHARS);
  let decided = 0;
  try {
    // the kept days: their outcome sides' decisions, replayed in time order (nothing read)
    for (const x of runShards) {
      const r = kept.get(x.shard);
      if (!r) continue;
      records.set(x.shard, r);
      const path = join(root, x.file.path);
      if (!Array.isArray(r.data.sides))
        throw new Error(`the sides of kept shard ${x.shard} are not in the state`);
      for (const s of r.data.sides) {
        try {
          book.replay(sideFact(s), s[8] === 1, s[9]);
        } catch (e) {
          throw new GoCold(`the state of the last build does not replay: ${(e as Error).message}`);
        }
        reader.locate(s[0], path, s[3], s[4]);
      }
    }
    // the days decided in this build, in order: each day file read once (a run's own rows: drops,
    // correction pairs), then its outcome sides decided in time order, each against the earlier
    // sides of its task group as it stands then
    for (const x of runShards) {
      if (!fresh.has(x.shard)) continue;
      const tally = newTally();
      const path = join(root, x.file.path);
      const arriving: { at: string; id: string; offset: number; length: number; fact: SideFact }[] = [];
      let offset = 0;
      for await (const { text } of jsonlLines(path)) {
        const length = Buffer.byteLength(text);
        const run = JSON.parse(text) as ScoredRun;
        tally.stats.runs_in++;
        const { side, rows } = mineRun(run, opts, tally.stats);
        await put(rows, tally, x.shard);
        if (side) {
          arriving.push({ at: run.recorded_at ?? '', id: run.run_id, offset, length, fact: factOf(side) });
          reader.locate(run.run_id, path, offset, length);
          reader.keep(run.run_id, side, length);
        }
        offset += length + 1;
      }
      arriving.sort((p, q) => (p.at < q.at ? -1 : p.at > q.at ? 1 : p.id < q.id ? -1 : p.id > q.id ? 1 : 0));
      const sides: Side[] = [];
      for (const a of arriving) {
        book.join(a.fact);
        const partners = new Map<string, Usable>();
        for (const id of book.needs(a.id, opts.cap)) partners.set(id, await reader.get(id));
        const u = await reader.get(a.id);
        const out = mineArrival(book, u, (id) => partners.get(id) as Usable, opts, tally.stats);
        await put(out.rows, tally, x.shard);
        const f = a.fact;
        sides.push([
          f.id,
          f.task,
          f.from,
          a.offset,
          a.length,
          f.accepted ? 1 : 0,
          f.opening,
          f.key,
          out.quarantined ? 1 : 0,
          out.partners,
        ]);
        decided++;
      }
      // the day's decisions go to the state as they are (saveBuild copies them in): the build does
      // not hold every side of the corpus until it ends
      const spill = new SpilledJson(join(scratch.dir, `sides-${x.shard}.json`));
      await fsp.writeFile(spill.path, JSON.stringify(sides));
      records.set(x.shard, { input: x.file.sha256, data: { sides: spill, tally: packTally(tally) } });
    }
  } finally {
    await reader.close();
  }

  // judgments (shard `evidence`), when the screened evidence changed. A judgment's rows depend on
  // it alone: one whose line the last build mined (same sha256) keeps its rows, copied from the
  // published shard and counted from them; only new or changed judgments are mined
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
        await put(mineJudgment(ev, opts, tally.stats), tally, EVIDENCE_SHARD);
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

  // the totals: every shard's tally, and the one count over the task groups as they stand
  const total = newTally();
  for (const r of records.values()) addPacked(total, r.data.tally);
  total.stats.runs_no_shared_opening = book.noSharedOpening();
  if (prev && kept.size > 0) {
    const was = newTally();
    for (const r of prev.shards.values()) addPacked(was, r.data.tally);
    if (was.pairTools !== total.pairTools || was.ktoTools !== total.ktoTools)
      throw new GoCold('whether any row declares tools changed (the TRL / HF tools column)');
  }

  // the kept shards are linked from the published folder (each file was checked against its digest above)
  const reused = new Set<string>();
  for (const s of kept.keys()) {
    for (const e of shardEntries(prev as Prev, dir, s)) {
      const rel = e.path.slice(dir.length + 1);
      await staged.linkFile(rel, join(root, e.path), { sha256: e.sha256, bytes: e.bytes, rows: e.rows });
      reused.add(rel);
    }
  }

  const written = sortedShards(fresh);
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
      { prefix: 'hf/preference', sameRowsAs: 'trl/preference' },
    ],
    written,
  );
  await fanOutSharded<KtoSample>(
    staged,
    kto,
    KTO_FAMILY,
    [
      { prefix: 'trl/kto', convert: (k) => trlKtoRow(k, total.ktoTools) },
      { prefix: 'hf/kto', sameRowsAs: 'trl/kto' },
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
  const backfill = from !== null && prevRunShards.some((s) => s >= (from as string) && s !== UNDATED_SHARD);
  const decidedText =
    from === null
      ? 'no day decided again'
      : `${n(decided)} outcome runs decided from ${from} on${backfill ? ' (days built before are decided again: a backfilled, changed or removed day)' : ''}`;
  const how = prev
    ? ` (incremental: ${n(written.length)} shards built, ${n(allShards.length - written.length)} unchanged reused; ${decidedText})`
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
      saveBuild<PrefShard, PrefExtra>(root, PHASE, b.parameters, manifest, records, { pairing: PAIRING }),
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

/** The quarantine family's name in copied rows (its files are `_quarantine/<shard>.jsonl`). */
const QUARANTINE_FAMILY = '_quarantine';

type QRowFields = { record_id: string; reason: string; ref: string | null; detail: string };

const qFields = (d: ExportDrop): QRowFields => ({
  record_id: d.record,
  reason: d.reason,
  ref: d.ref,
  detail: d.detail,
});

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
      "`kto`: unpaired rows (`id`, `prompt`, `completion`, `label`) for accepted (true) and rejected (false) runs that found no partner when they came (runs are taken in time order; a later run may still pair with one): the prompt is the run up to the model's first turn, the completion the rest up to its last substantive turn.",
      'TRL computes the DPO / KTO loss over every token of a side or completion, tool results and any later user turn included; mask them yourself if your trainer should not learn them.',
      'Each split is one file per day of the traces (`preference/<split>/<YYYY-MM-DD>.jsonl`, `undated.jsonl`; a pair belongs to the latest day of its runs, a judgment to `evidence.jsonl`); `load_dataset` reads them all through the globs above.',
      'Tool-call `arguments` are JSON objects; splits are assigned by a hash of the task_key. Trace any row back to its source line with `distill trace <id>`.',
    ],
  });
}

function outputsSorted<T extends { path: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
