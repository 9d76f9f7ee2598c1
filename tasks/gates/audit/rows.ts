import { join } from 'node:path';
import { fileLines } from '../../lib/jsonl-read.ts';
import { KTO_FAMILY, PAIR_FAMILY } from '../../phases/export-preference/contract.ts';
import { SFT_FAMILY } from '../../phases/export-sft/contract.ts';
import { familyFiles } from '../../lib/export/shards.ts';
import { EXPORT_DIRS } from '../../phases/registry.ts';
import { MANIFEST, Manifest } from '../../lib/manifest.ts';
import type { AuditContext } from './check-list.ts';
import { readJson } from '../../run/run-reports.ts';

/** One line of a JSONL file this project wrote: its parsed value, or why it does not parse. 1-based line. */
export type RowRead = { line: number; ok: true; value: unknown } | { line: number; ok: false; error: string };

/**
 * Streams the lines of a project-written JSONL file without trusting it: a line that is not JSON,
 * or is blank, is returned as an error with its 1-based line number instead of throwing.
 */
export async function* readRows(root: string, rel: string): AsyncGenerator<RowRead> {
  const rl = fileLines(join(root, rel));
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') {
      yield { line, ok: false, error: 'blank line (this project never writes one)' };
      continue;
    }
    try {
      yield { line, ok: true, value: JSON.parse(text) };
    } catch (e) {
      yield { line, ok: false, error: `not JSON (${(e as Error).message})` };
    }
  }
}

/** A phase folder's manifest, read without side effects (no publish recovery): the manifest, or why it is unusable. */
export async function phaseManifest(
  root: string,
  dir: string,
): Promise<{ ok: true; value: Manifest } | { ok: false; error: string }> {
  return readJson(root, `${dir}/${MANIFEST}`, Manifest);
}

/** The data files of a manifest: not `_manifest.json`, `_health.json`, `_summary.json` or quarantine (no `/_` in the path). */
export function dataFilesOf(m: Manifest): string[] {
  return m.files.filter((f) => !f.path.includes('/_')).map((f) => f.path);
}

/** The training exports ([folder, family]) the training and leak checks read: SFT, SFT with partials, DPO pairs, KTO rows. */
export const TRAINING_FILES: readonly (readonly [string, string])[] = [
  [EXPORT_DIRS.sft, SFT_FAMILY],
  [EXPORT_DIRS.sftPartial, SFT_FAMILY],
  [EXPORT_DIRS.preference, PAIR_FAMILY],
  [EXPORT_DIRS.preference, KTO_FAMILY],
];

/**
 * The files of an export family `<dir>/<family>` (one per day shard, `<dir>/<family>/<shard>.jsonl`)
 * as its folder's manifest lists them, in shard order. When the manifest cannot be read, the family
 * path itself, so that reading it fails with the reason.
 */
export async function familyPaths(root: string, dir: string, family: string): Promise<string[]> {
  const m = await phaseManifest(root, dir);
  if (!m.ok) return [`${dir}/${family}`];
  return familyFiles(m.value.files, dir, family).map((f) => f.path);
}

/** The active pipeline phase writing `dir`, or undefined when it is not part of this pipeline. */
export const activePhase = (ctx: AuditContext, dir: string) => ctx.phases.find((p) => p.outDir === dir);
