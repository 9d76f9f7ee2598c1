import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { DistillConfig } from '../../../schemas/config.ts';
import { SCHEMA_VERSION as EVIDENCE_V, EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { codeFingerprint } from '../../lib/code-fingerprint.ts';
import { sha256 } from '../../lib/hash.ts';
import { log, n, Progress } from '../../lib/log.ts';
import { stagedPhase, type PhaseOutput } from '../../lib/phase-shell.ts';
import { bump, sortedCounts, type PhaseResult } from '../../lib/phase.ts';
import { StalePrevious, statOf, type OutputStat } from '../../lib/previous-output.ts';
import { quarantineRow, type QRow } from '../../lib/quarantine.ts';
import { UserError } from '../../lib/result.ts';
import {
  openSource,
  readArrayElements,
  readDocument,
  readLines,
  snapshotHashes,
  sniffRefusal,
  verifyUnchanged,
  type SourceUnit,
} from '../../lib/source-reader.ts';
import type { StagedDir } from '../../lib/staged-dir.ts';
import { safeText } from '../../lib/terminal-text.ts';
import { batchChars, workerMinBytes, workersAfterBatches } from '../../lib/tuning.ts';
import { queueWindow } from '../../lib/queue/settings.ts';
import { phasePool, queueMode, runOrLocal, threadCount, type Pool } from '../../lib/worker-pool.ts';
import {
  materializeBatch,
  type KeptRecord,
  type UnitBatch,
  type UnitPlace,
  type UnitResult,
} from './batch.ts';
import { EvidenceCache, type CacheEntryWriter } from './cache.ts';
import { EVIDENCE_DIR, HEALTH_FILE, PHASE } from './contract.ts';
import { materializeSession, parseUnit, partitionOf, type ParsedUnit, type UnitOutcome } from './core.ts';
import { IdTable } from './id-table.ts';
import {
  dropState,
  Parts,
  previousBuild,
  writeState,
  STATE_FORMAT,
  type Previous,
  type StateDrop,
  type StateFile,
} from './incremental.ts';
import { resolveAdapters } from './resolve-adapters.ts';
import { previousInputs, sourceChange } from './source-history.ts';
import {
  atStake,
  findRotation,
  previousHealth,
  sourceProblemsError,
  vanishedSources,
  type SourceProblem,
} from './source-guard.ts';
import { escapesRoot, nameCollision } from './source-names.ts';
import { listSources, refuseFreshProject } from './preflight.ts';

const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

/** Per-file accounting: every unit (line / element) ends as evidence or quarantine. */
export interface FileHealth {
  file: string;
  stream: string;
  adapter: string;
  units: number;
  evidence_units: number;
  quarantined_units: number;
  records: number;
  file_refused: string | null;
  by_reason: Record<string, number>;
  /** File-level notes: file_empty, grew_during_read, unterminated_tail_deferred, looks_pretty_printed. */
  flags: string[];
  /** For a source with adapter "auto": how sure detection was that `adapter` reads this file, and why. */
  detected: { confidence: number; reason: string } | null;
}

/** A file name we refuse to carry into logs and provenance (control characters, huge names). */
function unsafeName(rel: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rel)) return 'file name contains control characters';
  if (rel.split('/').some((p) => Buffer.byteLength(p) > 255))
    return 'a path component is longer than 255 bytes';
  return null;
}

/**
 * Options of build-evidence: `acceptSourceChanges` (also DISTILL_ACCEPT_SOURCE_CHANGES=1) builds
 * even when a source matches nothing, a file vanished, shrank or changed since the last build, or
 * a file is refused whole: the operator accepts that their rows leave the datasets.
 */
export interface BuildEvidenceOptions {
  acceptSourceChanges?: boolean;
}

/** A source file being built, shared by the reading side and the writing side of the phase. */
interface FileCtx {
  file: string;
  /** Index in the order files are processed (for duplicate locations). */
  seq: number;
  stream: string;
  h: FileHealth;
  /** Its per-file cache entry: read (cached) or being written; null when the file is not cacheable. */
  cache: { key: string; cached: boolean; writer: CacheEntryWriter | null } | null;
  /** False once something makes this build of the file unfit for the cache (a writer appending). */
  cacheable: boolean;
  /** Its records by kind. */
  kinds: Record<string, number>;
  /** Its cache key once it is done, if a later build may reuse it (see incremental.ts). */
  stateKey: string | null;
}

/** In the id table, the second number of an id kept by the last build (not yet confirmed by this one). */
const PREV = 0x80000000;
/** The file number of an id whose file is no longer listed. */
const GONE = 0xffffffff;

/**
 * What the reading side hands the writing side, in file order: a whole-file refusal, a batch of
 * units to materialize, per-unit results (cached, or a session's parse failures), a session
 * group, or the end of a file (`finalize`: sort and check its health, as a read file needs).
 */
