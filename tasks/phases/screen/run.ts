import { leftOutText } from '../../lib/quarantine.ts';
import { EXCLUDED } from './contract.ts';
import { join } from 'node:path';
import type { DistillConfig } from '../../../schemas/config.ts';
import { SCHEMA_VERSION as EVIDENCE_V } from '../../../schemas/evidence-record.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V } from '../../../schemas/scored-run.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { codeFingerprint } from '../../lib/code-fingerprint.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { sha256 } from '../../lib/hash.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { LineCache, type LineCacheWriter } from '../../lib/line-cache.ts';
import { n, Progress } from '../../lib/log.ts';
import { stagedPhase } from '../../lib/phase-shell.ts';
import { bump, sortedCounts, type PhaseResult } from '../../lib/phase.ts';
import { UserError } from '../../lib/result.ts';
import { RECORD_WALL_MS, RECORD_WORK_LIMIT } from '../../lib/safety/budget.ts';
import { DECONTAM_N, MIN_EXACT_WORDS } from '../../lib/safety/decontaminate.ts';
import { BANDS, MINHASH_SEED, NUM_HASHES, ROWS, SHINGLE_WORDS } from '../../lib/safety/minhash.ts';
import { DENSE_MIN_SPANS, DENSE_PER_1K, PII_TYPES } from '../../lib/safety/pii.ts';
import { SECRET_RULES, SECRET_RULES_VERSION } from '../../lib/safety/secret-rules.ts';
import { batchChars, workerMinBytes, workersAfterBatches } from '../../lib/tuning.ts';
import { evidenceFiles, scoredRunFiles } from '../../lib/upstream.ts';
import { mapInOrder, threadCount, WorkerPool } from '../../lib/worker-pool.ts';
import { EVIDENCE_DIR } from '../build-evidence/contract.ts';
import { SCORED_DIR } from '../score/contract.ts';
import {
  decodeUnitLine,
  dropRowOf,
  encodeUnitLines,
  keptLine,
  mergeStats,
  screenBatch,
  screenOptions,
  type ScreenBatch,
  type ScreenBatchResult,
  type ScreenWorkerData,
  type UnitSummary,
} from './batch.ts';
import {
  PHASE,
  QUARANTINE_FILE,
  SCREENED_DIR,
  SCREENED_DOCUMENTS,
  SCREENED_EVIDENCE,
  SCREENED_JUDGMENTS,
  SCREENED_RUNS,
  SUMMARY_FILE,
} from './contract.ts';
import { countPii, finishStats } from './core.ts';
import { SpillDedup } from './dedup-spill.ts';
import { NEAR_DUP_JACCARD, type DedupVerdict } from './dedup.ts';

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The parameters recorded in the manifest (any change to them changes what screen keeps). */
function parameters(
  config: DistillConfig,
  sets: { name: string; globs: readonly string[] }[],
): Record<string, unknown> {
  return {
    secret_rules_version: SECRET_RULES_VERSION,
    secret_rules: SECRET_RULES.map((r) => `${r.id}@${r.since}`),
    secret_allowlist: [...config.secret_allowlist].sort(),
    pii: { types: [...PII_TYPES], dense_min_spans: DENSE_MIN_SPANS, dense_per_1k_chars: DENSE_PER_1K },
    dedup: {
      exact: 'sha256(class, NFC + collapsed whitespace + lowercase)',
      shingle_words: SHINGLE_WORDS,
      num_hashes: NUM_HASHES,
      bands: BANDS,
      rows: ROWS,
      seed: MINHASH_SEED,
      jaccard_threshold: NEAR_DUP_JACCARD,
    },
    decontamination: {
      ngram: DECONTAM_N,
      min_exact_words: MIN_EXACT_WORDS,
      sets: sets.map((s) => ({ name: s.name, globs: [...s.globs] })),
    },
    budget: { work_chars: RECORD_WORK_LIMIT, wall_ms: RECORD_WALL_MS },
  };
}

