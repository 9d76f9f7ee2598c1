import { join } from 'node:path';
import { CATEGORIES } from '../../../schemas/category.ts';
import type { DistillConfig } from '../../../schemas/config.ts';
import { EvidenceRecord, SCHEMA_VERSION as EVIDENCE_V } from '../../../schemas/evidence-record.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import {
  SCHEMA_VERSION as SCORED_V,
  type JoinedSignal,
  type ScoredRun,
} from '../../../schemas/scored-run.ts';
import { SCORED_DIR } from '../../lib/layout.ts';
import { evidenceFiles } from '../../lib/export/inputs.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { peekFields } from '../../lib/json-peek.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { fnv1a, LineSpill, partitionCount } from '../../lib/line-spill.ts';
import { Scratch } from '../../lib/scratch.ts';
import { scorePartitionBytes, workerMinBytes } from '../../lib/tuning.ts';
import { mapInOrder, threadCount, WorkerPool } from '../../lib/worker-pool.ts';
import { scoreDropLine, scorePartition, type PartitionScore } from './partition.ts';
import { Progress, n } from '../../lib/log.ts';
import { MANIFEST, manifestText } from '../../lib/manifest.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import {
  FileTraces,
  incrementalPlan,
  saveFileTraces,
  saveScoreState,
  scoreIncremental,
  type ScoredFileStats,
} from './incremental.ts';
import { bump, sortedCounts, type PhaseResult } from '../../lib/phase.ts';
import { manifestEntries, StagedDir } from '../../lib/staged-dir.ts';
import { applyRules, deriveFacts, RULE_TABLE_VERSION } from './rules.ts';

/** Reason codes this phase can give. */
export const SCORE_REASONS = [
  'ID_CONFLICT',
  'DUPLICATE_RECORD',
  'ORPHAN_SIGNAL',
  'MISSING_TRACE_ID',
] as const;

type RunEv = Extract<EvidenceRecord, { kind: 'run' }>;
type SignalEv = Extract<EvidenceRecord, { kind: 'signal' }>;

/** Evidence of one trace: its run row(s) and the signals that judge it. */
export interface TraceGroup {
  runs: RunEv[];
  signals: SignalEv[];
}

/** A drop at the score stage, tied to the evidence row it concerns. */
export interface ScoreDrop {
  reason: (typeof SCORE_REASONS)[number];
  detail: string;
  evidence: EvidenceRecord;
  ref: string | null;
}

const byId = <T extends { evidence_id: string }>(a: T, b: T): number =>
  a.evidence_id < b.evidence_id ? -1 : a.evidence_id > b.evidence_id ? 1 : 0;

/**
 * Pure core: one trace's evidence → a ScoredRun, or drops. Several different run rows for one
 * trace_id are an ID_CONFLICT for all of them (never last-wins).
 */
export function scoreTrace(traceId: string, g: TraceGroup): { run: ScoredRun | null; drops: ScoreDrop[] } {
  const runs = [...g.runs].sort(byId);
  const signals = [...g.signals].sort(byId);
  if (runs.length === 0) {
    return {
      run: null,
      drops: signals.map((s) => ({
        reason: 'ORPHAN_SIGNAL' as const,
        detail: `no run with trace_id ${traceId} to attach this ${s.signal.type} signal to`,
        evidence: s,
        ref: null,
      })),
    };
  }
  if (runs.length > 1) {
    const ids = runs.map((r) => r.evidence_id).join(', ');
    return {
      run: null,
      drops: [
        ...runs.map((r) => ({
          reason: 'ID_CONFLICT' as const,
          detail: `trace_id ${traceId} has ${runs.length} different run rows (${ids}); none is trusted`,
          evidence: r as EvidenceRecord,
          ref: traceId,
        })),
        ...signals.map((s) => ({
          reason: 'ID_CONFLICT' as const,
          detail: `signal for trace_id ${traceId}, whose run rows conflict`,
          evidence: s as EvidenceRecord,
          ref: traceId,
        })),
      ],
    };
  }
  const r = runs[0] as RunEv;
  const facts = deriveFacts(
    r.run,
    signals.map((s) => s.signal),
  );
  const verdict = applyRules(facts);
  const edit = signals.find(
    (s) =>
      s.signal.type === 'human_review' &&
      s.signal.verdict === 'edit' &&
      (s.signal.corrected_answer ?? '').trim() !== '',
  );
  const correction = edit && edit.signal.type === 'human_review' ? edit.signal.corrected_answer : null;
  const joined: JoinedSignal[] = signals.map((s) => ({
    evidence_id: s.evidence_id,
    stream: s.stream,
    signal: s.signal,
    provenance: s.provenance,
  }));
  // built from validated evidence in ScoredRun's field order (what parse would return, byte for
  // byte; test/score.test.ts checks it), so it is not re-validated row by row
  const scored: ScoredRun = {
    schema_version: SCORED_V,
    run_id: traceId,
    evidence_id: r.evidence_id,
    stream: r.stream,
    task_key: r.task_key,
    recorded_at: r.recorded_at,
    category: verdict.category,
    decided_by: verdict.decided_by,
    rules_fired: verdict.rules_fired,
    rule_table_version: RULE_TABLE_VERSION,
    correction: verdict.category === 'partially_accepted' ? correction : null,
    run: r.run,
    signals: joined,
    flags: r.flags,
    provenance: r.provenance,
  };
  return { run: scored, drops: [] };
}

