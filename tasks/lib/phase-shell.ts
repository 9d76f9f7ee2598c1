import type { FileEntry, StageCounts } from '../../schemas/stage-receipt.ts';
import type { WrittenFile } from './jsonl-writer.ts';
import { join } from 'node:path';
import { cacheFreeBytes, cacheRoomError, diskName, wireitLocalCache } from './disk.ts';
import { MANIFEST, manifestText } from './manifest.ts';
import { underWireit } from './stop.ts';
import type { PhaseResult } from './phase.ts';
import { Scratch } from './scratch.ts';
import { manifestEntries, StagedDir } from './staged-dir.ts';

/**
 * The phase shell: what every phase does around its own work, written once. It owns the scratch
 * folder, the staging folder and its atomic publish, the self-check of what was written (wireit
 * caches any exit 0, so a short or missing file must fail here), a phase's own last check of the
 * staged files (the exports' second-engine secret rescan), and the lock-style `_manifest.json`. `runPhase` (lib/phase.ts) adds the lock, the receipt,
 * the closing line and the exit code around it. A phase provides only a body that reads its inputs,
 * writes its files into `ctx.staged` and says what it wrote.
 */

/** Which phase, and the one folder it owns. */
export interface PhaseSpec {
  phase: string;
  outDir: string;
}

/** What the shell hands a phase body. */
export interface ShellContext {
  readonly root: string;
  readonly phase: string;
  readonly outDir: string;
  /** The output folder being built (published only if the body returns and every check holds). */
  readonly staged: StagedDir;
  /** Spill files, removed when the phase ends. */
  readonly scratch: Scratch;
  /**
   * Drops what was staged and starts over with an empty staging folder (a fast path that gave up);
   * the scratch folder is emptied too unless `keepScratch` (a retry that reuses a spill file).
   */
  restart(opts?: { keepScratch?: boolean }): Promise<void>;
}

/** A staged file: where it is now, and its name in messages (its path once published). */
export interface StagedFile {
  path: string;
  label: string;
  /** sha256 of the bytes written (the digest the manifest will publish). */
  sha256: string;
}

/** A self-check over several files: the rows of the files `match` selects add up to `rows`. */
export interface RowTotal {
  what: string;
  match: (rel: string) => boolean;
  rows: number;
}

/** What a phase body hands back: what it read and wrote, and what the shell must check. */
export interface PhaseOutput {
  parameters: Record<string, unknown>;
  schemaVersions: Record<string, number>;
  /** Every file it read (sorted by the shell). */
  inputs: FileEntry[];
  /** Rows each named file (relative to the output folder) must hold. */
  expectedRows?: Record<string, number>;
  /** Rows groups of files must hold together (day-partitioned files). */
  expectedTotals?: RowTotal[];
  /** The manifest's counts. */
  manifestCounts: Record<string, number>;
  /** The receipt's counts: rows in = out + quarantined, by reason. */
  counts: StageCounts;
  stats: Record<string, number>;
  /** The closing summary line, without the phase name. */
  summary: string;
  /** A last check of every staged file before the publish (the exports' secret rescan); throwing stops it. */
  beforePublish?: (files: readonly StagedFile[]) => Promise<void>;
  /** Runs after the publish (state for the next incremental build), with the manifest text and its files. */
  afterPublish?: (manifest: string, files: FileEntry[]) => Promise<void>;
}

const byPath = (a: FileEntry, b: FileEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The self-check failures of a staged folder (empty when every expectation holds). */
export function rowCheckFailures(
  outDir: string,
  written: ReadonlyMap<string, WrittenFile>,
  out: Pick<PhaseOutput, 'expectedRows' | 'expectedTotals'>,
): string[] {
  const problems: string[] = [];
  for (const [rel, rows] of Object.entries(out.expectedRows ?? {})) {
    const f = written.get(rel);
    if (!f) problems.push(`${outDir}/${rel} was not written`);
    else if (f.rows !== rows) problems.push(`${outDir}/${rel} has ${f.rows} rows, expected ${rows}`);
  }
  for (const t of out.expectedTotals ?? []) {
    let rows = 0;
    for (const [rel, f] of written) if (t.match(rel)) rows += f.rows ?? 0;
    if (rows !== t.rows) problems.push(`wrote ${rows} ${t.what}, counted ${t.rows}`);
  }
  return problems;
}

/**
 * Runs a phase body inside the shell: fresh scratch and staging folders; then the self-check,
 * the rescan, the manifest and the atomic publish. Any failure (the body's, or a check's) drops the
 * staging folder, so the previous outputs stay as they were.
 */
export async function stagedPhase(
  root: string,
  spec: PhaseSpec,
  body: (ctx: ShellContext) => Promise<PhaseOutput>,
): Promise<PhaseResult> {
  let scratch = await Scratch.create(root, spec.phase);
  let staged = await StagedDir.begin(root, spec.outDir);
  const ctx: ShellContext = {
    root,
    phase: spec.phase,
    outDir: spec.outDir,
    get staged() {
      return staged;
    },
    get scratch() {
      return scratch;
    },
    async restart(opts) {
      await staged.abort();
      if (!opts?.keepScratch) {
        await scratch.remove();
        scratch = await Scratch.create(root, spec.phase);
      }
      staged = await StagedDir.begin(root, spec.outDir);
    },
  };
  try {
    const out = await body(ctx);
    const written = await staged.closeAll();
    const problems = rowCheckFailures(spec.outDir, written, out);
    if (problems.length > 0)
      throw new Error(`self-check failed: ${problems.join('; ')}; nothing was published`);
    if (out.beforePublish)
      await out.beforePublish(
        [...written.keys()].sort().map((rel) => ({
          path: staged.stagedPath(rel),
          label: `${spec.outDir}/${rel}`,
          sha256: (written.get(rel) as WrittenFile).sha256,
        })),
      );
    const files = manifestEntries(spec.outDir, written);
    const manifest = manifestText({
      schema_version: 1,
      phase: spec.phase,
      parameters: out.parameters,
      schema_versions: out.schemaVersions,
      inputs: [...out.inputs].sort(byPath),
      files,
      counts: out.manifestCounts,
    });
    await staged.writeFile(MANIFEST, manifest);
    if (wireitLocalCache(underWireit())) {
      // wireit copies the outputs into .wireit/<script>/cache/ after we exit 0; a copy that meets a
      // full disk is "Internal error!" there and a partial cache entry: refuse before the publish
      const need = files.reduce((n, f) => n + f.bytes, 0) + Buffer.byteLength(manifest);
      const full = cacheRoomError(diskName(join(root, '.wireit')), cacheFreeBytes(root), need);
      if (full) throw full;
    }
    await staged.publish();
    if (out.afterPublish) await out.afterPublish(manifest, files);
    return {
      parameters: out.parameters,
      schemaVersions: out.schemaVersions,
      inputs: out.inputs,
      outputs: files,
      counts: out.counts,
      stats: out.stats,
      summary: out.summary,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  } finally {
    await scratch.remove();
  }
}
