import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FileEntry } from '../../schemas/stage-receipt.ts';
import { UserError } from './result.ts';
import { recoverPublish } from './staged-dir.ts';

/** Name of the deterministic manifest every phase writes into its output folder. */
export const MANIFEST = '_manifest.json';

/** A lock-style manifest: what a phase wrote, from what, with which parameters. No timestamps. */
export const Manifest = z.strictObject({
  schema_version: z.literal(1),
  phase: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  schema_versions: z.record(z.string(), z.number().int()),
  inputs: z.array(FileEntry),
  files: z.array(FileEntry),
  counts: z.record(z.string(), z.number()),
});
export type Manifest = z.infer<typeof Manifest>;

/** Serializes a manifest deterministically (sorted file lists are the caller's job). */
export function manifestText(m: Manifest): string {
  return `${JSON.stringify(Manifest.parse(m), null, 2)}\n`;
}

/** Reads a phase's manifest; a missing one means the upstream phase has not been built. */
export async function readManifest(root: string, outDir: string, upstreamCommand: string): Promise<Manifest> {
  const path = join(root, outDir, MANIFEST);
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch {
    // a run killed between the two renames of its publish leaves its previous output in .distill/trash
    await recoverPublish(root, outDir);
    try {
      text = await fsp.readFile(path, 'utf8');
    } catch {
      throw new UserError(
        'UPSTREAM_MISSING',
        `${outDir}/${MANIFEST} not found: build it first with \`${upstreamCommand}\``,
      );
    }
  }
  const res = Manifest.safeParse(JSON.parse(text));
  if (!res.success)
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${outDir}/${MANIFEST} is invalid (${res.error.issues[0]?.message}); rebuild with \`${upstreamCommand}\``,
    );
  return res.data;
}

/** The data files of a manifest (no `_` files such as quarantine or health), sorted by path. */
export function dataFiles(m: Manifest): FileEntry[] {
  return m.files
    .filter((f) => !f.path.includes('/_'))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
