import type { DistillConfig } from '../../../schemas/config.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { fnv1a, LineSpill, partitionCount } from './line-spill.ts';
import { Progress } from '../../lib/log.ts';
import { stagedPhase, type PhaseOutput, type ShellContext } from '../../lib/phase-shell.ts';
import { type PhaseResult } from '../../lib/phase.ts';
import { scorePartitionBytes, workerMinBytes } from '../../lib/tuning.ts';
import { evidenceFiles } from '../../lib/upstream.ts';
import { threadCount } from '../../lib/worker-pool.ts';
import { PHASE, QUARANTINE_FILE, SCORED_DIR } from './contract.ts';
import { incrementalPlan, scoreIncremental } from './incremental.ts';
import { emptyTotals, readEvidenceFile, scorePartitions, sealScored } from './passes.ts';
import type { ScoredFileStats } from './state.ts';

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
  return stagedPhase(root, { phase: PHASE, outDir: SCORED_DIR }, async (ctx) => {
    if (plan) {
      const res = await scoreIncremental(ctx, evidenceInputs, plan);
      if (res) return res;
      await ctx.restart();
    }
    return scoreFull(ctx, evidenceInputs);
  });
}

async function scoreFull(ctx: ShellContext, evidenceInputs: FileEntry[]): Promise<PhaseOutput> {
  const { root, staged, scratch } = ctx;
  const totalBytes = evidenceInputs.reduce((s, f) => s + f.bytes, 0);
  // evidence text per hash partition (pass 1 spills, pass 2 holds one partition's rows at a time)
  const k = partitionCount(totalBytes, scorePartitionBytes());
  const t = emptyTotals();
  const runSorter = new ExternalSorter(scratch.dir, 'runs');
  const dropSorter = new ExternalSorter(scratch.dir, 'drops');
  // pass 1: route run / signal rows to partitions by trace_id
  const spill = new LineSpill(Array.from({ length: k }, (_, i) => scratch.path(`part-${i}.jsonl`)));
  const progress = new Progress(
    'score: reading evidence',
    evidenceInputs.reduce((s, f) => s + (f.rows ?? 0), 0),
    'evidence rows',
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
    root,
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
  const q = staged.writer(QUARANTINE_FILE); // sorted by evidence_id
  for await (const { line } of dropSorter.sorted()) await q.writeLine(line);
  return sealScored(root, staged, evidenceInputs, t, fileStats, '');
}
