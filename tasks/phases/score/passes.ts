import { join } from 'node:path';
import { CATEGORIES } from '../../../schemas/category.ts';
import { SCHEMA_VERSION as EVIDENCE_V, EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V } from '../../../schemas/scored-run.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { peekFields } from './json-peek.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { n } from '../../lib/log.ts';
import type { PhaseOutput } from '../../lib/phase-shell.ts';
import { bump, sortedCounts } from '../../lib/phase.ts';
import { StagedDir } from '../../lib/staged-dir.ts';
import { mapInOrder, phasePool, type Pool } from '../../lib/worker-pool.ts';
import { PHASE, QUARANTINE_FILE, SUMMARY_FILE } from './contract.ts';
import { scoreDropLine, scorePartition, type PartitionScore } from './partition.ts';
import { RULE_TABLE_VERSION } from './rules.ts';
import { FileTraces, saveFileTraces, saveScoreState, type ScoredFileStats } from './state.ts';

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
 * input; or one job per partition file on the job queue, DISTILL_QUEUE) into the sorters, adding
 * to the totals. `runsOut` counts the runs scored here.
 */
export async function scorePartitions(
  root: string,
  parts: readonly string[],
  threads: number,
  runSorter: ExternalSorter,
  dropSorter: ExternalSorter,
  t: ScoreTotals,
): Promise<void> {
  const makePool = (): Pool<string, PartitionScore> | null =>
    phasePool({
      phase: PHASE,
      module: new URL('./worker.ts', import.meta.url),
      threads,
      data: null,
      root,
      requestIsFile: true,
    });
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
 * What a score build (full or incremental) hands the phase shell: the summary file written, the
 * self-check (scored rows on disk = runs counted), the accounting (every evidence row used or
 * quarantined), and, after the publish, the state the next incremental build starts from.
 */
export async function sealScored(
  root: string,
  staged: StagedDir,
  evidenceInputs: FileEntry[],
  t: ScoreTotals,
  fileStats: ScoredFileStats[],
  note: string,
): Promise<PhaseOutput> {
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
  await staged.writeFile(SUMMARY_FILE, `${JSON.stringify(summaryDoc, null, 2)}\n`);
  const consumed = runsOut + signalsJoined + passthrough;
  if (consumed + dropCount !== inRows)
    throw new Error(
      `accounting broke: ${inRows} evidence rows ≠ ${consumed} used + ${dropCount} quarantined`,
    );
  const cat = CATEGORIES.map((c) => `${n(byCategory[c] ?? 0)} ${c.replace(/_/g, ' ')}`).join(', ');
  return {
    parameters: { rule_table_version: RULE_TABLE_VERSION },
    schemaVersions: { EvidenceRecord: EVIDENCE_V, ScoredRun: SCORED_V, QuarantineRecord: QUARANTINE_V },
    inputs: evidenceInputs,
    expectedRows: { [QUARANTINE_FILE]: dropCount },
    expectedTotals: [{ what: 'scored runs', match: (rel) => !rel.startsWith('_'), rows: runsOut }],
    manifestCounts: {
      evidence_in: inRows,
      runs: runsOut,
      signals_joined: signalsJoined,
      passthrough,
      quarantined: dropCount,
    },
    counts: { in: inRows, out: consumed, quarantined: dropCount, by_reason: sortedCounts(byReason) },
    stats: {
      runs: runsOut,
      signals_joined: signalsJoined,
      passthrough,
      ...Object.fromEntries(Object.entries(byCategory).map(([k, v]) => [`category.${k}`, v])),
    },
    summary: `${n(runsOut)} runs → ${cat}${dropCount ? `; ${n(dropCount)} evidence rows quarantined` : ''}${note}`,
    afterPublish: (manifest, files) => saveScoreState(root, manifest, fileStats, files),
  };
}
