import type { Provenance } from '../../../schemas/provenance.ts';
import type { StagedFile } from '../phase-shell.ts';
import { bump, sortedCounts } from '../phase.ts';
import { UserError } from '../result.ts';
import { quarantineRow } from '../quarantine.ts';
import type { StagedDir } from '../staged-dir.ts';
import { ExternalSorter } from '../external-sort.ts';
import { rescanFiles, rescanMessage } from '../safety/rescan.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { sha256 } from '../hash.ts';
import { previousLines } from '../previous-output.ts';
import { SPLITS, type Split } from './split.ts';
import { familyShard, quarantineShard, sidecarShard, sortedShards, splitShard } from './shards.ts';

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

const quarantineKey = (shard: string, record: string, reason: string, ref: string | null, detail: string) =>
  `${shard}\u0000${record}\u0000${reason}\u0000${ref ?? ''}\u0000${detail}`;

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

  /** Adds a drop to the quarantine of `shard`. */
  async add(d: ExportDrop, shard: string): Promise<void> {
    bump(d.candidate ? this.byCandidate : this.byReason, d.reason);
    await this.sorter.add(quarantineKey(shard, d.record, d.reason, d.ref, d.detail), this.lineOf(d));
  }

  /** The row a drop is written as (its JSONL line). */
  lineOf(d: ExportDrop): string {
    return JSON.stringify(exportDropRow(d, this.stage));
  }

  /**
   * Adds a row written by an earlier build (its line, unchanged) to the quarantine of `shard`, in
   * the place `add` would have put it; not counted by reason (the caller keeps those counts).
   */
  async addWritten(
    row: { record_id: string; reason: string; ref: string | null; detail: string },
    line: string,
    shard: string,
  ): Promise<void> {
    await this.sorter.add(quarantineKey(shard, row.record_id, row.reason, row.ref, row.detail), line);
  }

  /**
   * Writes `_quarantine/<shard>.jsonl` for every shard in `shards` (empty ones too; a drop's shard
   * must be one of them); returns counts by reason over every row written.
   */
  async write(staged: StagedDir, shards: readonly string[]): Promise<Record<string, number>> {
    const all: Record<string, number> = {};
    const open = new Set(shards);
    for (const s of shards) staged.writer(quarantineShard(s));
    for await (const { key, line } of this.sorter.sorted()) {
      const s = key.slice(0, key.indexOf('\u0000'));
      if (!open.has(s)) throw new Error(`a quarantine row of shard ${s}, which this build does not write`);
      const a = key.indexOf('\u0000', s.length + 1);
      bump(all, key.slice(a + 1, key.indexOf('\u0000', a + 1)));
      await staged.writer(quarantineShard(s)).writeLine(line);
    }
    await staged.closeWriters(shards.map(quarantineShard));
    return sortedCounts(all);
  }
}

/** One format folder of an export file family. */
export type FormatOut<T> = {
  prefix: string;
  /**
   * The format allows no extra key, so rows carry no id: write `<prefix>/ids/<split>/<shard>.jsonl`
   * beside each shard file, line n = `{"line": n, "id": ...}` for line n (1-based) of the shard
   * file; `distill trace <file>:<line>` reads it.
   */
  idSidecar?: boolean;
} & (
  | {
      /** The row in this format, or null when the format cannot hold it (the row is left out here). */
      convert: (r: T) => unknown;
    }
  | {
      /**
       * The prefix of an earlier format of the same family whose rows this one writes as they are
       * (`hf/` repeats `trl/`): the row is converted and serialized once and written to both.
       */
      sameRowsAs: string;
    }
);

/** Every file of one shard of a file family (canonical, each format's split files and sidecars). */
export function familyShardFiles<T>(
  family: string,
  formats: readonly FormatOut<T>[],
  shard: string,
): string[] {
  const out = [familyShard(family, shard)];
  for (const f of formats)
    for (const s of SPLITS) {
      out.push(splitShard(f.prefix, s, shard));
      if (f.idSidecar) out.push(sidecarShard(f.prefix, s, shard));
    }
  return out;
}

