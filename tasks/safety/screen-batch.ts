import type { DistillConfig } from '../../schemas/config.ts';
import type { EvidenceRecord } from '../../schemas/evidence-record.ts';
import type { ScoredRun } from '../../schemas/scored-run.ts';
import { bump } from '../lib/phase.ts';
import { quarantineRow } from '../lib/quarantine.ts';
import { scoredPartition } from '../score.ts';
import { dedupFeatures, type DedupFeatures } from './dedup-spill.ts';
import type { PiiType } from './pii.ts';
import { loadProtected, protectedSets } from './protected-sets.ts';
import { screenOne, textOf, unitId, type ScreenDrop, type ScreenOptions, type ScreenUnit } from './screen-core.ts';

/**
 * Steps 1–4 of the screen phase over a batch of input rows, as plain data that crosses a worker
 * boundary: drop rows and kept records as the lines the phase sorts and publishes, plus each kept
 * unit's dedup features. Pure (the same batch gives the same result on any thread).
 */

/** Files of the screened documents and judgments, inside data/screened. */
export const SCREENED_DOCUMENTS = 'evidence/documents.jsonl';
export const SCREENED_JUDGMENTS = 'evidence/judgments.jsonl';

/** The quarantine row of a dropped unit. */
export function dropRow(d: ScreenDrop) {
  const u = d.unit;
  const p = u.record.provenance;
  const trace = u.kind === 'run' ? u.record.run_id : u.record.trace_id;
  return quarantineRow({ reason: d.reason, detail: d.detail, file: p.source_file, index: p.line_offset, offset: null, bytes: null, lineSha: null, sig: p.sig_hash, record: unitId(u), trace, ref: d.ref }, 'screen');
}

/** The result of steps 1–4 for one unit, as lines ready for the sorts (no objects kept). */
export type UnitLines =
  | { type: 'drop'; key: string; row: string }
  | { type: 'keep'; id: string; payload: string; features: DedupFeatures; pii: Record<PiiType, number> };

/**
 * One unit → its drop row (sort key `<id>\0<reason>`), or its kept record
 * (`<kind>\t<output file>\t<json>`, the JSON being exactly what is published) and its dedup features.
 */
export function screenUnitLines(u: ScreenUnit, opts: ScreenOptions, stats: Record<string, number>): UnitLines {
  const r = screenOne(u, opts, stats);
  if (r.type === 'drop') return { type: 'drop', key: `${unitId(r.drop.unit)}\u0000${r.drop.reason}`, row: JSON.stringify(dropRow(r.drop)) };
  const k = r.unit;
  const id = unitId(k);
  const file = k.kind === 'run' ? `runs/${scoredPartition(k.record)}` : k.kind === 'document' ? SCREENED_DOCUMENTS : SCREENED_JUDGMENTS;
  const t = textOf(k);
  return { type: 'keep', id, payload: `${k.kind}\t${file}\t${JSON.stringify(k.record)}`, features: dedupFeatures({ id, cls: t.cls, full: t.full, body: t.body }), pii: r.pii };
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
}

/** The screen options for a project (secret allowlist, protected eval sets). */
export async function screenOptions(data: ScreenWorkerData): Promise<{ opts: ScreenOptions; prot: Awaited<ReturnType<typeof loadProtected>>; sets: ReturnType<typeof protectedSets> }> {
  const sets = protectedSets(data.config.eval_sets);
  const prot = await loadProtected(data.root, sets);
  return { opts: { allow: new Set(data.config.secret_allowlist), protectedIndex: prot.index }, prot, sets };
}

/**
 * One unit result as one cache line (tasks/lib/line-cache.ts): `D`, the JSON-quoted sort key and
 * the drop row; or `K`, the JSON of id, PII counts and dedup features, the shingle hashes in
 * base64, and the kept payload last (it holds tabs; JSON text never holds a raw one).
 */
export function encodeUnitLines(r: UnitLines): string {
  if (r.type === 'drop') return `D\t${JSON.stringify(r.key)}\t${r.row}`;
  const f = r.features;
  const shingles = Buffer.from(f.shingles.buffer, f.shingles.byteOffset, f.shingles.byteLength).toString('base64');
  return `K\t${JSON.stringify({ id: r.id, pii: r.pii, cls: f.cls, exact: f.exact, bands: f.bands })}\t${shingles}\t${r.payload}`;
}

/** The inverse of `encodeUnitLines`. */
export function decodeUnitLines(line: string): UnitLines {
  const t1 = line.indexOf('\t', 2);
  if (line.startsWith('D\t')) return { type: 'drop', key: JSON.parse(line.slice(2, t1)) as string, row: line.slice(t1 + 1) };
  const t2 = line.indexOf('\t', t1 + 1);
  const head = JSON.parse(line.slice(2, t1)) as { id: string; pii: Record<PiiType, number>; cls: string; exact: string; bands: number[] };
  const bytes = Buffer.from(line.slice(t1 + 1, t2), 'base64');
  const shingles = new Uint32Array(bytes.length / 4);
  new Uint8Array(shingles.buffer).set(bytes);
  return { type: 'keep', id: head.id, payload: line.slice(t2 + 1), pii: head.pii, features: { id: head.id, cls: head.cls, exact: head.exact, bands: head.bands, shingles } };
}