/** Partition path of a scored run, by the run's day. */
export function scoredPartition(r: ScoredRun): string {
  return dayFile(r.recorded_at);
}

/** The day file of a run recorded at `recordedAt` (its run row's recorded_at). */
export function dayFile(recordedAt: string | null | undefined): string {
  return recordedAt
    ? `${recordedAt.slice(0, 4)}/${recordedAt.slice(5, 7)}/${recordedAt.slice(8, 10)}/runs.jsonl`
    : 'undated/runs.jsonl';
}

/** Counts of one score run; all merge by addition. */
export interface ScoreTotals {
  inRows: number;
  passthrough: number;
  runsOut: number;
  signalsJoined: number;
  dropCount: number;
  byCategory: Record<string, number>;
  byRule: Record<string, number>;
  byReason: Record<string, number>;
}

export function emptyTotals(): ScoreTotals {
  return {
    inRows: 0,
    passthrough: 0,
    runsOut: 0,
    signalsJoined: 0,
    dropCount: 0,
    byCategory: Object.fromEntries(CATEGORIES.map((c) => [c, 0])),
    byRule: {},
    byReason: {},
  };
}

/** A MISSING_TRACE_ID drop for an evidence row without trace_id. */
async function missingTraceDrop(text: string, dropSorter: ExternalSorter, t: ScoreTotals): Promise<string> {
  const e = JSON.parse(text) as EvidenceRecord;
  const [key, line] = scoreDropLine({
    reason: 'MISSING_TRACE_ID',
    detail: `${e.kind} row has no trace_id, so it cannot be joined`,
    evidence: e,
    ref: null,
  });
  bump(t.byReason, 'MISSING_TRACE_ID');
  t.dropCount++;
  await dropSorter.add(key, line);
  return e.evidence_id;
}

/**
 * Pass 1 over one evidence file: counts its rows into `t` (documents and judgments are passed
 * through: the exports read them from evidence), quarantines run and signal rows without a
 * trace_id (counted in `drops`), hands every other run or signal row to `route`, and keeps the
 * file's trace ids by its sha256 for a later incremental run.
 */
export async function readEvidenceFile(
  root: string,
  f: FileEntry,
  t: ScoreTotals,
  drops: ScoreTotals,
  dropSorter: ExternalSorter,
  route: (traceId: string, text: string) => Promise<void>,
  tick: () => void = () => undefined,
): Promise<ScoredFileStats> {
  const st: ScoredFileStats = { path: f.path, sha256: f.sha256, rows: 0, passthrough: 0 };
  const seen = new FileTraces();
  for await (const { text } of jsonlLines(join(root, f.path))) {
    t.inRows++;
    st.rows++;
    tick();
    const top = peekFields(text, ['trace_id', 'kind'] as const);
    if (top.kind === 'document' || top.kind === 'judgment') {
      t.passthrough++;
      st.passthrough++;
      continue;
    }
    if (top.trace_id === null || top.trace_id === undefined) {
      seen.missing.push(await missingTraceDrop(text, dropSorter, drops));
      continue;
    }
    seen.traces.add(top.trace_id);
    await route(top.trace_id, text);
  }
  await saveFileTraces(root, f.sha256, seen);
  return st;
}

