import {
  previousLines,
  sameStat,
  StalePrevious,
  statOf,
  type OutputStat,
} from '../../lib/previous-output.ts';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { codeFingerprint } from '../../lib/code-fingerprint.ts';
import { ExternalSorter, type SortedRow } from '../../lib/external-sort.ts';
import { sha256 } from '../../lib/hash.ts';
import { peekFields } from './json-peek.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { fnv1a, LineSpill, partitionCount } from './line-spill.ts';
import { n } from '../../lib/log.ts';
import { Manifest, MANIFEST } from '../../lib/manifest.ts';
import type { PhaseOutput, ShellContext } from '../../lib/phase-shell.ts';
import { bump } from '../../lib/phase.ts';
import { scorePartitionBytes } from '../../lib/tuning.ts';
import { dayFile, SCORED_DIR } from './contract.ts';
import { emptyTotals, readEvidenceFile, scorePartitions, sealScored } from './passes.ts';
import { RULE_TABLE_VERSION } from './rules.ts';
import {
  readFileTraces,
  STATE_FORMAT,
  statePath,
  traceCache,
  type ScoredFileStats,
  type ScoreState,
} from './state.ts';

/**
 * Incremental score: when data/evidence gained files or some changed (a new day of traces, or
 * today's file grown), only the traces those files mention, now or in their previous version,
 * are scored again.
 *
 * A scored run depends on every evidence row of its trace and on nothing else, and so does each
 * score quarantine row (keyed by its evidence row). So a trace that no new or changed file
 * mentions gives the same rows as before, and they are copied from the previous output; the
 * touched traces ("dirty": the trace_ids of the run and signal rows of the new files, of the
 * changed files and of their previous versions, kept per sha256) are gathered from every file
 * (the old rows of a trace a new reward or review lands on, or a second run row that makes an
 * ID_CONFLICT) and scored as a full run would. The copied and the new rows are merged in the
 * published order (day file, then run_id; evidence_id for the quarantine), so the output is the
 * same bytes as a full run (test/score-incremental.test.ts compares them). The summary counts
 * are the previous ones minus the replaced rows plus the new.
 *
 * It runs only when it can be sure of the previous output: the state file written after the last
 * publish names the code fingerprint, the sha256 of the manifest it published and each evidence
 * file's row counts; every previous output file is checked against that manifest while it is
 * read (or, to be linked unread, by stat since its publish); a changed or removed evidence file
 * that held runs or signals needs the trace list of its previous version. Anything else (other
 * code, an output edited by hand, a missing trace list, more than a quarter of the bytes new or
 * changed) is a full run. DISTILL_SCORE_INCREMENTAL=0 turns it off.
 */

/** New evidence above this share of all evidence bytes: a full run is as cheap. */
const MAX_NEW_SHARE = 0.25;

