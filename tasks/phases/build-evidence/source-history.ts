import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { EVIDENCE_DIR } from './contract.ts';
import { Manifest, MANIFEST } from '../../lib/manifest.ts';

/**
 * What the last published build-evidence read of each source: `{path, sha256, bytes}` from the
 * `inputs` of data/evidence/_manifest.json. `sha256` is the hash of exactly the first `bytes` bytes
 * (the snapshot read), so it doubles as the prefix hash a later run checks. Empty when there is no
 * previous build, or its manifest does not parse (then there is nothing to compare against).
 */
export async function previousInputs(root: string): Promise<Map<string, FileEntry>> {
  let text: string;
  try {
    text = await fsp.readFile(join(root, EVIDENCE_DIR, MANIFEST), 'utf8');
  } catch {
    return new Map();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return new Map();
  }
  const res = Manifest.safeParse(parsed);
  return res.success ? new Map(res.data.inputs.map((f) => [f.path, f])) : new Map();
}

/**
 * Why a source is no longer a superset of what the last build read (RELIABILITY.md §5 #18), or
 * null when it is: it must be at least as long and its first `prev.bytes` bytes must hash the
 * same. `prefixSha256` is the hash of the current file's first `prev.bytes` bytes (null when the
 * file is now shorter).
 */
export function sourceChange(
  prev: FileEntry | undefined,
  size: number,
  prefixSha256: string | null,
): string | null {
  if (!prev) return null;
  if (size < prev.bytes)
    return `the file is ${size} bytes now, but the last build read ${prev.bytes} bytes of it (truncated or rotated)`;
  if (prefixSha256 !== prev.sha256)
    return `its first ${prev.bytes} bytes changed since the last build (sha256 ${prev.sha256.slice(0, 12)}… then, ${(prefixSha256 ?? '?').slice(0, 12)}… now): rows were edited, removed or reordered`;
  return null;
}
