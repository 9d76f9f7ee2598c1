import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../../lib/hash.ts';

/** The folder every export lives under. */
export const EXPORTS_ROOT = 'exports';

/** The combined hash of every export file, and what it covered. */
export interface ExportDigest {
  sha256: string;
  files: number;
  bytes: number;
}

/** Every file under `rel` (POSIX paths relative to root, byte-order sorted); none when it does not exist. */
async function listFiles(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (r: string): Promise<void> => {
    let ents;
    try {
      ents = await fsp.readdir(join(root, r), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && r === rel) return;
      throw e;
    }
    for (const e of ents) {
      const p = `${r}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  };
  await walk(rel);
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * sha256 over every file under exports/ (manifests and quarantine included), computed as
 * `sha256sum` lines (`<sha256>  <path>\n`) in byte order of the path, so anyone can reproduce it:
 * `find exports -type f | LC_ALL=C sort | xargs sha256sum | sha256sum`.
 */
export async function exportsDigest(root: string): Promise<ExportDigest> {
  const combined = createHash('sha256');
  let bytes = 0;
  const files = await listFiles(root, EXPORTS_ROOT);
  for (const rel of files) {
    bytes += (await fsp.stat(join(root, rel))).size;
    combined.update(`${await sha256File(join(root, rel))}  ${rel}\n`);
  }
  return { sha256: combined.digest('hex'), files: files.length, bytes };
}
