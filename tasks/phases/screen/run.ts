import { leftOutText } from '../../lib/quarantine.ts';
import {
  previousLines,
  StalePrevious,
  statOf,
  stillPublished,
  type OutputStat,
} from '../../lib/previous-output.ts';
import { EXCLUDED } from './contract.ts';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
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
import { stagedPhase, type PhaseOutput } from '../../lib/phase-shell.ts';
import { Manifest, MANIFEST } from '../../lib/manifest.ts';
import { bump, sortedCounts, type PhaseResult } from '../../lib/phase.ts';
import { UserError } from '../../lib/result.ts';
import { RECORD_WALL_MS, RECORD_WORK_LIMIT } from '../../lib/safety/budget.ts';
import { DECONTAM_N, MIN_EXACT_WORDS } from '../../lib/safety/decontaminate.ts';
import { BANDS, MINHASH_SEED, NUM_HASHES, ROWS, SHINGLE_WORDS } from '../../lib/safety/minhash.ts';
import { DENSE_MIN_SPANS, DENSE_PER_1K, PII_TYPES } from '../../lib/safety/pii.ts';
import { SECRET_RULES, SECRET_RULES_VERSION } from '../../lib/safety/secret-rules.ts';
import { batchChars, workerMinBytes, workersAfterBatches } from '../../lib/tuning.ts';
import { evidenceFiles, scoredRunFiles } from '../../lib/upstream.ts';
import { mapInOrder, phasePool, threadCount, type Pool } from '../../lib/worker-pool.ts';
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
  protectedDigest,
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
import { KeptIndex, TimeOrderDedup } from './dedup-index.ts';
import {
  dayOf,
  emptyDedupStats,
  NEAR_DUP_JACCARD,
  UNDATED,
  type DedupStats,
  type DedupVerdict,
} from './dedup.ts';
import {
  dedupDir,
  readState,
  SIDECARS,
  STATE_FORMAT,
  writeState,
  type DayInfo,
  type InputInfo,
  type KindCounts,
  type ScreenState,
} from './state.ts';

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
      order: 'time: (recorded_at, id), undated last; only earlier kept units count',
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
  /** Both cache entries exist. */
  hit: boolean;
  /** Its index in input order (runs, then evidence). */
  at: number;
  /** Kept units so far (pass 1), each numbered by its rank. */
  kept: number;
  /** Its first and last (day file, run_id) key, to tell whether the runs are in output order. */
  runs: { first: string; last: string } | null;
  /** Its units are read (and re-decided) by this build. */
  read: boolean;
  /**
   * A file that grew (undated/preference_judgments.jsonl grows with every day): its previous
   * version is its first `rows` lines, whose cache entries are reused; only the rows after are screened.
   */
  prefix: { key: string; payloadKey: string; rows: number } | null;
  /** What steps 1–4 gave: this build's when read, else the last build's. */
  info: InputInfo;
}

/** Inputs are numbered by 2^32: a unit's seq is its input's index × SEQ_INPUT + its rank among the input's kept units. */
const SEQ_INPUT = 2 ** 32;
/** A seq as a fixed-width sort key (base 36: 11 digits hold 2^53). */
const seqKey = (seq: number): string => seq.toString(36).padStart(11, '0');
/** A day after every day (and after UNDATED): nothing to re-decide. */
const NONE = '\uffff';

/** A batch of one input file's rows; `last` marks the file's final batch. */
type FileBatch = ScreenBatch & { input: ScreenInput; last: boolean };