/**
 * Pass 2: scores the partition files (one at a time per thread: this one, and workers for a large
 * input) into the sorters, adding to the totals. `runsOut` counts the runs scored here.
 */
export async function scorePartitions(
  parts: readonly string[],
  threads: number,
  runSorter: ExternalSorter,
  dropSorter: ExternalSorter,
  t: ScoreTotals,
): Promise<void> {
  const makePool = (): WorkerPool<string, PartitionScore> | null =>
    threads > 1 ? new WorkerPool(new URL('./worker.ts', import.meta.url), threads - 1, null) : null;
  async function* paths(): AsyncGenerator<string> {
    yield* parts;
  }
  for await (const r of mapInOrder(paths(), scorePartition, makePool, { after: 1, window: threads })) {
    for (const [key, line] of r.runs) await runSorter.add(key, line);
    for (const [key, line] of r.drops) await dropSorter.add(key, line);
    for (const [c, v] of Object.entries(r.byCategory)) bump(t.byCategory, c, v);
    for (const [c, v] of Object.entries(r.byRule)) bump(t.byRule, c, v);
    for (const [c, v] of Object.entries(r.byReason)) bump(t.byReason, c, v);
    t.dropCount += r.drops.length;
    t.signalsJoined += r.signalsJoined;
    t.runsOut += r.runs.length;
  }
}

/**
 * The score phase: join evidence by trace_id, apply the rule table, write runs by day.
 *
 * The join needs every row of a trace together, so memory is bounded by partitioning: pass 1
 * streams the evidence and appends each run / signal row (its text, unparsed: trace_id is read
 * with a top-level peek) to one of K spill files by a hash of its trace_id; pass 2 reads one
 * partition at a time, groups it by trace_id and scores each trace. Scored runs and quarantine
 * rows go through external sorts, so the outputs come out in their published order (runs by day,
 * then run_id; quarantine by evidence_id) whatever K is.
 *
 * When some evidence files are new or changed since the last score run (a new day, today's file
 * grown), only the traces they touch are scored again and every other row is carried over from
 * the previous output (tasks/phases/score/incremental.ts); the result is the same bytes.
 */
export async function score(root: string, _config: DistillConfig): Promise<PhaseResult> {
  const evidenceInputs = await evidenceFiles(root);
  const plan = await incrementalPlan(root, evidenceInputs);
  if (plan) {
    const res = await scoreIncremental(root, evidenceInputs, plan);
    if (res) return res;
  }
  return scoreFull(root, evidenceInputs);
}

async function scoreFull(root: string, evidenceInputs: FileEntry[]): Promise<PhaseResult> {
  const totalBytes = evidenceInputs.reduce((s, f) => s + f.bytes, 0);
  // evidence text per hash partition (pass 1 spills, pass 2 holds one partition's rows at a time)
  const k = partitionCount(totalBytes, scorePartitionBytes());
  const scratch = await Scratch.create(root, 'score');
  const staged = await StagedDir.begin(root, SCORED_DIR);
  try {
    const t = emptyTotals();
    const runSorter = new ExternalSorter(scratch.dir, 'runs');
    const dropSorter = new ExternalSorter(scratch.dir, 'drops');
    // pass 1: route run / signal rows to partitions by trace_id
    const spill = new LineSpill(Array.from({ length: k }, (_, i) => scratch.path(`part-${i}.jsonl`)));
    const progress = new Progress(
      'score: reading evidence',
      evidenceInputs.reduce((s, f) => s + (f.rows ?? 0), 0),
    );
    const fileStats: ScoredFileStats[] = [];
    for (const f of evidenceInputs) {
      fileStats.push(
        await readEvidenceFile(
          root,
          f,
          t,
          t,
          dropSorter,
          (trace, text) => spill.append(fnv1a(trace) % k, text),
          () => progress.tick(),
        ),
      );
    }
    await spill.close();
    progress.end();
    const parts = Array.from({ length: k }, (_, p) => p)
      .filter((p) => spill.lines[p] !== 0)
      .map((p) => scratch.path(`part-${p}.jsonl`));
    await scorePartitions(
      parts,
      k > 1 && totalBytes >= workerMinBytes() ? threadCount() : 1,
      runSorter,
      dropSorter,
      t,
    );
    // runs by day partition, each sorted by run_id; one day file open at a time
    let current: string | null = null;
    for await (const { key, line } of runSorter.sorted()) {
      const part = key.slice(0, key.indexOf('\u0000'));
      if (part !== current) {
        if (current !== null) await staged.closeWriter(current);
        current = part;
      }
      await staged.writer(part).writeLine(line);
    }
    if (current !== null) await staged.closeWriter(current);
    const q = staged.writer('_quarantine.jsonl'); // sorted by evidence_id
    for await (const { line } of dropSorter.sorted()) await q.writeLine(line);
    return await sealScored(root, staged, evidenceInputs, t, fileStats, '');
  } catch (e) {
    await staged.abort();
    throw e;
  } finally {
    await scratch.remove();
  }
}