/** A row in one format as its JSONL line, or null when the format cannot hold it. */
function convertLine<T>(convert: (r: T) => unknown, r: T): string | null {
  const out = convert(r);
  return out === null ? null : JSON.stringify(out);
}

/**
 * Rows of one export file family, written shard by shard in one pass over `rows` (an external sort
 * keyed `<shard>\0<id>`): per shard the canonical file `<family>/<shard>.jsonl` plus a converted
 * row per format and split (`<prefix>/<split>/<shard>.jsonl`), and id sidecars where a format asks
 * for them. Every file of every shard in `shards` is created, even when it gets no row; a shard's
 * files are closed before the next one opens. Returns the rows written per file, for the self-check.
 */
export async function fanOutSharded<T extends { id: string; split: Split }>(
  staged: StagedDir,
  rows: ExternalSorter,
  family: string,
  formats: readonly FormatOut<T>[],
  shards: readonly string[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const open = (shard: string): void => {
    for (const rel of familyShardFiles(family, formats, shard)) {
      staged.writer(rel);
      counts[rel] = 0;
    }
  };
  const close = async (shard: string): Promise<void> => {
    await staged.closeWriters(familyShardFiles(family, formats, shard));
  };
  const todo = sortedShards(shards);
  /** The current row's line in each format written so far (null: left out there). */
  const lines = new Map<string, string | null>();
  let i = 0;
  let current: string | null = null;
  for await (const { key, line } of rows.sorted()) {
    const shard = key.slice(0, key.indexOf('\u0000'));
    if (shard !== current) {
      if (current !== null) await close(current);
      // shards without rows before this one
      while (i < todo.length && (todo[i] as string) < shard) {
        open(todo[i] as string);
        await close(todo[i] as string);
        i++;
      }
      if (todo[i] !== shard) throw new Error(`a row of shard ${shard}, which this build does not write`);
      i++;
      current = shard;
      open(shard);
    }
    const canonical = familyShard(family, shard);
    await staged.writer(canonical).writeLine(line);
    counts[canonical] = (counts[canonical] ?? 0) + 1;
    const r = JSON.parse(line) as T;
    lines.clear();
    for (const f of formats) {
      const text = 'convert' in f ? convertLine(f.convert, r) : lines.get(f.sameRowsAs);
      if (text === undefined) throw new Error(`format ${f.prefix} repeats a format not written before it`);
      lines.set(f.prefix, text);
      if (text === null) continue;
      const rel = splitShard(f.prefix, r.split, shard);
      await staged.writer(rel).writeLine(text);
      const n = ++(counts[rel] as number);
      if (f.idSidecar) {
        const side = sidecarShard(f.prefix, r.split, shard);
        await staged.writer(side).write({ line: n, id: r.id });
        counts[side] = n;
      }
    }
  }
  if (current !== null) await close(current);
  for (; i < todo.length; i++) {
    open(todo[i] as string);
    await close(todo[i] as string);
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
  reused: ReadonlySet<string> = new Set(),
  previous?: { root: string; files: readonly FileEntry[] },
): (files: readonly StagedFile[]) => Promise<void> {
  return async (files) => {
    // a reused shard was rescanned when it was written, and its sha256 was checked when it was linked
    const fresh = files.filter((f) => !reused.has(f.label.slice(dir.length + 1)));
    // a shard written again: the lines its published version already held (that version checked
    // against its manifest entry) were rescanned when they were written
    const byPath = new Map((previous?.files ?? []).map((e) => [e.path, e]));
    const scan: { path: string; label: string; sha256: string; known?: ReadonlySet<string> }[] = [];
    for (const f of fresh) {
      const entry = byPath.get(f.label);
      scan.push(entry && previous ? { ...f, known: await publishedLines(previous.root, entry) } : f);
    }
    const hits = await rescanFiles(scan, new Set(allowlist));
    if (hits.length > 0) throw new UserError('SECRET_IN_EXPORT', rescanMessage(dir, hits));
  };
}

/** The sha256 of every line of a published file, or an empty set when it is not what its manifest entry says. */
async function publishedLines(root: string, entry: FileEntry): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    for await (const line of previousLines(root, entry, 'its manifest')) out.add(sha256(line));
  } catch {
    return new Set();
  }
  return out;
}
