import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledFingerprint } from './compiled.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let cached: string | null = null;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...tsFiles(p));
    // as bin/precompile.js lists them (its fingerprint of a build must equal this one)
    else if (ent.name.endsWith('.ts') && !ent.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * sha256 over the TypeScript sources of tasks/ and schemas/ (paths and contents): a cache written
 * by one version of the code is never read by another. For caches only, never for datasets.
 */
export function codeFingerprint(): string {
  if (cached) return cached;
  // compiled code (the launcher): the fingerprint of the bytes it was compiled from, not of the
  // sources now (edited since, they would name code this process does not run)
  cached = compiledFingerprint();
  if (cached) return cached;
  const h = createHash('sha256');
  for (const dir of ['tasks', 'schemas']) {
    for (const f of tsFiles(join(REPO, dir))) {
      h.update(`${f.slice(REPO.length)}\u0000`);
      h.update(readFileSync(f));
    }
  }
  cached = h.digest('hex');
  return cached;
}
