import type { DistillConfig } from '../../../schemas/config.ts';
import type { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import type { ScoredRun } from '../../../schemas/scored-run.ts';
import { sha256 } from '../../lib/hash.ts';
import { bump } from '../../lib/phase.ts';
import { quarantineRow } from '../../lib/quarantine.ts';
import type { PiiType } from '../../lib/safety/pii.ts';
import { loadProtected, protectedSets } from '../../lib/safety/protected-sets.ts';
import { scoredPartition } from '../score/contract.ts';
import { SCREENED_DOCUMENTS, SCREENED_JUDGMENTS } from './contract.ts';
import { Budget } from '../../lib/safety/budget.ts';
import { safeId } from '../../lib/safety/redact.ts';
import { dayOf } from './dedup.ts';
import { screenOne, textOf, unitId, type ScreenDrop, type ScreenOptions, type ScreenUnit } from './core.ts';
import { bandsFromText, bandsToText, dedupFeatures, type DedupFeatures } from './dedup-index.ts';

/**
 * Steps 1–4 of the screen phase over a batch of input rows, as plain data that crosses a worker
 * boundary: drop rows and kept records as the lines the phase sorts and publishes, plus each kept
 * unit's dedup features. Pure (the same batch gives the same result on any thread).
 */

/** Files of the screened documents and judgments, inside data/screened. */

/** What a unit's quarantine row needs of it (kept beside each kept unit, for dedup's drops). */
export interface DropFields {
  /** run_id or evidence_id. */
  id: string;
  /** provenance.source_file, provenance.line_offset, provenance.sig_hash. */
  file: string;
  index: number;
  sig: string;
  /** run_id of a run, trace_id of evidence. */
  trace: string | null;
}

/** A unit's `DropFields`; ids that carry personal data are written hashed (a quarantine file is an output too). */
function dropFields(u: ScreenUnit): DropFields {
  const p = u.record.provenance;
  const budget = new Budget();
  const trace = u.kind === 'run' ? u.record.run_id : u.record.trace_id;
  return {
    id: safeId(unitId(u), budget),
    file: p.source_file,
    index: p.line_offset,
    sig: p.sig_hash,
    trace: trace === null ? null : safeId(trace, budget),
  };
}

/** The quarantine row of a unit dropped for `reason`. */
export function dropRowOf(f: DropFields, d: { reason: string; detail: string; ref: string | null }) {
  return quarantineRow(
    {
      reason: d.reason,
      detail: d.detail,
      file: f.file,
      index: f.index,
      offset: null,
      bytes: null,
      lineSha: null,
      sig: f.sig,
      record: f.id,
      trace: f.trace,
      ref: d.ref,
    },
    'screen',
  );
}

/** The quarantine row of a dropped unit. */
function dropRow(d: ScreenDrop) {
  return dropRowOf(dropFields(d.unit), d);
}

/** What pass 1 of screen needs of a unit: its drop row (sort key `<id>\0<reason>`) and day, or a kept unit's place, PII counts and dedup features. */
export type UnitSummary =
  | { type: 'drop'; key: string; day: string; row: string }
  | {
      type: 'keep';
      id: string;
      kind: ScreenUnit['kind'];
      file: string;
      features: DedupFeatures;
      pii: Record<PiiType, number>;
    };

/** The result of steps 1–4 for one unit: its summary, and a kept unit's published JSON and drop fields (no objects kept). */
export type UnitLines =
  | Exclude<UnitSummary, { type: 'keep' }>
  | (Extract<UnitSummary, { type: 'keep' }> & { json: string; drop: DropFields });

/** One unit → its drop row, or its kept record (the JSON being exactly what is published, in `file`) and its dedup features. */
export function screenUnitLines(
  u: ScreenUnit,
  opts: ScreenOptions,
  stats: Record<string, number>,
): UnitLines {
  const r = screenOne(u, opts, stats);
  if (r.type === 'drop')
    return {
      type: 'drop',
      key: `${unitId(r.drop.unit)}\u0000${r.drop.reason}`,
      day: dayOf(r.drop.unit.record.recorded_at),
      row: JSON.stringify(dropRow(r.drop)),
    };
  const k = r.unit;
  const id = unitId(k);
  const file =
    k.kind === 'run'
      ? `runs/${scoredPartition(k.record)}`
      : k.kind === 'document'
        ? SCREENED_DOCUMENTS
        : SCREENED_JUDGMENTS;
  const t = textOf(k);
  return {
    type: 'keep',
    id,
    kind: k.kind,
    file,
    json: JSON.stringify(k.record),
    features: dedupFeatures({ id, at: k.record.recorded_at, cls: t.cls, full: t.full, body: t.body }),
    pii: r.pii,
    drop: dropFields(k),
  };
}

/** A batch of rows of one input: scored runs, or evidence (of which documents and judgments are screened). */
export interface ScreenBatch {
  from: 'runs' | 'evidence';
  lines: string[];
}

/** What a batch gave: per-unit results, the detector stats it added, and units read by kind. */
export interface ScreenBatchResult {
  results: UnitLines[];
  stats: Record<string, number>;
  units: { run: number; document: number; judgment: number };
}

/** Screens one batch. */
export function screenBatch(batch: ScreenBatch, opts: ScreenOptions): ScreenBatchResult {
  const stats: Record<string, number> = {};
  const units = { run: 0, document: 0, judgment: 0 };
  const results: UnitLines[] = [];
  for (const text of batch.lines) {
    let u: ScreenUnit;
    if (batch.from === 'runs') u = { kind: 'run', record: JSON.parse(text) as ScoredRun };
    else {
      const v = JSON.parse(text) as EvidenceRecord;
      if (v.kind === 'document') u = { kind: 'document', record: v };
      else if (v.kind === 'judgment') u = { kind: 'judgment', record: v };
      else continue;
    }
    units[u.kind]++;
    results.push(screenUnitLines(u, opts, stats));
  }
  return { results, stats, units };
}

/** Adds a batch's stats into the running totals. */
export function mergeStats(into: Record<string, number>, add: Record<string, number>): void {
  for (const [k, v] of Object.entries(add)) bump(into, k, v);
}

/** What a worker needs to rebuild the screen options (the protected index is loaded from files). */
export interface ScreenWorkerData {
  root: string;
  config: Pick<DistillConfig, 'eval_sets' | 'secret_allowlist'>;
  /**
   * The digest of the protected eval files (path, sha256) the phase loaded (`protectedDigest`). A
   * worker thread checks that the files it loads are these: on the job queue, the worker data is
   * part of the job id and of the key of a long-lived worker's thread pool, so an edited eval set
   * gives new jobs and new threads, never a thread still holding the old index.
   */
  protectedDigest?: string;
}

/** The digest of the protected eval files loaded (their paths and sha256, in load order). */
export function protectedDigest(files: readonly { path: string; sha256: string }[]): string {
  return sha256(JSON.stringify(files.map((f) => [f.path, f.sha256])));
}

/**
 * The screen options in a worker thread: as `screenOptions`, refusing when the protected eval files
 * are no longer the ones the phase loaded (edited while it ran).
 */
export async function workerScreenOptions(data: ScreenWorkerData): Promise<ScreenOptions> {
  const { opts, prot } = await screenOptions(data);
  if (data.protectedDigest !== undefined && protectedDigest(prot.files) !== data.protectedDigest)
    throw new Error('screen: the protected eval sets (eval_sets) changed while screen ran; run screen again');
  return opts;
}

/** The screen options for a project (secret allowlist, protected eval sets). */
export async function screenOptions(data: ScreenWorkerData): Promise<{
  opts: ScreenOptions;
  prot: Awaited<ReturnType<typeof loadProtected>>;
  sets: ReturnType<typeof protectedSets>;
}> {
  const sets = protectedSets(data.config.eval_sets);
  const prot = await loadProtected(data.root, sets);
  return { opts: { allow: new Set(data.config.secret_allowlist), protectedIndex: prot.index }, prot, sets };
}

/**
 * One unit result as cache lines (tasks/lib/line-cache.ts), in two entries per input file: the
 * `unit` line that pass 1 reads — `D`, the JSON-quoted sort key, the unit's day and the drop row;
 * or `K`, the JSON-quoted id, kind, output file, the JSON of PII counts and dedup features, and the
 * shingle hashes in base64 — and, for a kept unit, the `payload` line that pass 2 reads: the
 * JSON-quoted id, kind, output file, day, the JSON of its drop fields and the published JSON last. (Fields are
 * tab-separated: JSON text never holds a raw tab, nor do kinds and output file names.)
 */
export function encodeUnitLines(r: UnitLines): { unit: string; payload: string | null } {
  if (r.type === 'drop') return { unit: `D\t${JSON.stringify(r.key)}\t${r.day}\t${r.row}`, payload: null };
  const f = r.features;
  const shingles = Buffer.from(f.shingles.buffer, f.shingles.byteOffset, f.shingles.byteLength).toString(
    'base64',
  );
  const id = JSON.stringify(r.id);
  return {
    unit: `K\t${id}\t${r.kind}\t${r.file}\t${JSON.stringify({ pii: r.pii, at: f.at, cls: f.cls, exact: f.exact, bands: bandsToText(f.bands) })}\t${shingles}`,
    payload: `${id}\t${r.kind}\t${r.file}\t${dayOf(f.at)}\t${JSON.stringify(r.drop)}\t${r.json}`,
  };
}

/** A `unit` line of `encodeUnitLines` back to the unit's summary. */
export function decodeUnitLine(line: string): UnitSummary {
  const t1 = line.indexOf('\t', 2);
  if (line.startsWith('D\t')) {
    const t2 = line.indexOf('\t', t1 + 1);
    return {
      type: 'drop',
      key: JSON.parse(line.slice(2, t1)) as string,
      day: line.slice(t1 + 1, t2),
      row: line.slice(t2 + 1),
    };
  }
  const t2 = line.indexOf('\t', t1 + 1);
  const t3 = line.indexOf('\t', t2 + 1);
  const t4 = line.indexOf('\t', t3 + 1);
  const id = JSON.parse(line.slice(2, t1)) as string;
  const head = JSON.parse(line.slice(t3 + 1, t4)) as {
    pii: Record<PiiType, number>;
    at: string | null;
    cls: string;
    exact: string;
    bands: string;
  };
  const bytes = Buffer.from(line.slice(t4 + 1), 'base64');
  const shingles = new Uint32Array(bytes.length / 4);
  new Uint8Array(shingles.buffer).set(bytes);
  return {
    type: 'keep',
    id,
    kind: line.slice(t1 + 1, t2) as ScreenUnit['kind'],
    file: line.slice(t2 + 1, t3),
    pii: head.pii,
    features: {
      id,
      at: head.at,
      cls: head.cls,
      exact: head.exact,
      bands: bandsFromText(head.bands),
      shingles,
    },
  };
}

/** A kept unit's `payload` line read in screen's pass 2: its id, kind, output file, day and published JSON, and its drop fields on demand. */
export interface KeptLine {
  id: string;
  kind: ScreenUnit['kind'];
  file: string;
  day: string;
  json: string;
  drop: () => DropFields;
}

/** Reads a `payload` line of `encodeUnitLines`. */
export function keptLine(line: string): KeptLine {
  const t = [line.indexOf('\t')];
  for (let i = 1; i < 5; i++) t.push(t[i - 1] === -1 ? -1 : line.indexOf('\t', (t[i - 1] as number) + 1));
  const [t1, t2, t3, t4, t5] = t as [number, number, number, number, number];
  if (t5 === -1)
    throw new Error(
      `screen cache: a payload line has ${t.filter((x) => x !== -1).length + 1} of its 6 fields`,
    );
  return {
    id: JSON.parse(line.slice(0, t1)) as string,
    kind: line.slice(t1 + 1, t2) as ScreenUnit['kind'],
    file: line.slice(t2 + 1, t3),
    day: line.slice(t3 + 1, t4),
    json: line.slice(t5 + 1),
    drop: () => JSON.parse(line.slice(t4 + 1, t5)) as DropFields,
  };
}