/** An input file of screen: scored runs, or evidence (its documents and judgments are screened). */
interface ScreenInput {
  entry: FileEntry;
  from: ScreenBatch['from'];
  /** Its per-file cache keys: unit lines, and kept units' records. */
  key: string;
  payloadKey: string;
  /** Its index in input order (runs, then evidence). */
  at: number;
  /** Kept units so far (pass 1), each numbered by its rank. */
  kept: number;
  /** Its first and last (day file, run_id) key, to tell whether the runs are in output order. */
  runs: { first: string; last: string } | null;
}

/** Inputs are numbered by 2^32: a unit's seq is its input's index × SEQ_INPUT + its rank among the input's kept units. */
const SEQ_INPUT = 2 ** 32;
/** A seq as a fixed-width sort key (base 36: 11 digits hold 2^53). */
const seqKey = (seq: number): string => seq.toString(36).padStart(11, '0');

/** A batch of one input file's rows; `last` marks the file's final batch. */
type FileBatch = ScreenBatch & { input: ScreenInput; last: boolean };

/** The rows of the input files in batches (twice build-evidence's size: units are fewer), cut at file ends. */
async function* batches(root: string, inputs: readonly ScreenInput[]): AsyncGenerator<FileBatch> {
  const maxChars = 2 * batchChars();
  for (const input of inputs) {
    let lines: string[] = [];
    let chars = 0;
    for await (const { text } of jsonlLines(join(root, input.entry.path))) {
      lines.push(text);
      chars += text.length;
      if (chars >= maxChars) {
        yield { from: input.from, lines, input, last: false };
        lines = [];
        chars = 0;
      }
    }
    yield { from: input.from, lines, input, last: true };
  }
}

/**
 * The screen phase: reads the scored runs (data/scored-runs) and the document / judgment evidence
 * (data/evidence), keeps secrets, eval copies and duplicates out and replaces PII with
 * placeholders, and writes what survives to data/screened/ in the same shapes (runs by day under
 * runs/, documents and judgments under evidence/), with every dropped unit in _quarantine.jsonl.
 * The exports read only data/screened.
 *
 * Dedup needs a global view; memory stays bounded by spilling: units stream through steps 1–4 one
 * at a time (their results land in the per-file cache), drop rows go to an external sort by id,
 * dedup works from spill files (tasks/phases/screen/dedup-spill.ts), and a second pass over the cache
 * entries writes the survivors (see `take` below). The inputs are this project's own validated
 * outputs, read without re-validating each row.
 */