/** The rows of the input files in batches (twice build-evidence's size: units are fewer), cut at file ends. */
async function* batches(root: string, inputs: readonly ScreenInput[]): AsyncGenerator<FileBatch> {
  const maxChars = 2 * batchChars();
  for (const input of inputs) {
    let lines: string[] = [];
    let chars = 0;
    let skip = input.prefix?.rows ?? 0; // rows of a grown file's previous version: cached
    for await (const { text } of jsonlLines(join(root, input.entry.path))) {
      if (skip > 0) {
        skip--;
        continue;
      }
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

/** The last build this one can continue from: its state and published manifest. */
interface Previous {
  state: ScreenState;
  manifest: Manifest;
  /** Its latest dated day (the watermark): a build from a later day only appends. */
  watermark: string;
}

/** The last build, or why there is none to continue from (then the build is cold). */
async function previousBuild(root: string, key: string): Promise<Previous | string> {
  if (process.env['DISTILL_SCREEN_INCREMENTAL'] === '0')
    return 'incremental screen turned off (DISTILL_SCREEN_INCREMENTAL=0)';
  const state = await readState(root);
  if (!state) return 'no dedup index of an earlier build (first build, or built before time-order dedup)';
  if (state.key !== key) return 'the code or a screen parameter changed since the last build';
  let text: string;
  try {
    text = await fsp.readFile(join(root, SCREENED_DIR, MANIFEST), 'utf8');
  } catch {
    return `${SCREENED_DIR}/${MANIFEST} is missing`;
  }
  if (sha256(Buffer.from(text, 'utf8')) !== state.manifest_sha256)
    return `${SCREENED_DIR} is not what the last build with this index published`;
  const parsed = Manifest.safeParse(JSON.parse(text));
  if (!parsed.success) return `${SCREENED_DIR}/${MANIFEST} is invalid`;
  let watermark = '';
  for (const i of state.inputs)
    if (i.days && i.days[1] !== UNDATED && i.days[1] > watermark) watermark = i.days[1];
  return { state, manifest: parsed.data, watermark };
}

/** The day of a screened runs file (`…/runs/YYYY/MM/DD/runs.jsonl`, or UNDATED for `…/runs/undated/runs.jsonl`). */
function runFileDay(path: string): string {
  const m = /runs\/(\d{4})\/(\d{2})\/(\d{2})\/runs\.jsonl$/.exec(path);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : UNDATED;
}

const emptyKinds = (): KindCounts => ({ run: 0, document: 0, judgment: 0 });
const blankInfo = (entry: FileEntry): InputInfo => ({
  path: entry.path,
  sha256: entry.sha256,
  bytes: entry.bytes,
  rows: entry.rows ?? 0,
  days: null,
  units: emptyKinds(),
  stats: {},
  drops: {},
});

/** sha256 of a file's first `bytes` bytes; null when they do not end a line (the next byte could extend its last row). */
async function prefixSha256(path: string, bytes: number): Promise<string | null> {
  const h = createHash('sha256');
  let last = -1;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) {
    const b = chunk as Buffer;
    h.update(b);
    if (b.length > 0) last = b[b.length - 1] as number;
  }
  return last === 10 ? h.digest('hex') : null;
}

/**
 * The screen phase: reads the scored runs (data/scored-runs) and the document / judgment evidence
 * (data/evidence), keeps secrets, eval copies and duplicates out and replaces PII with
 * placeholders, and writes what survives to data/screened/ in the same shapes (runs by day under
 * runs/, documents and judgments under evidence/), with every dropped unit in _quarantine.jsonl.
 * The exports read only data/screened.
 *
 * Dedup is in time order (dedup.ts): a unit's fate depends only on the units before it. So a build
 * re-decides only from the earliest day a new, changed or removed input holds (`from`): the
 * kept units before it come from the persisted index (dedup-index.ts), and the published files
 * of earlier days are taken from the last build (runs day files hard-linked, the rows of earlier
 * days of the files that mix days merged with the new ones). A cold build is the same code with
 * `from` before every day and an empty index, so both give the same bytes. Memory stays bounded:
 * units stream through steps 1–4 (their results land in the per-file cache), drop rows go to an
 * external sort by id, dedup works from spill files, and a second pass over the cache entries
 * writes the survivors. The inputs are this project's own validated outputs, read without
 * re-validating each row.
 */
export async function screen(root: string, config: DistillConfig): Promise<PhaseResult> {
  const runFiles = await scoredRunFiles(root);
  const evFiles = await evidenceFiles(root);
  const workerData: ScreenWorkerData = {
    root,
    config: { eval_sets: config.eval_sets, secret_allowlist: config.secret_allowlist },
  };
  const { opts, prot, sets } = await screenOptions(workerData);
  // the eval files loaded here are the ones every worker thread must screen against (batch.ts)
  workerData.protectedDigest = protectedDigest(prot.files);
  const inputBytes = [...runFiles, ...evFiles].reduce((s, f) => s + f.bytes, 0);
  // no worker threads for a small input: their start-up would cost more than they save
  const threads = inputBytes >= workerMinBytes() ? threadCount() : 1;
  const params = parameters(config, sets);
  const stateKey = sha256(
    JSON.stringify({
      format: STATE_FORMAT,
      code: codeFingerprint(),
      parameters: params,
      protected: prot.files,
    }),
  );
  return stagedPhase(root, { phase: PHASE, outDir: SCREENED_DIR }, async (ctx) => {
    const build = async (prev: Previous | string): Promise<PhaseOutput> => {
      const { staged, scratch } = ctx;
      const previous = typeof prev === 'string' ? null : prev;
      const drops = new ExternalSorter(scratch.dir, 'drops', 4 * 1024 * 1024);
      const duplicateId = (id: string): Error =>
        new UserError(
          'UPSTREAM_DAMAGED',
          `${SCORED_DIR} or ${EVIDENCE_DIR} holds id ${id} twice; rebuild with \`npm run score\``,
        );
      const dedup = new TimeOrderDedup(scratch.dir, { duplicateId });
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
        const info = input.info;
        const day = r.type === 'drop' ? r.day : dayOf(r.features.at);
        if (!info.days) info.days = [day, day];
        else {
          if (day < info.days[0]) info.days[0] = day;
          if (day > info.days[1]) info.days[1] = day;
        }
        if (r.type === 'drop') {
          bump(info.drops, r.key.slice(r.key.indexOf('\u0000') + 1));
          return drops.add(r.key, `${day}\t${r.row}`);
        }
        countPii(info.stats, r.pii);
        await dedup.add(r.features, input.at * SEQ_INPUT + input.kept++);
        if (r.kind !== 'run') return;
        const key = `${r.file}\u0000${r.id}`;
        if (!input.runs) input.runs = { first: key, last: key };
        else {
          if (key <= input.runs.last) runsInOrder = false;
          input.runs.last = key;
        }
      };
      const addCounts = (
        input: ScreenInput,
        s: Record<string, number>,
        u: ScreenBatchResult['units'],
      ): void => {
        mergeStats(input.info.stats, s);
        for (const k of ['run', 'document', 'judgment'] as const) input.info.units[k] += u[k];
      };
      // steps 1–4 depend only on a file's rows and the parameters: a file screened before is read
      // back from the cache, in two entries (encodeUnitLines): one line per unit and a `B` line of
      // counts per batch, which pass 1 reads; one line per kept unit with its record, which pass 2 reads
      const cache = await LineCache.open(root, 'screen');
      const keyBase = { format: 3, code: codeFingerprint(), parameters: params, protected: prot.files };
      const prevInfo = new Map((previous?.state.inputs ?? []).map((i) => [i.path, i]));
      for (const [from, files] of [
        ['runs', runFiles],
        ['evidence', evFiles],
      ] as const) {
        for (const entry of files) {
          const key = sha256(JSON.stringify({ ...keyBase, from, path: entry.path, sha256: entry.sha256 }));
          const payloadKey = sha256(`${key}:payload`);
          const hasPayload = cache.has(payloadKey); // both looked up: it marks the entries as used
          const hasUnits = cache.has(key);
          screenInputs.push({
            entry,
            from,
            at: screenInputs.length,
            key,
            payloadKey,
            hit: hasPayload && hasUnits,
            prefix: null,
            kept: 0,
            runs: null,
            read: false,
            info: blankInfo(entry),
          });
          if (screenInputs.length >= 2 ** 21)
            throw new UserError(
              'LIMIT_EXCEEDED',
              `screen reads at most ${2 ** 21} input files; ${screenInputs.length}+ are listed`,
            );
        }
      }
      /** Pass 1 over some inputs: cached ones read back, the others screened (and cached). */
      const readUnits = async (list: ScreenInput[]): Promise<void> => {
        const todo: ScreenInput[] = [];
        for (const input of list) {
          input.read = true;
          if (!input.hit) {
            todo.push(input);
            continue;
          }
          for await (const line of cache.read(input.key)) {
            if (line.startsWith('B\t')) {
              const b = JSON.parse(line.slice(2)) as Pick<ScreenBatchResult, 'stats' | 'units'>;
              addCounts(input, b.stats, b.units);
            } else await take(input, decodeUnitLine(line));
          }
        }
        if (todo.length === 0) return;
        // results are merged in request order; nothing below depends on which thread screened a batch
        const makePool = (): Pool<ScreenBatch, ScreenBatchResult> | null =>
          phasePool({
            phase: PHASE,
            module: new URL('./worker.ts', import.meta.url),
            threads,
            data: workerData,
            root,
          });
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
          if (w === null) {
            w = { unit: cache.writer(batch.input.key), payload: cache.writer(batch.input.payloadKey) };
            const pre = batch.input.prefix;
            if (pre) {
              // the grown file's previous rows, from their cache entries (the same lines a full screen gives)
              for await (const line of cache.read(pre.key)) {
                await w.unit.add(line);
                if (line.startsWith('B\t')) {
                  const b = JSON.parse(line.slice(2)) as Pick<ScreenBatchResult, 'stats' | 'units'>;
                  addCounts(batch.input, b.stats, b.units);
                } else await take(batch.input, decodeUnitLine(line));
              }
              for await (const line of cache.read(pre.payloadKey)) await w.payload.add(line);
            }
          }
          for (const r of res.results) {
            const lines = encodeUnitLines(r);
            await w.unit.add(lines.unit);
            if (lines.payload !== null) await w.payload.add(lines.payload);
            await take(batch.input, r);
          }
          await w.unit.add(`B\t${JSON.stringify({ stats: res.stats, units: res.units })}`);
          addCounts(batch.input, res.stats, res.units);
          if (batch.last) {
            await w.payload.commit(); // first: the unit entry is what marks the file as cached
            await w.unit.commit();
            w = null;
          }
        }
      };

      // What to re-decide: every unit from the earliest day a new, changed or removed input holds
      // (now or in its last build), and so every input holding a unit of those days.
      let from = previous ? NONE : '';
      const changed = screenInputs.filter((i) => prevInfo.get(i.entry.path)?.sha256 !== i.entry.sha256);
      const changedSet = new Set(changed);
      for (const i of changed) {
        const old = prevInfo.get(i.entry.path);
        if (i.hit || !old || !(old.bytes < i.entry.bytes) || !(old.rows > 0)) continue;
        const key = sha256(JSON.stringify({ ...keyBase, from: i.from, path: old.path, sha256: old.sha256 }));
        const payloadKey = sha256(`${key}:payload`);
        if (!(cache.has(key) && cache.has(payloadKey))) continue;
        if ((await prefixSha256(join(root, i.entry.path), old.bytes)) !== old.sha256) continue;
        i.prefix = { key, payloadKey, rows: old.rows };
      }
      const same = new Set(screenInputs.filter((i) => !changedSet.has(i)).map((i) => i.entry.path));
      // a removed or changed input: the days its last version held are re-decided too
      for (const old of previous?.state.inputs ?? [])
        if (old.days && !same.has(old.path) && old.days[0] < from) from = old.days[0];
      await readUnits(changed);
      for (const i of changed) if (i.info.days && i.info.days[0] < from) from = i.info.days[0];
      const unchanged = screenInputs.filter((i) => !i.read);
      for (;;) {
        let lower = from;
        for (const i of unchanged) {
          const d = (prevInfo.get(i.entry.path) as InputInfo).days;
          if (d && d[1] >= from && d[0] < lower) lower = d[0];
        }
        if (lower === from) break;
        from = lower;
      }
      const needed = unchanged.filter((i) => {
        const d = (prevInfo.get(i.entry.path) as InputInfo).days;
        return d !== null && d[1] >= from;
      });
      await readUnits(needed);
      for (const i of screenInputs) if (!i.read) i.info = prevInfo.get(i.entry.path) as InputInfo;
      progress.end();
      const mode =
        previous === null
          ? `cold: ${prev as string}`
          : from === NONE
            ? 'nothing changed: every file taken from the last build'
            : from === UNDATED
              ? 're-decided the undated units'
              : from > previous.watermark
                ? `incremental: decided the units from ${from} on`
                : `backfill: re-decided from ${from} onward`;

      // dedup of the units from `from` on, against the kept units before it
      let index: KeptIndex | null = KeptIndex.empty();
      if (previous) {
        index = await KeptIndex.load({ dir: dedupDir(root), ...previous.state.index }, from);
        if (!index) throw new StalePrevious('the dedup index does not hold what the state says');
      }
      const keptBefore = index.size;
      const newDays = new Map<string, DayInfo>();
      const dayInfo = (day: string): DayInfo => {
        let d = newDays.get(day);
        if (!d) newDays.set(day, (d = { kept: emptyKinds(), dedup: emptyDedupStats(), drops: {} }));
        return d;
      };
      const verdicts = new ExternalSorter(scratch.dir, 'verdicts', 4 * 1024 * 1024);
      for await (const v of dedup.verdicts(index)) {
        if (v.day < from)
          throw new Error(`screen: unit ${v.id} of ${v.day} is before ${from}, the day re-decided from`);
        dayInfo(v.day);
        if (!v.verdict) continue;
        bump(dayInfo(v.day).drops, v.verdict.reason);
        await verdicts.add(seqKey(v.seq), JSON.stringify(v.verdict));
      }
      for (const [day, s] of dedup.byDay) dayInfo(day).dedup = s;

      // runs inputs in output order across inputs too: each input's first key above the last of the one before
      const read = screenInputs.filter((i) => i.read);
      let lastRun = '';
      for (const { runs } of read) {
        if (!runs) continue;
        if (runs.first <= lastRun) runsInOrder = false;
        lastRun = runs.last;
      }
      // pass 2
      const keptEvidence = {
        [SCREENED_DOCUMENTS]: new ExternalSorter(scratch.dir, 'kept-documents', 8 * 1024 * 1024),
        [SCREENED_JUDGMENTS]: new ExternalSorter(scratch.dir, 'kept-judgments', 8 * 1024 * 1024),
      } as Record<string, ExternalSorter>;
      const runsOut = runsInOrder ? null : new ExternalSorter(scratch.dir, 'runs-out', 16 * 1024 * 1024);
      const verdictIt = verdicts.sorted();
      let next = await verdictIt.next();
      let currentFile: string | null = null; // the day file being written
      const runDaysWritten = new Set<string>();
      /** Appends a run to its day file; runs come sorted by (day file, run_id), so one file is open at a time. */
      const writeRun = async (file: string, json: string): Promise<void> => {
        if (file !== currentFile) {
          if (currentFile !== null) await staged.closeWriter(currentFile);
          currentFile = file;
          runDaysWritten.add(runFileDay(file));
        }
        await staged.writer(file).writeLine(json);
      };
      for (const input of read) {
        if (input.kept === 0) continue;
        let rank = 0;
        for await (const line of cache.read(input.payloadKey)) {
          const k = keptLine(line);
          const seq = seqKey(input.at * SEQ_INPUT + rank++);
          if (!next.done && next.value.key === seq) {
            const v = JSON.parse(next.value.line) as DedupVerdict;
            await drops.add(
              `${k.id}\u0000${v.reason}`,
              `${k.day}\t${JSON.stringify(dropRowOf(k.drop(), v))}`,
            );
            next = await verdictIt.next();
            continue;
          }
          dayInfo(k.day).kept[k.kind]++;
          if (k.kind !== 'run')
            await (keptEvidence[k.file] as ExternalSorter).add(k.id, `${k.day}\t${k.json}`);
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
      if (currentFile !== null) await staged.closeWriter(currentFile);
      // the runs day files before `from`: the last build's, linked
      let linked = 0;
      const outStats = new Map((previous?.state.outputs ?? []).map((o) => [o.path, o]));
      for (const f of previous?.manifest.files ?? []) {
        if (!f.path.startsWith(SCREENED_RUNS)) continue;
        const day = runFileDay(f.path);
        if (day >= from) continue;
        if (runDaysWritten.has(day)) throw new Error(`screen: ${f.path} was written and linked`);
        if (!(await stillPublished(root, f, outStats.get(f.path))))
          throw new StalePrevious(`${f.path} does not match ${SCREENED_DIR}/${MANIFEST}`);
        const rel = f.path.slice(SCREENED_DIR.length + 1);
        await staged.linkFile(rel, join(root, f.path), { sha256: f.sha256, bytes: f.bytes, rows: f.rows });
        linked++;
      }

      // the files that mix days: the last build's rows of days before `from`, merged by sort key
      // with this build's rows; each row's day and key kept in a sidecar for the next build
      const prevEntry = (rel: string): FileEntry | null => {
        if (!previous) return null;
        const e = previous.manifest.files.find((f) => f.path === `${SCREENED_DIR}/${rel}`);
        if (!e) throw new StalePrevious(`${SCREENED_DIR}/${MANIFEST} lists no ${rel}`);
        return e;
      };
      const merge = async (rel: string, sidecar: string, fresh: ExternalSorter): Promise<number> => {
        const out = staged.writer(rel);
        const side = createWriteStream(scratch.path(sidecar));
        const sideLines: string[] = [];
        const flushSide = async (all = false): Promise<void> => {
          if (sideLines.length === 0 || (!all && sideLines.length < 4096)) return;
          if (!side.write(`${sideLines.join('\n')}\n`)) await once(side, 'drain');
          sideLines.length = 0;
        };
        let rows = 0;
        const emit = async (day: string, key: string, row: string): Promise<void> => {
          await out.writeLine(row);
          sideLines.push(`${day}\t${JSON.stringify(key)}`);
          rows++;
          await flushSide();
        };
        const freshIt = fresh.sorted();
        let f = await freshIt.next();
        const takeFresh = async (): Promise<void> => {
          const { key, line } = f.value as { key: string; line: string };
          const tab = line.indexOf('\t');
          await emit(line.slice(0, tab), key, line.slice(tab + 1));
          f = await freshIt.next();
        };
        const entry = prevEntry(rel);
        if (entry && from !== '') {
          const sideIt = jsonlLines(join(dedupDir(root), sidecar));
          for await (const row of previousLines(root, entry, `${SCREENED_DIR}/${MANIFEST}`)) {
            const s = await sideIt.next();
            if (s.done) throw new StalePrevious(`the sidecar of ${rel} is shorter than it`);
            const tab = s.value.text.indexOf('\t');
            const day = s.value.text.slice(0, tab);
            if (day >= from) continue;
            const key = JSON.parse(s.value.text.slice(tab + 1)) as string;
            while (!f.done && f.value.key < key) await takeFresh();
            if (!f.done && f.value.key === key)
              throw new Error(`screen: ${rel} row ${key} was decided twice`);
            await emit(day, key, row);
          }
          if (!(await sideIt.next()).done) throw new StalePrevious(`the sidecar of ${rel} is longer than it`);
        }
        while (!f.done) await takeFresh();
        await flushSide(true);
        side.end();
        await once(side, 'finish');
        return rows;
      };
      await merge(SCREENED_DOCUMENTS, SIDECARS.documents, keptEvidence[SCREENED_DOCUMENTS] as ExternalSorter);
      await merge(SCREENED_JUDGMENTS, SIDECARS.judgments, keptEvidence[SCREENED_JUDGMENTS] as ExternalSorter);
      const dropCount = await merge(QUARANTINE_FILE, SIDECARS.quarantine, drops);

      // the counts: per input (steps 1–4) and per day (dedup), the last build's where nothing was re-decided
      const days: Record<string, DayInfo> = {};
      for (const [day, d] of Object.entries(previous?.state.days ?? {})) if (day < from) days[day] = d;
      for (const [day, d] of newDays) days[day] = d;
      const unitsIn = emptyKinds();
      const keptCount = emptyKinds();
      const stats: Record<string, number> = {};
      const byReason: Record<string, number> = {};
      const dedupStats: DedupStats = emptyDedupStats();
      for (const { info } of screenInputs) {
        for (const k of ['run', 'document', 'judgment'] as const) unitsIn[k] += info.units[k];
        mergeStats(stats, info.stats);
        mergeStats(byReason, info.drops);
      }
      for (const d of Object.values(days)) {
        for (const k of ['run', 'document', 'judgment'] as const) keptCount[k] += d.kept[k];
        mergeStats(byReason, d.drops);
        for (const k of Object.keys(dedupStats) as (keyof DedupStats)[]) dedupStats[k] += d.dedup[k];
      }
      const totalIn = unitsIn.run + unitsIn.document + unitsIn.judgment;
      const keptTotal = keptCount.run + keptCount.document + keptCount.judgment;
      const reasonTotal = Object.values(byReason).reduce((a, b) => a + b, 0);
      if (reasonTotal !== dropCount)
        throw new Error(`accounting broke: ${dropCount} quarantine rows, ${reasonTotal} counted by reason`);
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
        ...Object.fromEntries(Object.entries(dedupStats).map(([k, v]) => [`dedup.${k}`, v])),
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
      const schemaVersions = {
        ScoredRun: SCORED_V,
        EvidenceRecord: EVIDENCE_V,
        QuarantineRecord: QUARANTINE_V,
      };
      const inputs: FileEntry[] = [...runFiles, ...evFiles, ...prot.files].sort((a, b) =>
        cmp(a.path, b.path),
      );
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
      const cached = read.filter((i) => i.hit).length;
      const grown = read.filter((i) => i.prefix).length;
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
        afterPublish: async (manifest: string, files: FileEntry[]) => {
          await cache.prune();
          // the state last: until it names the manifest just published, the next build is cold
          const dir = dedupDir(root);
          const idx = await dedup.persist(dir);
          for (const name of Object.values(SIDECARS)) await fsp.rename(scratch.path(name), join(dir, name));
          const outputs: OutputStat[] = [];
          for (const f of files) {
            const st = await statOf(root, f.path);
            if (st) outputs.push(st);
          }
          await writeState(root, {
            format: STATE_FORMAT,
            key: stateKey,
            manifest_sha256: sha256(Buffer.from(manifest, 'utf8')),
            index: { entries: idx.entries, metaBytes: idx.metaBytes, shingleBytes: idx.shingleBytes },
            inputs: screenInputs.map((i) => i.info),
            days: Object.fromEntries(Object.entries(days).sort(([a], [b]) => cmp(a, b))),
            outputs,
          });
        },
        counts: { in: totalIn, out: keptTotal, quarantined: dropCount, by_reason: sortedCounts(byReason) },
        stats: sortedCounts(allStats),
        summary:
          `${n(unitsIn.run)} runs + ${n(unitsIn.document)} documents + ${n(unitsIn.judgment)} judgments → ${n(keptTotal)} kept in ${SCREENED_DIR}/` +
          `${dropCount ? `; ${leftOutText(byReason, EXCLUDED)}` : ''}${pii ? `; PII redacted in ${n(screenStats['pii.rows_redacted'] ?? 0)} rows (${pii})` : ''}` +
          ` (dedup ${mode}, against ${n(keptBefore)} kept units of earlier days; ${n(read.length)} of ${n(screenInputs.length)} input files read, ${n(cached)} of them from the cache${grown ? `, ${n(grown)} grown (only the new rows screened)` : ''}; ${n(linked)} day files taken from the last build${runsInOrder ? '' : '; runs were not in (day file, run_id) order and were sorted'})`,
      };
    };
    const prev = await previousBuild(root, stateKey);
    try {
      return await build(prev);
    } catch (e) {
      if (!(e instanceof StalePrevious)) throw e;
      await ctx.restart();
      return await build(`the last build's output or index did not check out (${e.message})`);
    }
  });
}