type Item =
  | {
      t: 'refuse';
      ctx: FileCtx;
      reason: string;
      detail: string;
      fileSha: string | null;
      bytes: number | null;
      ref: string | null;
    }
  | { t: 'batch'; ctx: FileCtx; batch: UnitBatch }
  | { t: 'results'; ctx: FileCtx; results: UnitResult[] }
  | { t: 'cached'; ctx: FileCtx; key: string }
  | { t: 'reuse'; ctx: FileCtx; prev: StateFile }
  | { t: 'group'; ctx: FileCtx; members: (UnitPlace & { sig: string })[]; outcome: UnitOutcome }
  | { t: 'end'; ctx: FileCtx; finalize: boolean };

/**
 * The build-evidence phase: every source row → evidence or quarantine, partitioned by day.
 *
 * Two sides, in one order: the reading side lists, checks and reads each source file (on this
 * thread: it owns the snapshot semantics) and cuts its units into batches; the per-unit work
 * (parse, adapter, validation, serialization) runs on worker threads for a large corpus, or here
 * for a small one; the writing side applies the results in file and unit order (the duplicate
 * check needs that order) and writes the day partitions and the quarantine. A file whose bytes,
 * adapter, parameters and code are unchanged since a previous build has its per-unit results read
 * from the cache instead of being parsed again (tasks/phases/build-evidence/cache.ts).
 */
