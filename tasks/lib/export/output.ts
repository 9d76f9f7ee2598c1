import type { Provenance } from '../../../schemas/provenance.ts';
import type { StagedFile } from '../phase-shell.ts';
import { bump, sortedCounts } from '../phase.ts';
import { UserError } from '../result.ts';
import { quarantineRow } from '../quarantine.ts';
import type { StagedDir } from '../staged-dir.ts';
import { ExternalSorter } from '../external-sort.ts';
import { rescanFiles, rescanMessage } from '../safety/rescan.ts';
import { SPLITS, type Split } from './split.ts';

/** Name of every export's quarantine file, inside the export's own folder. */
export const QUARANTINE_FILE = '_quarantine.jsonl';

/** A row an exporter did not export, with its reason code and where it came from. */
export interface ExportDrop {
  reason: string;
  detail: string;
  provenance: Provenance;
  /** Id of the dropped unit: run_id, evidence_id, or a candidate pair id. */
  record: string;
  trace: string | null;
  ref: string | null;
  /** True for a refused candidate pair (not a whole unit): the units may still be exported otherwise. */
  candidate?: boolean;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts rows by `id` (code-unit order), the order of every export file. */
export function sortById<T extends { id: string }>(rows: T[]): T[] {
  return rows.sort((a, b) => cmp(a.id, b.id));
}

/** Rows of each split, in the order given. */
export function bySplit<T extends { split: Split }>(rows: readonly T[]): Record<Split, T[]> {
  return { train: rows.filter((r) => r.split === 'train'), test: rows.filter((r) => r.split === 'test') };
}

/** Writes rows to one JSONL file of the staged folder (an empty list still creates the file). */
export async function writeRows(staged: StagedDir, rel: string, rows: readonly unknown[]): Promise<void> {
  const w = staged.writer(rel);
  for (const r of rows) await w.write(r);
}

/** Writes `<prefix>/train.jsonl` and `<prefix>/test.jsonl`, converting each row. */
export async function writeSplits<T extends { split: Split }>(
  staged: StagedDir,
  prefix: string,
  rows: readonly T[],
  convert: (r: T) => unknown,
): Promise<void> {
  const parts = bySplit(rows);
  for (const s of SPLITS) await writeRows(staged, `${prefix}/${s}.jsonl`, parts[s].map(convert));
}

/** The quarantine row of an export drop. */
function exportDropRow(d: ExportDrop, stage: string) {
  const p = d.provenance;
  return quarantineRow(
    {
      reason: d.reason,
      detail: d.detail,
      file: p.source_file,
      index: p.line_offset,
      offset: null,
      bytes: null,
      lineSha: null,
      sig: p.sig_hash,
      record: d.record,
      trace: d.trace,
      ref: d.ref,
    },
    stage,
  );
}

/** Writes the quarantine file (sorted by record, reason, ref) and returns counts by reason. */
export async function writeQuarantine(
  staged: StagedDir,
  stage: string,
  drops: readonly ExportDrop[],
): Promise<Record<string, number>> {
  const sorted = [...drops].sort(
    (a, b) =>
      cmp(a.record, b.record) ||
      cmp(a.reason, b.reason) ||
      cmp(a.ref ?? '', b.ref ?? '') ||
      cmp(a.detail, b.detail),
  );
  const byReason: Record<string, number> = {};
  const w = staged.writer(QUARANTINE_FILE);
  for (const d of sorted) {
    bump(byReason, d.reason);
    await w.write(exportDropRow(d, stage));
  }
  return sortedCounts(byReason);
}

/**
 * The quarantine of an export, built by streaming: drops go to an external sort by (record,
 * reason, ref, detail), the order `writeQuarantine` writes. Fields never hold a NUL (build-evidence
 * refuses one in any string), so NUL-joined keys sort like the tuple.
 */
export class QuarantineSorter {
  private readonly sorter: ExternalSorter;
  private readonly byReason: Record<string, number> = {};
  private readonly byCandidate: Record<string, number> = {};

  constructor(
    dir: string,
    private readonly stage: string,
  ) {
    this.sorter = new ExternalSorter(dir, 'quarantine', 4 * 1024 * 1024);
  }

