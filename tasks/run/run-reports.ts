import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import type { z } from 'zod';
import { DriftReport } from '../../schemas/drift-report.ts';
import { RunSummary } from '../../schemas/run-summary.ts';
import { StageReceipt, type FileEntry } from '../../schemas/stage-receipt.ts';
import { Manifest, MANIFEST } from '../lib/manifest.ts';
import { REPORTS_DIR } from '../lib/receipts.ts';

/**
 * Reading the run reports under reports/distillation/: one folder per run id holding
 * `<phase>.receipt.json`, and for a run-all also `summary.json` and `drift.json`.
 */

/** Name of a run-all's summary file inside its run folder. */
export const SUMMARY_FILE = 'summary.json';
/** Name of a run-all's drift report inside its run folder. */
export const DRIFT_FILE = 'drift.json';

/** Path of a run's receipt of a phase, relative to the root. */
export function receiptPath(runId: string, phase: string): string {
  return `${REPORTS_DIR}/${runId}/${phase}.receipt.json`;
}

/** Path of a report file of a run, relative to the root. */
export function runFile(runId: string, file: string): string {
  return `${REPORTS_DIR}/${runId}/${file}`;
}

/** A JSON file checked against a schema: the value, or why it is unusable. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Reads a JSON file relative to the root and checks it against a schema. */
export async function readJson<T>(root: string, rel: string, schema: z.ZodType<T>): Promise<Loaded<T>> {
  let text: string;
  try {
    text = await fsp.readFile(join(root, rel), 'utf8');
  } catch (e) {
    return {
      ok: false,
      error: `${rel} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${rel} is not valid JSON (${(e as Error).message})` };
  }
  const res = schema.safeParse(raw);
  if (!res.success) {
    const is = res.error.issues[0];
    return {
      ok: false,
      error: `${rel} does not match its schema at $.${is?.path.join('.')}: ${is?.message}`,
    };
  }
  return { ok: true, value: res.data };
}

/** Reads a receipt (relative path). */
export function readReceipt(root: string, rel: string): Promise<Loaded<StageReceipt>> {
  return readJson(root, rel, StageReceipt);
}

/** Reads a run's summary.json. */
export function readSummary(root: string, runId: string): Promise<Loaded<RunSummary>> {
  return readJson(root, runFile(runId, SUMMARY_FILE), RunSummary);
}

/** Reads a run's drift.json. */
export function readDrift(root: string, runId: string): Promise<Loaded<DriftReport>> {
  return readJson(root, runFile(runId, DRIFT_FILE), DriftReport);
}

/** The files a phase's `_manifest.json` lists now, or null when it is missing or invalid. */
export async function manifestFiles(root: string, outDir: string): Promise<FileEntry[] | null> {
  const res = await readJson(root, `${outDir}/${MANIFEST}`, Manifest);
  return res.ok ? res.value.files : null;
}

/** Every run folder's id, sorted (ids sort by start time); `latest` and dot-files excluded. */
export async function runIds(root: string): Promise<string[]> {
  let names: import('node:fs').Dirent[];
  try {
    names = await fsp.readdir(join(root, REPORTS_DIR), { withFileTypes: true });
  } catch {
    return [];
  }
  return names
    .filter((d) => d.isDirectory() && d.name !== 'latest' && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/** Ids of the runs that have a summary.json (run-all runs), sorted. */
export async function summaryRunIds(root: string): Promise<string[]> {
  return (await runIds(root)).filter((id) => existsSync(join(root, runFile(id, SUMMARY_FILE))));
}

/**
 * The baseline for drift: the most recent successful run-all other than `exceptRunId`, by run id
 * order (a failed run's partial counts would make every metric look like it moved), or null.
 */
export async function previousSummary(root: string, exceptRunId: string): Promise<RunSummary | null> {
  const ids = (await summaryRunIds(root)).filter((id) => id !== exceptRunId);
  for (const id of ids.reverse()) {
    const s = await readSummary(root, id);
    if (s.ok && s.value.ok) return s.value;
  }
  return null;
}

/** True when two file lists name the same paths with the same sha256 and size. */
export function sameFiles(a: readonly FileEntry[], b: readonly FileEntry[]): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(b.map((f) => [f.path, f]));
  return a.every((f) => {
    const g = m.get(f.path);
    return g !== undefined && g.sha256 === f.sha256 && g.bytes === f.bytes;
  });
}

/**
 * The receipt that describes the outputs a phase has on disk now (`files`, from its manifest): a
 * successful receipt whose outputs are exactly those files. Tries the run of the phase's latest
 * receipt first, then every run folder newest first (wireit may have restored older outputs from
 * its cache). Returns the run-folder path, never `latest/`, or null when no receipt matches.
 */
export async function receiptForOutputs(
  root: string,
  phase: string,
  files: readonly FileEntry[],
): Promise<{ path: string; receipt: StageReceipt } | null> {
  const latest = await readReceipt(root, `${REPORTS_DIR}/latest/${phase}.receipt.json`);
  const ids = (await runIds(root)).reverse();
  const order = latest.ok ? [latest.value.run_id, ...ids.filter((id) => id !== latest.value.run_id)] : ids;
  for (const id of order) {
    const rel = receiptPath(id, phase);
    if (!existsSync(join(root, rel))) continue;
    const r = await readReceipt(root, rel);
    if (r.ok && r.value.ok && r.value.phase === phase && sameFiles(r.value.outputs, files))
      return { path: rel, receipt: r.value };
  }
  // A wireit cache restore (e.g. a fresh CI checkout) brings back the outputs and the phase's
  // `latest/` receipt (both are in the script's `output`), but not the run folder it was first
  // written to: put that copy back, so the summary can point at a receipt that stays.
  if (
    latest.ok &&
    latest.value.ok &&
    latest.value.phase === phase &&
    sameFiles(latest.value.outputs, files)
  ) {
    const rel = receiptPath(latest.value.run_id, phase);
    await writeFileAtomic(join(root, rel), `${JSON.stringify(latest.value, null, 2)}\n`);
    return { path: rel, receipt: latest.value };
  }
  return null;
}