export async function buildEvidence(
  root: string,
  config: DistillConfig,
  opts: BuildEvidenceOptions = {},
): Promise<PhaseResult> {
  const listed = await listSources(root, config);
  const accept = opts.acceptSourceChanges === true || process.env['DISTILL_ACCEPT_SOURCE_CHANGES'] === '1';
  const prevInputs = await previousInputs(root);
  refuseFreshProject(listed, prevInputs, accept);
  const prevHealth = await previousHealth(root);
  // sources never leave the datasets silently: what needs no reading is checked before anything is read
  const vanished = await vanishedSources(root, listed, prevInputs, prevHealth);
  const problems: SourceProblem[] = [];
  const accepted = (p: SourceProblem): void => {
    log.warn(
      `accepted (--accept-source-changes): source ${p.stream}: ${p.file === null ? '' : `${safeText(p.file)}: `}${p.what}`,
    );
  };
  if (accept) vanished.problems.forEach(accepted);
  else if (vanished.problems.length > 0) throw sourceProblemsError(vanished.problems);
  const history = accept ? new Map<string, FileEntry>() : prevInputs;
  const allListed = listed.flatMap((l) => l.files);
  const resolved = await resolveAdapters(root, listed, config);
  const cache = await EvidenceCache.open(root);
  const sizes = new Map<string, number>();
  for (const { files } of listed)
    for (const f of files)
      sizes.set(
        f,
        await fsp.stat(join(root, f)).then(
          (st) => st.size,
          () => 0,
        ),
      );
  let threads = 1;
  const workersAfter = workersAfterBatches();
  const maxChars = batchChars();
  // started once there is enough work for it (a corpus of a few huge lines has little to parse)
  let pool: Pool<UnitBatch, UnitResult[]> | null = null;
  let batches = 0;
  const parameters = {
    as_of: config.as_of,
    future_skew_hours: config.future_skew_hours,
    limits: config.limits,
    sources: listed.map(({ source: s }) => ({
      stream: s.stream,
      adapter: s.adapter,
      // an adapter option that names the rows' runs (swe-bench-report): part of what the rows are
      ...(s.trajectories !== undefined ? { trajectories: s.trajectories } : {}),
      files: [...s.files].sort(),
    })),
  };
  // the incremental build's state is valid only for this code and these parameters
  const stateKey = sha256(JSON.stringify({ code: codeFingerprint(), parameters }));
  // every file's number in build order (the order the reading side goes through them)
  const seqOfPath = new Map<string, number>();
  allListed.forEach((f, i) => seqOfPath.set(f, seqOfPath.has(f) ? -2 : i));

  /** Whether the last build can be built on: its files still listed must come in the same order. */
  const usable = (prev: Previous | string): Previous | string => {
    if (typeof prev === 'string') return prev;
    if ([...seqOfPath.values()].includes(-2)) return 'a file is listed by two sources';
    let last = -1;
    for (const f of prev.state.files) {
      const s = seqOfPath.get(f.path);
      if (s === undefined) continue;
      if (s <= last) return 'the source files come in another order than in the last build';
      last = s;
    }
    return prev;
  };

  return stagedPhase(root, { phase: PHASE, outDir: EVIDENCE_DIR }, async (shell) => {
    const prev = usable(await previousBuild(root, stateKey));
    try {
      return await build(shell.staged, typeof prev === 'string' ? null : prev);
    } catch (e) {
      if (!(e instanceof StalePrevious)) throw e;
      log.info(`build-evidence: a full build (${e.message})`);
      await shell.restart();
      return await build(shell.staged, null);
    }
  });

  /** One build into `staged`: on the last build's state `previous` (incremental), or of everything. */
  async function build(staged: StagedDir, previous: Previous | null): Promise<PhaseOutput> {
    pool = null;
    batches = 0;
    problems.length = 0;
    // no worker threads for a small corpus, nor before there is enough work (their start-up would
    // cost more); incremental: only the files not of the size the last build read are counted
    const lastBytes = new Map((previous?.state.files ?? []).map((f) => [f.path, f.bytes]));
    let toRead = 0;
    for (const [f, size] of sizes) if (lastBytes.get(f) !== size) toRead += size;
    threads = toRead >= workerMinBytes() ? threadCount() : 1;
    const inputs: FileEntry[] = [];
    const health: FileHealth[] = [];
    const fileNames: string[] = [];
    const ctxs: FileCtx[] = [];
    // incremental: the last build's file numbers → this build's; which files are reused as they were
    const prevFiles = previous?.state.files ?? [];
    const seqOfPrev = prevFiles.map((f) => seqOfPath.get(f.path) ?? -1);
    const reusedSeq = new Uint8Array(allListed.length);
    const reused = (s: number): boolean => s >= 0 && reusedSeq[s] === 1;
    const prevAt = new Map<number, StateFile>();
    prevFiles.forEach((f, i) => {
      if ((seqOfPrev[i] as number) >= 0) prevAt.set(seqOfPrev[i] as number, f);
    });
    const parts = new Parts(
      staged,
      previous ? { root, previous, seqOf: (i) => seqOfPrev[i] ?? -1, reused } : null,
    );

    /** The reading side (see the phase comment). */
    async function* read(): AsyncGenerator<Item> {
      const seenNames = new Map<string, string>();
      const seenFiles = new Map<string, string>();
      for (const { source, files } of listed) {
        for (const file of files) {
          const { adapter, detected } = resolved.get(file) ?? { adapter: null, detected: null };
          const h: FileHealth = {
            file,
            stream: source.stream,
            adapter: adapter?.name ?? source.adapter,
            units: 0,
            evidence_units: 0,
            quarantined_units: 0,
            records: 0,
            file_refused: null,
            by_reason: {},
            flags: [],
            detected,
          };
          health.push(h);
          fileNames.push(file);
          const ctx: FileCtx = {
            file,
            seq: fileNames.length - 1,
            stream: source.stream,
            h,
            cache: null,
            cacheable: true,
            kinds: {},
            stateKey: null,
          };
          ctxs.push(ctx);
          parts.touch(`_quarantine/${source.stream}.jsonl`); // every stream with a file has a quarantine file, even an empty one
          const refused = (reason: string, detail: string): void => {
            if (reason === 'DUPLICATE_SOURCE') return; // its rows are read from the identical file
            const p: SourceProblem = {
              code: 'SOURCE_REFUSED',
              stream: source.stream,
              file,
              what: `refused whole (${reason}: ${safeText(detail)}), so none of its rows would be read; ${atStake(prevHealth.get(file))}`,
            };
            if (accept) accepted(p);
            else if (source.optional)
              log.warn(`optional source ${source.stream}: ${safeText(file)}: ${p.what}`);
            // refused the same way by the last published build: accepted then
            else if (prevHealth.get(file)?.refused !== reason) problems.push(p);
          };
          const refuse = (
            reason: string,
            detail: string,
            fileSha: string | null,
            bytes: number | null,
            ref: string | null = null,
          ): Item[] => {
            refused(reason, detail);
            return [
              { t: 'refuse', ctx, reason, detail, fileSha, bytes, ref },
              { t: 'end', ctx, finalize: false },
            ];
          };
          const abs = join(root, file);
          const nameIssue = unsafeName(file);
          if (nameIssue) {
            yield* refuse('UNSAFE_SOURCE_NAME', nameIssue, null, null);
            continue;
          }
          const sameName = nameCollision(file, seenNames);
          if (sameName !== null) {
            yield* refuse(
              'UNSAFE_SOURCE_NAME',
              `name differs from ${sameName} only by Unicode normalization or case, which is the same file on macOS / Windows; rename one`,
              null,
              null,
              sameName,
            );
            continue;
          }
          if (await escapesRoot(root, abs)) {
            yield* refuse(
              'PATH_ESCAPE',
              'a symbolic link in the path leads outside the project root; copy the files under the root instead',
              null,
              null,
            );
            continue;
          }
          const opened = await openSource(abs, file).catch((e: NodeJS.ErrnoException) => {
            const why =
              e.code === 'ENOENT'
                ? 'it was listed but vanished before it could be opened'
                : e.code === 'EACCES' || e.code === 'EPERM'
                  ? 'permission denied'
                  : e.message;
            throw new UserError(
              'SOURCE_UNREADABLE',
              `SOURCE_UNREADABLE: ${safeText(file)}: ${why} (${e.code ?? 'error'}); nothing was published. Restore the file or its permissions, or change the globs in distill.config.json, and rerun`,
            );
          });
          if (!opened.ok) {
            yield* refuse(opened.refusal.reason, opened.refusal.detail, null, null);
            continue;
          }
          const src = opened.src;
          try {
            const prev = history.get(file);
            const hashes = await snapshotHashes(src, prev && prev.bytes <= src.size ? prev.bytes : null);
            const changed = sourceChange(prev, src.size, hashes.prefixSha256);
            if (changed && prev) {
              // rotated (its old bytes now under another listed name, read there) is no loss
              const target = await findRotation(
                root,
                prev,
                allListed.filter((f) => f !== file),
              );
              if (target)
                log.info(
                  `${safeText(file)}: rotated to ${safeText(target)} (read there); read as a new file`,
                );
              else {
                problems.push({
                  code: 'SOURCE_TRUNCATED',
                  stream: source.stream,
                  file,
                  what: `${changed}; ${atStake(prevHealth.get(file))}, and they would be lost`,
                });
                yield { t: 'end', ctx, finalize: false };
                continue;
              }
            }
            const fileSha = hashes.sha256;
            src.expectSha256 = fileSha;
            const entry: FileEntry = { path: file, sha256: fileSha, bytes: src.size, rows: null };
            inputs.push(entry);
            if (src.size === 0) h.flags.push('file_empty');
            const first = seenFiles.get(fileSha);
            if (first && src.size > 0) {
              yield* refuse(
                'DUPLICATE_SOURCE',
                `byte-identical to ${first}, which was read instead`,
                fileSha,
                src.size,
                first,
              );
              continue;
            }
            seenFiles.set(fileSha, file);
            const refusal = await sniffRefusal(src);
            if (refusal) {
              yield* refuse(refusal.reason, refusal.detail, fileSha, src.size);
              continue;
            }
            if (!adapter) {
              // "auto" found nothing to detect: an empty file; anything else changed since it was sniffed
              if (src.size === 0) {
                yield { t: 'end', ctx, finalize: true };
                continue;
              }
              throw new UserError(
                'SOURCE_CHANGED',
                `${file}: changed while build-evidence ran (it was empty or unreadable when its format was detected); rerun`,
              );
            }
            const lines = adapter.shape === 'jsonl' || adapter.shape === 'jsonl-session';
            const session: ParsedUnit[] | null = adapter.shape === 'jsonl-session' ? [] : null;
            // a gzip file is complete when its stream is (a torn one fails the read): cacheable too
            if (!session && src.size > 0 && (src.compression === 'gzip' || (await lastByte(src)) === 0x0a)) {
              // a file ending in a newline has no tail a writer could still be appending to: cacheable
              const key = cache.key({
                file,
                stream: source.stream,
                adapter: adapter.name,
                trajectories: source.trajectories ?? null,
                sha256: fileSha,
                bytes: src.size,
                config,
              });
              ctx.cache = { key, cached: cache.has(key), writer: null };
              if (ctx.cache.cached) {
                const last = prevAt.get(ctx.seq);
                const was = last?.key === key ? last : undefined;
                // unchanged since the last build: its rows stay where they are (incremental.ts)
                if (was) yield { t: 'reuse', ctx, prev: was };
                else yield { t: 'cached', ctx, key };
                await verifyUnchanged(src);
                if ((await src.fh.stat()).size > src.size) h.flags.push('grew_during_read');
                yield { t: 'end', ctx, finalize: true };
                continue;
              }
            }
            const reader = lines
              ? readLines(src, config.limits.max_line_bytes)
              : adapter.shape === 'json-array'
                ? readArrayElements(src, config.limits.max_line_bytes)
                : readDocument(src, MAX_DOCUMENT_BYTES);
            let deferredAt: number | null = null;
            let batch: SourceUnit[] = [];
            let chars = 0;
            const cut = (): Item => {
              const item: Item = {
                t: 'batch',
                ctx,
                batch: {
                  adapter: adapter.name,
                  stream: source.stream,
                  file,
                  ...(source.trajectories !== undefined ? { trajectories: source.trajectories } : {}),
                  config: {
                    as_of: config.as_of,
                    future_skew_hours: config.future_skew_hours,
                    limits: config.limits,
                  },
                  units: batch,
                },
              };
              batch = [];
              chars = 0;
              return item;
            };
            const preDrops: UnitResult[] = [];
            for await (const item of reader) {
              if (!('index' in item)) {
                refused(item.reason, item.detail);
                if (batch.length > 0) yield cut();
                yield {
                  t: 'refuse',
                  ctx,
                  reason: item.reason,
                  detail: item.detail,
                  fileSha,
                  bytes: src.size,
                  ref: null,
                };
                break;
              }
              const unit = item;
              if (
                !unit.terminated &&
                lines &&
                src.compression === 'none' &&
                (await src.fh.stat()).size > src.size
              ) {
                // a writer is appending: the unterminated last line is still being written, so it is
                // left for the next run (which reads it whole), and the input entry ends before it
                deferredAt = unit.offset;
                continue;
              }
              if (session) {
                // a session's lines are parsed here and handed to the adapter together after the loop
                const pre = parseUnit(unit, adapter, config);
                if (pre.ok) session.push(pre.parsed);
                else preDrops.push(dropResult(unit, pre.outcome));
                continue;
              }
              // raw bytes that are exactly the UTF-8 of the text need not be copied to a worker
              if (
                unit.text !== null &&
                unit.raw &&
                !unit.flags.includes('bom_stripped') &&
                !unit.flags.includes('crlf')
              )
                batch.push({ ...unit, raw: null });
              else batch.push(unit);
              chars += unit.text?.length ?? 0;
              if (chars >= maxChars || batch.length >= 2000) yield cut();
            }
            if (batch.length > 0) yield cut();
            if (session) {
              if (preDrops.length > 0) yield { t: 'results', ctx, results: preDrops };
              // a session's groups: every line merged into a record counts as an evidence unit of it
              for (const { members, outcome } of materializeSession(
                session,
                adapter,
                { stream: source.stream, file },
                config,
              )) {
                yield {
                  t: 'group',
                  ctx,
                  members: members.map((m) => ({ ...placeOf(m.unit), sig: m.sig })),
                  outcome,
                };
              }
            }
            // shrunk, replaced or rewritten while it was read: SOURCE_CHANGED, nothing is published
            await verifyUnchanged(src);
            if ((await src.fh.stat()).size > src.size) {
              h.flags.push('grew_during_read');
              ctx.cacheable = false;
            }
            if (deferredAt !== null) {
              h.flags.push('unterminated_tail_deferred');
              ctx.cacheable = false;
              entry.bytes = deferredAt;
              entry.sha256 = (await snapshotHashes(src, deferredAt)).prefixSha256 as string;
            }
          } finally {
            await src.fh.close();
          }
          yield { t: 'end', ctx, finalize: true };
        }
      }
      if (problems.length > 0) throw sourceProblemsError(problems);
    }

    /** Materialized results in item order, with at most `window` batches in flight. */
    async function* materialized(items: AsyncIterable<Item>, window: number): AsyncGenerator<Item> {
      const queue: Promise<Item>[] = [];
      for await (const item of items) {
        if (item.t === 'batch') {
          // on the job queue (DISTILL_QUEUE) every batch is a job, from the first
          if (++batches === (queueMode() ? 1 : workersAfter + 1))
            pool = phasePool<UnitBatch, UnitResult[]>({
              phase: PHASE,
              module: new URL('./worker.ts', import.meta.url),
              threads,
              data: null,
              root,
            });
          // this thread is a core too: it takes a batch itself whenever the workers are busy
          const p = runOrLocal(pool, item.batch, materializeBatch).then((results): Item => ({
            t: 'results',
            ctx: item.ctx,
            results,
          }));
          p.catch(() => undefined); // surfaced when awaited in order below
          queue.push(p);
        } else queue.push(Promise.resolve(item));
        while (queue.length > window) yield await (queue.shift() as Promise<Item>);
      }
      while (queue.length > 0) yield await (queue.shift() as Promise<Item>);
    }

    try {
      // evidence_id → [file seq, 1-based line] of the row kept; incremental: the last build's
      // table, each id marked PREV (its file renumbered, GONE when no longer listed) until confirmed
      const seenIds = previous?.ids ?? new IdTable();
      if (previous)
        seenIds.remap((a, b) => {
          const s = seqOfPrev[a] ?? -1;
          return [s < 0 ? GONE : s, (b | PREV) >>> 0];
        });
      // the last build's DUPLICATE_RECORD rows: their file and the files their ids were kept in
      const prevDrops = (previous?.state.drops ?? []).map((d) => ({
        ...d,
        seq: seqOfPrev[d.file] ?? -1,
        owners: d.ids.map((id) => seenIds.get(id)?.[0]).filter((x) => x !== undefined),
      }));
      const dropsById = new Map<string, number[]>();
      for (const d of prevDrops)
        for (const id of d.ids) {
          const list = dropsById.get(id);
          if (list) list.push(d.seq);
          else dropsById.set(id, [d.seq]);
        }
      const drops: StateDrop[] = [];
      const byReason: Record<string, number> = {};
      const kinds: Record<string, number> = {};
      let units = 0;
      let kept = 0;
      let quarantined = 0;
      let records = 0;
      const progress = new Progress('build-evidence', null, 'source rows');
      // a detail may quote a value of the row (an adapter's enum error): escaped, so it is safe to print
      const quarantine = (ctx: FileCtx, q: QRow): Promise<void> =>
        parts.row(
          `_quarantine/${ctx.stream}.jsonl`,
          ctx.seq,
          JSON.stringify(quarantineRow({ ...q, detail: safeText(q.detail) }, 'build-evidence')),
        );
      /** Where the first of `recs` whose id was kept before was kept, as `file:line`. */
      const dupOf = (ctx: FileCtx, recs: readonly KeptRecord[]): string | undefined => {
        for (const r of recs) {
          const at = seenIds.get(r.id);
          if (!at) continue;
          if ((at[1] & PREV) === 0) return `${fileNames[at[0]]}:${at[1]}`;
          // kept by the last build: it counts only in a file reused as it was, before this one
          const s = at[0];
          if (s === GONE || s === ctx.seq) continue; // a file no longer listed, or this file's old version
          if (s > ctx.seq)
            throw new StalePrevious(
              `${ctx.file} has a row with an id that the later file ${allListed[s]} kept in the last build`,
            );
          if (reused(s)) return `${fileNames[s]}:${at[1] & ~PREV}`;
        }
        return undefined;
      };
      const keep = async (ctx: FileCtx, recs: readonly KeptRecord[], line: number): Promise<void> => {
        for (const r of recs) {
          // a later file reused as it was dropped a row with this id: its verdict changes
          for (const s of dropsById.get(r.id) ?? [])
            if (s > ctx.seq)
              throw new StalePrevious(
                `${ctx.file} keeps an id that the later file ${allListed[s]} had a duplicate of in the last build`,
              );
          seenIds.set(r.id, ctx.seq, line);
          await parts.row(r.part, ctx.seq, r.json);
          bump(kinds, r.kind);
          bump(ctx.kinds, r.kind);
        }
        records += recs.length;
        ctx.h.records += recs.length;
      };
      const apply = async (ctx: FileCtx, res: UnitResult): Promise<void> => {
        const h = ctx.h;
        h.units++;
        units++;
        progress.tick();
        let r = res;
        if (r.type === 'keep') {
          const dup = dupOf(ctx, r.records);
          if (dup !== undefined) {
            drops.push({ file: ctx.seq, line: r.index + 1, ids: r.records.map((x) => x.id) });
            const firstRec = r.records[0] as KeptRecord;
            r = {
              ...placeOf(r),
              type: 'drop',
              reason: 'DUPLICATE_RECORD',
              detail: `identical to the row at ${dup}, which was kept`,
              sigHash: firstRec.sig,
              traceId: firstRec.trace,
              ref: firstRec.id,
              prettyPrinted: false,
            };
          }
        }
        if (r.type === 'keep') {
          await keep(ctx, r.records, r.index + 1);
          h.evidence_units++;
          kept++;
          return;
        }
        h.quarantined_units++;
        quarantined++;
        if (r.prettyPrinted) h.flags.push('looks_pretty_printed');
        bump(h.by_reason, r.reason);
        bump(byReason, r.reason);
        await quarantine(ctx, {
          reason: r.reason,
          detail: r.detail,
          file: ctx.file,
          index: r.index,
          offset: r.offset,
          bytes: r.bytes,
          lineSha: r.lineSha,
          sig: r.sigHash,
          record: null,
          trace: r.traceId,
          ref: r.ref,
        });
      };
      for await (const item of materialized(read(), queueMode() ? queueWindow() : Math.max(2, threads * 3))) {
        const { ctx } = item;
        const h = ctx.h;
        switch (item.t) {
          case 'refuse':
            h.file_refused = item.reason;
            bump(h.by_reason, item.reason);
            bump(byReason, item.reason);
            await quarantine(ctx, {
              reason: item.reason,
              detail: item.detail,
              file: ctx.file,
              index: null,
              offset: null,
              bytes: item.bytes,
              lineSha: item.fileSha,
              sig: null,
              record: null,
              trace: null,
              ref: item.ref,
            });
            ctx.cacheable = false;
            break;
          case 'results':
            if (ctx.cache && !ctx.cache.cached) ctx.cache.writer ??= cache.writer(ctx.cache.key);
            for (const res of item.results) {
              await ctx.cache?.writer?.add(res);
              await apply(ctx, res);
            }
            break;
          case 'reuse': {
            // unchanged since the last build: its counts from the state, its rows stay where they are
            const was = item.prev;
            reusedSeq[ctx.seq] = 1;
            h.units += was.units;
            h.evidence_units += was.evidence_units;
            h.quarantined_units += was.quarantined_units;
            h.records += was.records;
            h.flags.push(...was.flags);
            for (const [k, v] of Object.entries(was.by_reason)) {
              bump(h.by_reason, k, v);
              bump(byReason, k, v);
            }
            for (const [k, v] of Object.entries(was.kinds)) {
              bump(ctx.kinds, k, v);
              bump(kinds, k, v);
            }
            units += was.units;
            kept += was.evidence_units;
            quarantined += was.quarantined_units;
            records += was.records;
            progress.tick(was.units);
            break;
          }
          case 'cached':
            for await (const res of cache.read(item.key)) await apply(ctx, res);
            break;
          case 'group': {
            let outcome = item.outcome;
            const at = item.members[0] as UnitPlace;
            h.units += item.members.length;
            units += item.members.length;
            progress.tick(item.members.length);
            if (outcome.type === 'keep') {
              const recs = outcome.records.map((r) => ({
                id: r.evidence_id,
                kind: r.kind,
                part: partitionOf(r),
                json: JSON.stringify(r),
                sig: r.provenance.sig_hash,
                trace: r.trace_id,
              }));
              const dup = dupOf(ctx, recs);
              if (dup === undefined) {
                await keep(ctx, recs, at.index + 1);
                h.evidence_units += item.members.length;
                kept += item.members.length;
                break;
              }
              drops.push({ file: ctx.seq, line: at.index + 1, ids: recs.map((x) => x.id) });
              const firstRec = outcome.records[0] as EvidenceRecord;
              outcome = {
                type: 'drop',
                reason: 'DUPLICATE_RECORD',
                detail: `identical to the row at ${dup}, which was kept`,
                sigHash: firstRec.provenance.sig_hash,
                traceId: firstRec.trace_id,
                ref: firstRec.evidence_id,
              };
            }
            for (const m of item.members) {
              h.quarantined_units++;
              quarantined++;
              bump(h.by_reason, outcome.reason);
              bump(byReason, outcome.reason);
              await quarantine(ctx, {
                reason: outcome.reason,
                detail: outcome.detail,
                file: ctx.file,
                index: m.index,
                offset: m.offset,
                bytes: m.bytes,
                lineSha: m.lineSha,
                sig: m.sig,
                record: null,
                trace: outcome.traceId,
                ref: outcome.ref ?? null,
              });
            }
            break;
          }
          case 'end':
            if (ctx.cache?.writer) {
              if (ctx.cacheable) await ctx.cache.writer.commit();
              else await ctx.cache.writer.discard();
            }
            if (ctx.cache && ctx.cacheable && (ctx.cache.cached || ctx.cache.writer !== null))
              ctx.stateKey = ctx.cache.key;
            if (!item.finalize) break;
            h.by_reason = sortedCounts(h.by_reason);
            h.flags.sort();
            if (h.units !== h.evidence_units + h.quarantined_units)
              throw new Error(
                `accounting broke for ${ctx.file}: ${h.units} ≠ ${h.evidence_units} + ${h.quarantined_units}`,
              );
            break;
        }
      }
      await (pool as Pool<UnitBatch, UnitResult[]> | null)?.close();
      progress.end();
      // a duplicate the last build dropped in a reused file stays as it was only if every id it has
      // is still kept where it was (in reused files); new keepers of its ids were checked in `keep`
      for (const d of prevDrops) {
        if (!reused(d.seq)) continue;
        if (d.owners.some((o) => !reused(o)))
          throw new StalePrevious(
            `a row of ${allListed[d.seq]} was a duplicate of a row in a file that changed or is gone`,
          );
        drops.push({ file: d.seq, line: d.line, ids: d.ids });
      }
      drops.sort((a, b) => a.file - b.file || a.line - b.line);
      await parts.finish();
      const filesRefused = health.filter((h) => h.file_refused).length;
      const healthDoc = {
        schema_version: 1,
        totals: {
          files: health.length,
          files_refused: filesRefused,
          units,
          evidence_units: kept,
          quarantined_units: quarantined,
          records,
          by_reason: sortedCounts(byReason),
          by_kind: sortedCounts(kinds),
        },
        streams: streamHealth(health),
        files: health,
      };
      await staged.writeFile(HEALTH_FILE, `${JSON.stringify(healthDoc, null, 2)}\n`);
      inputs.sort((a, b) => (a.path < b.path ? -1 : 1));
      const reusedFiles = reusedSeq.reduce((a, b) => a + b, 0);
      const schemaVersions = { EvidenceRecord: EVIDENCE_V, QuarantineRecord: QUARANTINE_V };
      return {
        parameters,
        schemaVersions,
        inputs,
        // self-check before publishing: the rows on disk equal what we counted (wireit caches any exit 0)
        expectedTotals: [
          { what: 'evidence rows', match: (rel) => !rel.startsWith('_'), rows: records },
          {
            what: 'quarantine rows',
            match: (rel) => rel.startsWith('_quarantine/'),
            rows: quarantined + filesRefused,
          },
        ],
        manifestCounts: {
          units,
          evidence_units: kept,
          quarantined_units: quarantined,
          files_refused: filesRefused,
          records,
        },
        afterPublish: async (manifest: string, files: FileEntry[]) => {
          await cache.prune();
          // the state last (incremental.ts): until it names the manifest just published, the next build is a full one
          if (seenIds.otherIds > 0 || ctxs.length !== allListed.length) {
            await dropState(root); // ids of another shape are not in the persisted table
            return;
          }
          // ids of this build only: the last build's that no reused file confirms are gone
          seenIds.remap((a, b) => ((b & PREV) === 0 ? [a, b] : reused(a) ? [a, (b & ~PREV) >>> 0] : null));
          const outputs: OutputStat[] = [];
          for (const f of files) {
            const st = await statOf(root, f.path);
            if (st) outputs.push(st);
          }
          const stateFiles: StateFile[] = ctxs.map((c) => ({
            path: c.file,
            key: c.stateKey,
            bytes: sizes.get(c.file) ?? null,
            units: c.h.units,
            evidence_units: c.h.evidence_units,
            quarantined_units: c.h.quarantined_units,
            records: c.h.records,
            by_reason: c.h.by_reason,
            flags: c.h.flags.filter((f) => f !== 'grew_during_read'),
            kinds: sortedCounts(c.kinds),
          }));
          await writeState(
            root,
            {
              format: STATE_FORMAT,
              key: stateKey,
              manifest_sha256: sha256(Buffer.from(manifest, 'utf8')),
              files: stateFiles,
              parts: Object.fromEntries([...parts.segs].sort(([a], [b]) => (a < b ? -1 : 1))),
              drops,
              outputs,
            },
            seenIds,
          );
        },
        counts: { in: units, out: kept, quarantined, by_reason: sortedCounts(byReason) },
        stats: { files: health.length, files_refused: filesRefused, records, ...prefixed('kind.', kinds) },
        summary:
          `${n(units)} source rows in ${health.length} files → ${n(records)} evidence records, ${n(quarantined)} quarantined${filesRefused ? `, ${filesRefused} files refused` : ''}` +
          (previous
            ? ` (incremental: ${n(health.length - reusedFiles)} of ${n(health.length)} files read; ${n(parts.written)} output files written, ${n(parts.linked)} taken from the last build)`
            : ''),
      };
    } finally {
      await (pool as Pool<UnitBatch, UnitResult[]> | null)?.close();
      await parts.abandon();
    }
  }
}