export async function screen(root: string, config: DistillConfig): Promise<PhaseResult> {
  const runFiles = await scoredRunFiles(root);
  const evFiles = await evidenceFiles(root);
  const workerData: ScreenWorkerData = {
    root,
    config: { eval_sets: config.eval_sets, secret_allowlist: config.secret_allowlist },
  };
  const { opts, prot, sets } = await screenOptions(workerData);
  const inputBytes = [...runFiles, ...evFiles].reduce((s, f) => s + f.bytes, 0);
  // no worker threads for a small input: their start-up would cost more than they save
  const threads = inputBytes >= workerMinBytes() ? threadCount() : 1;
  return stagedPhase(root, { phase: PHASE, outDir: SCREENED_DIR }, async ({ staged, scratch }) => {
    const stats: Record<string, number> = {};
    const drops = new ExternalSorter(scratch.dir, 'drops', 4 * 1024 * 1024);
    const duplicateId = (id: string): Error =>
      new UserError(
        'UPSTREAM_DAMAGED',
        `${SCORED_DIR} or ${EVIDENCE_DIR} holds id ${id} twice; rebuild with \`npm run score\``,
      );
    const dedup = new SpillDedup(scratch.dir, { duplicateId });
    const unitsIn = { run: 0, document: 0, judgment: 0 };
    const progress = new Progress(
      'screen',
      [...runFiles, ...evFiles].reduce((s, f) => s + (f.rows ?? 0), 0),
      'rows',
    );
    // Pass 1 (steps 1–4, per file, cached or not) keeps no record: drop rows go to their sort, a
    // kept unit's features to dedup under a seq (its input's index × 2^32 + its rank among the
    // input's kept units). Pass 2 reads each input's cache entry of kept records in input order, skips the
    // units dedup dropped (by seq) and writes the rest: runs straight into their day files when
    // the inputs hold them in output order, (day file, run_id) — score writes them so — and
    // through a sort otherwise; documents and judgments through a sort by id.
    const screenInputs: ScreenInput[] = [];
    let runsInOrder = true;
    const take = async (input: ScreenInput, r: UnitSummary): Promise<void> => {
      progress.tick();
      if (r.type === 'drop') return drops.add(r.key, r.row);
      countPii(stats, r.pii);
      await dedup.add(r.features, input.at * SEQ_INPUT + input.kept++);
      if (r.kind !== 'run') return;
      const key = `${r.file}\u0000${r.id}`;
      if (!input.runs) input.runs = { first: key, last: key };
      else {
        if (key <= input.runs.last) runsInOrder = false;
        input.runs.last = key;
      }
    };
    const addCounts = (s: Record<string, number>, u: ScreenBatchResult['units']): void => {
      mergeStats(stats, s);
      for (const k of ['run', 'document', 'judgment'] as const) unitsIn[k] += u[k];
    };
    // steps 1–4 depend only on a file's rows and the parameters: a file screened before is read
    // back from the cache, in two entries (encodeUnitLines): one line per unit and a `B` line of
    // counts per batch, which pass 1 reads; one line per kept unit with its record, which pass 2 reads
    const cache = await LineCache.open(root, 'screen');
    const keyBase = {
      format: 2,
      code: codeFingerprint(),
      parameters: parameters(config, sets),
      protected: prot.files,
    };
    const todo: ScreenInput[] = [];
    for (const [from, files] of [
      ['runs', runFiles],
      ['evidence', evFiles],
    ] as const) {
      for (const entry of files) {
        const key = sha256(JSON.stringify({ ...keyBase, from, path: entry.path, sha256: entry.sha256 }));
        const input: ScreenInput = {
          entry,
          from,
          at: screenInputs.length,
          key,
          payloadKey: sha256(`${key}:payload`),
          kept: 0,
          runs: null,
        };
        screenInputs.push(input);
        if (screenInputs.length >= 2 ** 21)
          throw new UserError(
            'LIMIT_EXCEEDED',
            `screen reads at most ${2 ** 21} input files; ${screenInputs.length}+ are listed`,
          );
        if (!(cache.has(input.payloadKey) && cache.has(input.key))) {
          todo.push(input);
          continue;
        }
        for await (const line of cache.read(input.key)) {
          if (line.startsWith('B\t')) {
            const b = JSON.parse(line.slice(2)) as Pick<ScreenBatchResult, 'stats' | 'units'>;
            addCounts(b.stats, b.units);
          } else await take(input, decodeUnitLine(line));
        }
      }
    }
    // results are merged in request order; nothing below depends on which thread screened a batch
    const makePool = (): WorkerPool<ScreenBatch, ScreenBatchResult> | null =>
      threads > 1 ? new WorkerPool(new URL('./worker.ts', import.meta.url), threads - 1, workerData) : null;
    const metas: { input: ScreenInput; last: boolean }[] = [];
    async function* requests(): AsyncGenerator<ScreenBatch> {
      for await (const b of batches(root, todo)) {
        metas.push({ input: b.input, last: b.last });
        yield { from: b.from, lines: b.lines };
      }
    }
    const results = mapInOrder(requests(), (b) => screenBatch(b, opts), makePool, {
      after: Math.ceil(workersAfterBatches() / 2),
      window: threads * 2,
    });
    let w: { unit: LineCacheWriter; payload: LineCacheWriter } | null = null;
    for await (const res of results) {
      const batch = metas.shift() as { input: ScreenInput; last: boolean }; // results come back in request order
      w ??= { unit: cache.writer(batch.input.key), payload: cache.writer(batch.input.payloadKey) };
      for (const r of res.results) {
        const lines = encodeUnitLines(r);
        await w.unit.add(lines.unit);
        if (lines.payload !== null) await w.payload.add(lines.payload);
        await take(batch.input, r);
      }
      await w.unit.add(`B\t${JSON.stringify({ stats: res.stats, units: res.units })}`);
      addCounts(res.stats, res.units);
      if (batch.last) {
        await w.payload.commit(); // first: the unit entry is what marks the file as cached
        await w.unit.commit();
        w = null;
      }
    }
    progress.end();
    // runs in output order across inputs too: each input's first key above the last of the one before
    let lastRun = '';
    for (const { runs } of screenInputs) {
      if (!runs) continue;
      if (runs.first <= lastRun) runsInOrder = false;
      lastRun = runs.last;
    }
    const verdicts = new ExternalSorter(scratch.dir, 'verdicts', 4 * 1024 * 1024);
    for await (const v of dedup.verdicts()) await verdicts.add(seqKey(v.seq), JSON.stringify(v.verdict));
    // pass 2
    const kept = new ExternalSorter(scratch.dir, 'kept', 16 * 1024 * 1024); // documents and judgments
    const runsOut = runsInOrder ? null : new ExternalSorter(scratch.dir, 'runs-out', 16 * 1024 * 1024);
    const keptCount = { run: 0, document: 0, judgment: 0 };
    const verdictIt = verdicts.sorted();
    let next = await verdictIt.next();
    let current: string | null = null; // the day file being written
    /** Appends a run to its day file; runs come sorted by (day file, run_id), so one file is open at a time. */
    const writeRun = async (file: string, json: string): Promise<void> => {
      if (file !== current) {
        if (current !== null) await staged.closeWriter(current);
        current = file;
      }
      await staged.writer(file).writeLine(json);
    };
    for (const input of screenInputs) {
      if (input.kept === 0) continue;
      let rank = 0;
      for await (const line of cache.read(input.payloadKey)) {
        const k = keptLine(line);
        const seq = seqKey(input.at * SEQ_INPUT + rank++);
        if (!next.done && next.value.key === seq) {
          const v = JSON.parse(next.value.line) as DedupVerdict;
          await drops.add(`${k.id}\u0000${v.reason}`, JSON.stringify(dropRowOf(k.drop(), v)));
          next = await verdictIt.next();
          continue;
        }
        keptCount[k.kind]++;
        if (k.kind !== 'run') await kept.add(k.id, `${k.file}\t${k.json}`);
        else if (runsOut) await runsOut.add(`${k.file}\u0000${k.id}`, k.json);
        else await writeRun(k.file, k.json);
      }
      if (rank !== input.kept)
        throw new Error(
          `screen: the cache entry of ${input.entry.path} changed while screen ran (${rank} kept units, ${input.kept} before)`,
        );
    }
    if (!next.done) throw new Error(`screen: dedup verdict ${next.value.key} matches no kept unit`);
    if (runsOut)
      for await (const { key, line } of runsOut.sorted())
        await writeRun(key.slice(0, key.indexOf('\u0000')), line);
    if (current !== null) await staged.closeWriter(current);
    for (const file of [SCREENED_DOCUMENTS, SCREENED_JUDGMENTS]) staged.writer(file); // written even when empty
    for await (const { line } of kept.sorted()) {
      const tab = line.indexOf('\t');
      await staged.writer(line.slice(0, tab)).writeLine(line.slice(tab + 1)); // sorted by evidence_id
    }
    const byReason: Record<string, number> = {};
    const q = staged.writer(QUARANTINE_FILE);
    let dropCount = 0;
    for await (const { key, line } of drops.sorted()) {
      bump(byReason, key.slice(key.indexOf('\u0000') + 1));
      dropCount++;
      await q.writeLine(line); // sorted by unit id, then reason
    }
    const totalIn = unitsIn.run + unitsIn.document + unitsIn.judgment;
    const keptTotal = keptCount.run + keptCount.document + keptCount.judgment;
    if (totalIn !== keptTotal + dropCount)
      throw new Error(`accounting broke: ${totalIn} units ≠ ${keptTotal} kept + ${dropCount} quarantined`);
    const screenStats = finishStats(stats);
    const allStats: Record<string, number> = {
      runs_in: unitsIn.run,
      documents_in: unitsIn.document,
      judgments_in: unitsIn.judgment,
      runs_kept: keptCount.run,
      documents_kept: keptCount.document,
      judgments_kept: keptCount.judgment,
      ...screenStats,
      ...Object.fromEntries(Object.entries(dedup.stats).map(([k, v]) => [`dedup.${k}`, v])),
      'protected.files': prot.files.length,
      'protected.items': prot.index.items,
      'protected.ngrams': prot.index.grams.size,
      'protected.short_items': prot.index.exact.size,
      'protected.unparsed': prot.unparsed,
    };
    const summary = {
      schema_version: 1,
      secret_rules_version: SECRET_RULES_VERSION,
      in: { runs: unitsIn.run, documents: unitsIn.document, judgments: unitsIn.judgment },
      kept: { runs: keptCount.run, documents: keptCount.document, judgments: keptCount.judgment },
      quarantined: dropCount,
      by_reason: sortedCounts(byReason),
      stats: sortedCounts(allStats),
    };
    await staged.writeFile(SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
    const params = parameters(config, sets);
    const schemaVersions = {
      ScoredRun: SCORED_V,
      EvidenceRecord: EVIDENCE_V,
      QuarantineRecord: QUARANTINE_V,
    };
    const inputs: FileEntry[] = [...runFiles, ...evFiles, ...prot.files].sort((a, b) => cmp(a.path, b.path));
    const counts = {
      runs_in: unitsIn.run,
      documents_in: unitsIn.document,
      judgments_in: unitsIn.judgment,
      kept: keptTotal,
      quarantined: dropCount,
    };
    const pii = PII_TYPES.filter((t) => (screenStats[`pii.${t}`] ?? 0) > 0)
      .map((t) => `${n(screenStats[`pii.${t}`] ?? 0)} ${t}`)
      .join(', ');
    return {
      parameters: params,
      schemaVersions,
      inputs,
      expectedRows: { [QUARANTINE_FILE]: dropCount },
      expectedTotals: [
        {
          what: 'screened runs',
          match: (rel) => `${SCREENED_DIR}/${rel}`.startsWith(SCREENED_RUNS),
          rows: keptCount.run,
        },
        {
          what: 'screened documents and judgments',
          match: (rel) => `${SCREENED_DIR}/${rel}`.startsWith(SCREENED_EVIDENCE),
          rows: keptCount.document + keptCount.judgment,
        },
      ],
      manifestCounts: counts,
      afterPublish: () => cache.prune(),
      counts: { in: totalIn, out: keptTotal, quarantined: dropCount, by_reason: sortedCounts(byReason) },
      stats: sortedCounts(allStats),
      summary:
        `${n(unitsIn.run)} runs + ${n(unitsIn.document)} documents + ${n(unitsIn.judgment)} judgments → ${n(keptTotal)} kept in ${SCREENED_DIR}/` +
        `${dropCount ? `; ${leftOutText(byReason, EXCLUDED)}` : ''}${pii ? `; PII redacted in ${n(screenStats['pii.rows_redacted'] ?? 0)} rows (${pii})` : ''}` +
        ` (${n(screenInputs.length - todo.length)} of ${n(screenInputs.length)} input files from the cache${runsInOrder ? '' : '; runs were not in (day file, run_id) order and were sorted'})`,
    };
  });
}