  /** Drops added so far. */
  get size(): number {
    return this.sorter.size;
  }

  /** Counts by reason of the drops added: whole units, and refused candidate pairs. */
  counts(): { units: Record<string, number>; candidates: Record<string, number> } {
    return { units: sortedCounts(this.byReason), candidates: sortedCounts(this.byCandidate) };
  }

  async add(d: ExportDrop): Promise<void> {
    bump(d.candidate ? this.byCandidate : this.byReason, d.reason);
    await this.sorter.add(
      `${d.record}\u0000${d.reason}\u0000${d.ref ?? ''}\u0000${d.detail}`,
      JSON.stringify(exportDropRow(d, this.stage)),
    );
  }

  /** Writes the quarantine file; returns counts by reason over every row (as `writeQuarantine`). */
  async write(staged: StagedDir): Promise<Record<string, number>> {
    const all: Record<string, number> = {};
    const w = staged.writer(QUARANTINE_FILE);
    for await (const { key, line } of this.sorter.sorted()) {
      const a = key.indexOf('\u0000');
      bump(all, key.slice(a + 1, key.indexOf('\u0000', a + 1)));
      await w.writeLine(line);
    }
    return sortedCounts(all);
  }
}

/** One format folder of an export file family. */
export interface FormatOut<T> {
  prefix: string;
  /** The row in this format, or null when the format cannot hold it (the row is left out here). */
  convert: (r: T) => unknown;
  /**
   * The format allows no extra key, so rows carry no id: write `<prefix>/<split>.ids.jsonl`
   * beside each split file, line n = `{"line": n, "id": ...}` for line n (1-based) of the split
   * file; `distill trace <file>:<line>` reads it.
   */
  idSidecar?: boolean;
}

/** Name of the id sidecar of a split file. */
export function idSidecarPath(prefix: string, split: Split): string {
  return `${prefix}/${split}.ids.jsonl`;
}

/**
 * Rows of one export file family, written in id order in one pass: the canonical file plus a
 * converted row per format folder and split (`<prefix>/<split>.jsonl`), and id sidecars where a
 * format asks for them. Every file is created, even when it gets no row. Returns the rows written
 * per file (relative path → rows), for the self-check.
 */
export async function fanOutSorted<T extends { id: string; split: Split }>(
  staged: StagedDir,
  rows: ExternalSorter,
  canonical: string,
  formats: readonly FormatOut<T>[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = { [canonical]: 0 };
  const w = staged.writer(canonical);
  for (const f of formats)
    for (const s of SPLITS) {
      staged.writer(`${f.prefix}/${s}.jsonl`);
      counts[`${f.prefix}/${s}.jsonl`] = 0;
      if (f.idSidecar) {
        staged.writer(idSidecarPath(f.prefix, s));
        counts[idSidecarPath(f.prefix, s)] = 0;
      }
    }
  for await (const { line } of rows.sorted()) {
    await w.writeLine(line);
    counts[canonical] = (counts[canonical] ?? 0) + 1;
    const r = JSON.parse(line) as T;
    for (const f of formats) {
      const out = f.convert(r);
      if (out === null) continue;
      const rel = `${f.prefix}/${r.split}.jsonl`;
      await staged.writer(rel).write(out);
      const n = ++(counts[rel] as number);
      if (f.idSidecar) {
        await staged.writer(idSidecarPath(f.prefix, r.split)).write({ line: n, id: r.id });
        counts[idSidecarPath(f.prefix, r.split)] = n;
      }
    }
  }
  return counts;
}

/**
 * The exports' last check before publishing (the phase shell's `beforePublish`): every staged file
 * is rescanned with the second secret engine (secretlint); any hit stops the publish.
 */
export function rescanExport(
  dir: string,
  allowlist: readonly string[],
): (files: readonly StagedFile[]) => Promise<void> {
  return async (files) => {
    const hits = await rescanFiles(files, new Set(allowlist));
    if (hits.length > 0) throw new UserError('SECRET_IN_EXPORT', rescanMessage(dir, hits));
  };
}