/** A unit's place and raw-bytes hash. */
function placeOf(u: UnitPlace | SourceUnit): UnitPlace {
  return {
    index: u.index,
    offset: u.offset,
    bytes: u.bytes,
    lineSha: 'lineSha' in u ? u.lineSha : u.raw ? sha256(u.raw) : u.rawSha256,
  };
}

/** The result of a unit dropped before any adapter ran. */
function dropResult(unit: SourceUnit, outcome: UnitOutcome): UnitResult {
  if (outcome.type !== 'drop') throw new Error('dropResult of a kept unit');
  const prettyPrinted =
    unit.index === 0 && outcome.reason === 'JSON_PARSE' && /^\s*[{[]\s*$/.test(unit.text ?? '');
  return {
    ...placeOf(unit),
    type: 'drop',
    reason: outcome.reason,
    detail: outcome.detail,
    sigHash: outcome.sigHash,
    traceId: outcome.traceId,
    ref: outcome.ref ?? null,
    prettyPrinted,
  };
}

/** The last byte of the snapshot. */
async function lastByte(src: {
  fh: { read: (b: Buffer, o: number, l: number, p: number) => Promise<{ bytesRead: number }> };
  size: number;
}): Promise<number> {
  const b = Buffer.alloc(1);
  await src.fh.read(b, 0, 1, src.size - 1);
  return b[0] as number;
}

function prefixed(prefix: string, m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(sortedCounts(m)).map(([k, v]) => [`${prefix}${k}`, v]));
}

function streamHealth(files: FileHealth[]): Record<
  string,
  {
    files: number;
    units: number;
    evidence_units: number;
    quarantined_units: number;
    records: number;
    by_reason: Record<string, number>;
  }
> {
  const out: Record<
    string,
    {
      files: number;
      units: number;
      evidence_units: number;
      quarantined_units: number;
      records: number;
      by_reason: Record<string, number>;
    }
  > = {};
  for (const h of files) {
    const s = (out[h.stream] ??= {
      files: 0,
      units: 0,
      evidence_units: 0,
      quarantined_units: 0,
      records: 0,
      by_reason: {},
    });
    s.files++;
    s.units += h.units;
    s.evidence_units += h.evidence_units;
    s.quarantined_units += h.quarantined_units;
    s.records += h.records;
    for (const [k, v] of Object.entries(h.by_reason)) bump(s.by_reason, k, v);
    if (h.file_refused) bump(s.by_reason, h.file_refused, 0);
  }
  for (const s of Object.values(out)) s.by_reason = sortedCounts(s.by_reason);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