/**
 * Writes the summary and manifest, checks the counts, publishes, and records the state an
 * incremental run starts from. `note` is added to the summary line.
 */
export async function sealScored(
  root: string,
  staged: StagedDir,
  evidenceInputs: FileEntry[],
  t: ScoreTotals,
  fileStats: ScoredFileStats[],
  note: string,
): Promise<PhaseResult> {
  const { byCategory, byRule, byReason, dropCount, signalsJoined, runsOut, inRows, passthrough } = t;
  const summaryDoc = {
    schema_version: 1,
    rule_table_version: RULE_TABLE_VERSION,
    runs: runsOut,
    by_category: byCategory,
    by_deciding_rule: sortedCounts(byRule),
    quarantined: dropCount,
    by_reason: sortedCounts(byReason),
  };
  await staged.writeFile('_summary.json', `${JSON.stringify(summaryDoc, null, 2)}\n`);
  const written = await staged.closeAll();
  const outputs = manifestEntries(SCORED_DIR, written);
  const rowsOnDisk = outputs.filter((o) => !o.path.includes('/_')).reduce((s, o) => s + (o.rows ?? 0), 0);
  if (rowsOnDisk !== runsOut)
    throw new Error(`self-check failed: wrote ${rowsOnDisk} scored runs, counted ${runsOut}`);
  const consumed = runsOut + signalsJoined + passthrough;
  if (consumed + dropCount !== inRows)
    throw new Error(
      `accounting broke: ${inRows} evidence rows ≠ ${consumed} used + ${dropCount} quarantined`,
    );
  const parameters = { rule_table_version: RULE_TABLE_VERSION };
  const schemaVersions = { EvidenceRecord: EVIDENCE_V, ScoredRun: SCORED_V, QuarantineRecord: QUARANTINE_V };
  const manifestBody = manifestText({
    schema_version: 1,
    phase: 'score',
    parameters,
    schema_versions: schemaVersions,
    inputs: evidenceInputs,
    files: outputs,
    counts: {
      evidence_in: inRows,
      runs: runsOut,
      signals_joined: signalsJoined,
      passthrough,
      quarantined: dropCount,
    },
  });
  await staged.writeFile(MANIFEST, manifestBody);
  await staged.publish();
  await saveScoreState(root, manifestBody, fileStats, outputs);
  const cat = CATEGORIES.map((c) => `${n(byCategory[c] ?? 0)} ${c.replace(/_/g, ' ')}`).join(', ');
  return {
    parameters,
    schemaVersions,
    inputs: evidenceInputs,
    outputs,
    counts: { in: inRows, out: consumed, quarantined: dropCount, by_reason: sortedCounts(byReason) },
    stats: {
      runs: runsOut,
      signals_joined: signalsJoined,
      passthrough,
      ...Object.fromEntries(Object.entries(byCategory).map(([k, v]) => [`category.${k}`, v])),
    },
    summary: `${n(runsOut)} runs → ${cat}${dropCount ? `; ${n(dropCount)} evidence rows quarantined` : ''}${note}`,
  };
}
