import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../lib/fs-atomic.ts';

/**
 * What a build killed or stopped by a full disk leaves behind, removed by begin-run before the
 * next build (docs/reliability.md, "Disk full in wireit's cache copy"):
 * - staging and scratch folders (`.distill/{staging,scratch}/*.tmp-<pid>`) and temp files of
 *   small atomic writes of processes that are gone;
 * - incomplete entries of wireit's local cache. wireit copies a script's outputs into
 *   `.wireit/<script-hex>/cache/<key>/` after it exits 0 and marks nothing when the copy is
 *   complete; a copy cut short (disk full, a kill) stays, and a later build whose inputs match
 *   that key would restore the partial copy as the outputs. An entry is complete when its
 *   `_manifest.json` parses and every file it lists is there with its size, and the receipt copy parses.
 */

/** A phase wireit caches: its npm script, the folder it owns and its receipt's phase name. */
export interface CachedPhase {
  script: string;
  outDir: string;
  phase: string;
}

interface ManifestLike {
  files?: { path?: unknown; bytes?: unknown }[];
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await fsp.readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True when a wireit cache entry holds the whole output of `p` (pure over the file system). */
export async function cacheEntryComplete(entry: string, p: CachedPhase): Promise<boolean> {
  const m = (await readJson(join(entry, p.outDir, '_manifest.json'))) as ManifestLike | undefined;
  if (!m || !Array.isArray(m.files)) return false;
  for (const f of m.files) {
    if (typeof f.path !== 'string' || typeof f.bytes !== 'number') return false;
    const st = await fsp.stat(join(entry, f.path)).catch(() => null);
    if (!st || !st.isFile() || st.size !== f.bytes) return false;
  }
  return (
    (await readJson(join(entry, 'reports/distillation/latest', `${p.phase}.receipt.json`))) !== undefined
  );
}

/**
 * Entries already found complete (wireit never changes an entry once written, so each is checked
 * once): `<script-hex>/<key>` per line of this file. Losing it only costs one more check of each.
 */
const CHECKED = '.distill/cache/wireit-cache-complete.txt';

/** Removes incomplete wireit cache entries of the given phases; returns their paths (relative to root). */
export async function removeIncompleteCacheEntries(
  root: string,
  phases: readonly CachedPhase[],
): Promise<string[]> {
  const checked = new Set(
    (await fsp.readFile(join(root, CHECKED), 'utf8').catch(() => '')).split('\n').filter(Boolean),
  );
  const complete: string[] = [];
  const removed: string[] = [];
  for (const p of phases) {
    const hex = Buffer.from(p.script, 'utf8').toString('hex');
    const rel = join('.wireit', hex, 'cache');
    let keys: string[];
    try {
      keys = (await fsp.readdir(join(root, rel))).sort();
    } catch {
      continue;
    }
    for (const key of keys) {
      const id = `${hex}/${key}`;
      const entry = join(root, rel, key);
      if (checked.has(id) || (await cacheEntryComplete(entry, p))) {
        complete.push(id);
        continue;
      }
      await fsp.rm(entry, { recursive: true, force: true });
      removed.push(join(rel, key));
    }
  }
  const text = complete.map((id) => `${id}\n`).join('');
  if (text !== [...checked].map((id) => `${id}\n`).join('')) await writeFileAtomic(join(root, CHECKED), text);
  return removed;
}

/**
 * Folders where a killed process can leave `*.tmp-<pid>` temps: staging and scratch folders, and
 * the temp files of small atomic writes (run state, source fingerprint, receipts). Never
 * `.distill/trash/`: a copy there may be the previous outputs a half-done publish must restore.
 */
const TEMP_DIRS = [
  '.distill/staging',
  '.distill/scratch',
  '.distill',
  '.distill/cache',
  'reports/distillation',
  'reports/distillation/latest',
];

/** Removes dead processes' temps (staging and scratch folders, temp files); returns how many. */
export async function removeDeadTemps(root: string): Promise<number> {
  let n = 0;
  for (const d of TEMP_DIRS) n += await removeStaleTemps(join(root, d));
  return n;
}