/** What an incremental run starts from. */
export interface IncrementalPlan {
  previous: Manifest;
  /** The previous output files as stat saw them after their publish. */
  outputStats: Map<string, OutputStat>;
  summary: {
    by_category: Record<string, number>;
    by_deciding_rule: Record<string, number>;
    by_reason: Record<string, number>;
  };
  /** Unchanged evidence files, with their counts from the last run. */
  oldFiles: ScoredFileStats[];
  /** New and changed files (read whole; undated/preference_judgments.jsonl grows with every day, and so does today's file of runs). */
  newFiles: FileEntry[];
  /** Traces of the previous versions of changed or removed files: scored again. */
  dirtyBefore: Set<string>;
  /** Evidence ids of their rows without a trace id: their MISSING_TRACE_ID rows go (the new versions' come back). */
  missingBefore: Set<string>;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** The plan for an incremental run, or null when a full run is needed (see the file comment). */
export async function incrementalPlan(
  root: string,
  inputs: readonly FileEntry[],
): Promise<IncrementalPlan | null> {
  if (process.env['DISTILL_SCORE_INCREMENTAL'] === '0') return null;
  const stateText = await readText(statePath(root));
  if (stateText === null) return null;
  let state: ScoreState;
  try {
    state = JSON.parse(stateText) as ScoreState;
  } catch {
    return null;
  }
  if (
    state.format !== STATE_FORMAT ||
    state.code !== codeFingerprint() ||
    state.rule_table_version !== RULE_TABLE_VERSION
  )
    return null;
  const manifestText = await readText(join(root, SCORED_DIR, MANIFEST));
  if (manifestText === null || sha256(Buffer.from(manifestText, 'utf8')) !== state.manifest_sha256)
    return null;
  const parsed = Manifest.safeParse(JSON.parse(manifestText));
  if (!parsed.success) return null;
  const previous = parsed.data;
  if (!Array.isArray(state.files) || !Array.isArray(state.outputs)) return null;
  const now = new Map(inputs.map((f) => [f.path, f.sha256]));
  const unchanged = new Set<string>();
  const oldFiles: ScoredFileStats[] = [];
  const dirtyBefore = new Set<string>();
  const missingBefore = new Set<string>();
  const traces = await traceCache(root);
  for (const f of state.files) {
    if (now.get(f.path) === f.sha256) {
      unchanged.add(f.path);
      oldFiles.push(f);
    } else if (f.rows !== f.passthrough) {
      // a changed or removed file that held runs or signals: what its previous version held
      const before = await readFileTraces(traces, f.sha256);
      if (before === null) return null;
      for (const id of before.traces) dirtyBefore.add(id);
      for (const id of before.missing) missingBefore.add(id);
    }
  }
  const newFiles = inputs.filter((f) => !unchanged.has(f.path));
  const total = inputs.reduce((s, f) => s + f.bytes, 0);
  if (newFiles.reduce((s, f) => s + f.bytes, 0) > MAX_NEW_SHARE * total) return null;
  const summaryEntry = previous.files.find((f) => f.path === `${SCORED_DIR}/_summary.json`);
  const summaryText = await readText(join(root, SCORED_DIR, '_summary.json'));
  if (
    !summaryEntry ||
    summaryText === null ||
    sha256(Buffer.from(summaryText, 'utf8')) !== summaryEntry.sha256
  )
    return null;
  const summary = JSON.parse(summaryText) as IncrementalPlan['summary'];
  return {
    previous,
    outputStats: new Map(state.outputs.map((o) => [o.path, o])),
    summary,
    oldFiles,
    newFiles,
    dirtyBefore,
    missingBefore,
  };
}

/**
 * True when a previous output file is as its publish left it (same size, inode and change time:
 * any write, rename over it or `touch` changes the change time), so its manifest entry still holds.
 */
async function unchangedSince(root: string, entry: FileEntry, plan: IncrementalPlan): Promise<boolean> {
  return sameStat(await statOf(root, entry.path), plan.outputStats.get(entry.path), entry);
}

/** An async iterator with one row of look-ahead. */
class Ahead<T> {
  private constructor(
    private readonly it: AsyncIterator<T>,
    public head: IteratorResult<T>,
  ) {}
  static async of<T>(src: AsyncIterable<T>): Promise<Ahead<T>> {
    const it = src[Symbol.asyncIterator]();
    return new Ahead(it, await it.next());
  }
  async next(): Promise<void> {
    this.head = await this.it.next();
  }
}

/**
 * Scores incrementally into a new staged output; returns null (nothing published) when the
 * previous output turns out not to match its manifest, so the caller runs a full score.
 */
export async function scoreIncremental(
  ctx: ShellContext,
  inputs: FileEntry[],
  plan: IncrementalPlan,
): Promise<PhaseOutput | null> {
  const { root, staged, scratch } = ctx;
  try {
    const t = emptyTotals();
    const fresh = emptyTotals(); // what the rescored traces give (merged into t below)
    const runSorter = new ExternalSorter(scratch.dir, 'runs');
    const dropSorter = new ExternalSorter(scratch.dir, 'drops');
    const newBytes = plan.newFiles.reduce((s, f) => s + f.bytes, 0);
    const k = partitionCount(newBytes * 2, scorePartitionBytes());
    const spill = new LineSpill(Array.from({ length: k }, (_, i) => scratch.path(`part-${i}.jsonl`)));
    // the dirty traces: every trace_id of the new files' run and signal rows
    const dirty = new Set<string>(plan.dirtyBefore);
    const touched = new Set<string>(); // previous day files that may hold a run of a dirty trace
    // the days of a changed file's previous run rows are unknown: then no day file is linked
    const linkable = plan.dirtyBefore.size === 0;
    const fileStats: ScoredFileStats[] = [...plan.oldFiles];
    for (const f of plan.oldFiles) {
      t.inRows += f.rows;
      t.passthrough += f.passthrough;
    }
    for (const f of plan.newFiles) {
      const route = async (trace: string, text: string): Promise<void> => {
        dirty.add(trace);
        await spill.append(fnv1a(trace) % k, text);
      };
      fileStats.push(await readEvidenceFile(root, f, t, fresh, dropSorter, route));
    }
    // their rows in the old files; everything else there is counted only. A file whose kept trace
    // list holds no dirty trace is not read (most of them: a new day's traces are mostly new)
    let skipped = 0;
    const traces = await traceCache(root);
    for (const f of plan.oldFiles) {
      if (dirty.size === 0) break;
      if (f.rows === f.passthrough) continue; // documents and judgments only
      const kept = await readFileTraces(traces, f.sha256);
      if (kept !== null && !kept.traces.some((id) => dirty.has(id))) {
        skipped++;
        continue;
      }
      for await (const { text } of jsonlLines(join(root, f.path))) {
        const top = peekFields(text, ['trace_id', 'kind'] as const);
        if (top.kind === 'document' || top.kind === 'judgment') continue;
        if (typeof top.trace_id !== 'string' || !dirty.has(top.trace_id)) continue;
        await spill.append(fnv1a(top.trace_id) % k, text);
        // an old run row of a dirty trace: its previous scored run (if any) is in this day file
        if (top.kind === 'run') touched.add(dayFile(peekFields(text, ['recorded_at'] as const).recorded_at));
      }
    }
    await spill.close();
    const parts = Array.from({ length: k }, (_, p) => p)
      .filter((p) => spill.lines[p] !== 0)
      .map((p) => scratch.path(`part-${p}.jsonl`));
    await scorePartitions(root, parts, 1, runSorter, dropSorter, fresh);

    // the previous counts, less what the dirty traces had, plus what they have now
    t.signalsJoined = (plan.previous.counts['signals_joined'] ?? 0) + fresh.signalsJoined;
    for (const [c, v] of Object.entries(plan.summary.by_category)) bump(t.byCategory, c, v);
    for (const [c, v] of Object.entries(plan.summary.by_deciding_rule)) bump(t.byRule, c, v);
    for (const [c, v] of Object.entries(plan.summary.by_reason)) bump(t.byReason, c, v);
    /** One row less under `key`; a count that reaches 0 goes unless kept (by_category lists every category). */
    const forget = (counts: Record<string, number>, key: string, keepZero = false): void => {
      const v = (counts[key] ?? 0) - 1;
      if (v < 0) throw new StalePrevious(`${SCORED_DIR}/_summary.json counts do not match its rows`);
      if (v === 0 && !keepZero) delete counts[key];
      else counts[key] = v;
    };

    // runs: each previous day file (less the dirty traces' runs) merged with the new runs by run_id
    const prevDays = plan.previous.files
      .filter((f) => !f.path.includes('/_'))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    const fresher = await Ahead.of<SortedRow>(runSorter.sorted());
    const dayOf = (row: SortedRow): string => row.key.slice(0, row.key.indexOf('\u0000'));
    let d = 0;
    for (;;) {
      const prevDay =
        d < prevDays.length ? (prevDays[d] as FileEntry).path.slice(SCORED_DIR.length + 1) : null;
      const newDay = fresher.head.done ? null : dayOf(fresher.head.value);
      if (prevDay === null && newDay === null) break;
      const day =
        prevDay === null ? (newDay as string) : newDay === null || prevDay <= newDay ? prevDay : newDay;
      let open = false;
      const write = async (line: string): Promise<void> => {
        open = true;
        t.runsOut++;
        await staged.writer(day).writeLine(line);
      };
      const takeNew = async (): Promise<void> => {
        await write((fresher.head.value as SortedRow).line);
        await fresher.next();
      };
      const newHere = (): boolean => !fresher.head.done && dayOf(fresher.head.value) === day;
      const prevEntry = prevDay === day ? (prevDays[d] as FileEntry) : null;
      if (
        linkable &&
        prevEntry &&
        !touched.has(day) &&
        !newHere() &&
        (await unchangedSince(root, prevEntry, plan))
      ) {
        // no run of a dirty trace and no new run on this day: the published file as it is
        await staged.linkFile(day, join(root, prevEntry.path), {
          sha256: prevEntry.sha256,
          bytes: prevEntry.bytes,
          rows: prevEntry.rows,
        });
        t.runsOut += prevEntry.rows ?? 0;
        d++;
        continue;
      }
      if (prevEntry) {
        for await (const line of previousLines(root, prevEntry, `${SCORED_DIR}/${MANIFEST}`)) {
          const id = peekFields(line, ['run_id'] as const).run_id as string;
          while (newHere() && (fresher.head.value as SortedRow).key.slice(day.length + 1) < id)
            await takeNew();
          if (dirty.has(id)) {
            // replaced (or dropped) by this run's scoring of the trace: its old counts go
            const old = JSON.parse(line) as { category: string; decided_by: string; signals: unknown[] };
            forget(t.byCategory, old.category, true);
            forget(t.byRule, old.decided_by);
            t.signalsJoined -= old.signals.length;
            continue;
          }
          await write(line);
        }
        d++;
      }
      while (newHere()) await takeNew();
      if (open) await staged.closeWriter(day);
    }
    for (const [c, v] of Object.entries(fresh.byCategory)) bump(t.byCategory, c, v);
    for (const [c, v] of Object.entries(fresh.byRule)) bump(t.byRule, c, v);

    // quarantine: previous rows (less the dirty traces') merged with the new ones by evidence_id
    const q = staged.writer('_quarantine.jsonl');
    const newDrops = await Ahead.of<SortedRow>(dropSorter.sorted());
    const takeDrop = async (): Promise<void> => {
      await q.writeLine((newDrops.head.value as SortedRow).line);
      t.dropCount++;
      await newDrops.next();
    };
    const prevQ = plan.previous.files.find((f) => f.path === `${SCORED_DIR}/_quarantine.jsonl`);
    if (!prevQ) throw new StalePrevious(`${SCORED_DIR}/${MANIFEST} lists no _quarantine.jsonl`);
    for await (const line of previousLines(root, prevQ, `${SCORED_DIR}/${MANIFEST}`)) {
      const top = peekFields(line, ['record_id', 'trace_id', 'reason'] as const);
      const key = top.record_id as string;
      while (!newDrops.head.done && newDrops.head.value.key < key) await takeDrop();
      if (
        (typeof top.trace_id === 'string' && dirty.has(top.trace_id)) ||
        (top.reason === 'MISSING_TRACE_ID' && plan.missingBefore.has(key))
      ) {
        forget(t.byReason, top.reason as string);
        continue;
      }
      await q.writeLine(line);
      t.dropCount++;
    }
    while (!newDrops.head.done) await takeDrop();
    for (const [c, v] of Object.entries(fresh.byReason)) bump(t.byReason, c, v);
    fileStats.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return await sealScored(
      root,
      staged,
      inputs,
      t,
      fileStats,
      ` (incremental: ${n(plan.newFiles.length)} new or changed evidence files, ${n(dirty.size)} traces scored again, ${n(skipped)} old evidence files not read)`,
    );
  } catch (e) {
    if (e instanceof StalePrevious) return null;
    throw e;
  }
}
