import { CATEGORIES } from '../../../schemas/category.ts';
import type { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { bump } from '../../lib/phase.ts';
import { quarantineRow } from '../../lib/quarantine.ts';
import { scoredPartition } from './contract.ts';
import { scoreTrace, type ScoreDrop, type TraceGroup } from './core.ts';

/**
 * Pass 2 of the score phase for one hash partition (all evidence of its traces): group by
 * trace_id, score each trace, and return the scored runs and quarantine rows as sort keys and
 * lines, plus counts that merge by addition. Runs on any thread; the result does not depend on which.
 */

/** What one partition gave. */
export interface PartitionScore {
  /** Sort key `<day file>\0<run_id>` and the scored run's JSON. */
  runs: [string, string][];
  /** Sort key evidence_id and the quarantine row's JSON. */
  drops: [string, string][];
  byCategory: Record<string, number>;
  byRule: Record<string, number>;
  byReason: Record<string, number>;
  signalsJoined: number;
}

/** The quarantine row of a score drop, with its sort key. */
export function scoreDropLine(d: ScoreDrop): [string, string] {
  const ev = d.evidence;
  const row = quarantineRow(
    {
      reason: d.reason,
      detail: d.detail,
      file: ev.provenance.source_file,
      index: ev.provenance.line_offset,
      offset: null,
      bytes: null,
      lineSha: null,
      sig: ev.provenance.sig_hash,
      record: ev.evidence_id,
      trace: ev.trace_id,
      ref: d.ref,
    },
    'score',
  );
  return [ev.evidence_id, JSON.stringify(row)];
}

/** Scores the traces of one partition file (run and signal evidence rows, as written by pass 1). */
export async function scorePartition(path: string): Promise<PartitionScore> {
  const groups = new Map<string, TraceGroup>();
  for await (const { text } of jsonlLines(path)) {
    const e = JSON.parse(text) as Extract<EvidenceRecord, { kind: 'run' | 'signal' }>;
    const id = e.trace_id as string;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { runs: [], signals: [] }));
    if (e.kind === 'run') g.runs.push(e);
    else g.signals.push(e);
  }
  const out: PartitionScore = {
    runs: [],
    drops: [],
    byCategory: Object.fromEntries(CATEGORIES.map((c) => [c, 0])),
    byRule: {},
    byReason: {},
    signalsJoined: 0,
  };
  for (const [id, g] of groups) {
    const res = scoreTrace(id, g);
    for (const d of res.drops) {
      bump(out.byReason, d.reason);
      out.drops.push(scoreDropLine(d));
    }
    if (res.run) {
      bump(out.byCategory, res.run.category);
      bump(out.byRule, res.run.decided_by);
      out.signalsJoined += res.run.signals.length;
      out.runs.push([`${scoredPartition(res.run)}\u0000${res.run.run_id}`, JSON.stringify(res.run)]);
    }
  }
  return out;
}
