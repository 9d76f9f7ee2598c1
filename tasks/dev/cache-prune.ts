import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { log, n } from '../lib/log.ts';

/**
 * Bounds wireit's local cache. wireit 0.14 keeps a full copy of the outputs of every version of
 * every script under `.wireit/<script-hex>/cache/<sha256(fingerprint)>/` and never deletes any
 * (wireit#71). Deleting an entry is always safe: a miss only means the phase runs again. The entry
 * of each script's *current* fingerprint is never deleted, so a fresh checkout that restores from
 * the cache keeps working.
 */
export interface CacheEntry {
  script: string;
  key: string;
  bytes: number;
  mtimeMs: number;
  current: boolean;
}

export interface PruneOptions {
  /** Entries kept per script besides the current one, newest first. */
  keep: number;
  /** Total budget for all entries, in bytes; the oldest non-current entries go first. */
  maxBytes: number;
}

/** Pure planner: which entries to delete. Deterministic: ties broken by key. */
export function planPrune(entries: readonly CacheEntry[], opts: PruneOptions): CacheEntry[] {
  const newestFirst = (a: CacheEntry, b: CacheEntry): number =>
    b.mtimeMs - a.mtimeMs || (a.key < b.key ? -1 : 1);
  const doomed = new Set<CacheEntry>();
  const byScript = new Map<string, CacheEntry[]>();
  for (const e of entries) {
    const list = byScript.get(e.script) ?? [];
    list.push(e);
    byScript.set(e.script, list);
  }
  for (const list of byScript.values()) {
    const others = list.filter((e) => !e.current).sort(newestFirst);
    for (const e of others.slice(opts.keep)) doomed.add(e);
  }
  let total = entries.filter((e) => !doomed.has(e)).reduce((s, e) => s + e.bytes, 0);
  const oldestFirst = entries.filter((e) => !e.current && !doomed.has(e)).sort((a, b) => -newestFirst(a, b));
  for (const e of oldestFirst) {
    if (total <= opts.maxBytes) break;
    doomed.add(e);
    total -= e.bytes;
  }
  return entries.filter((e) => doomed.has(e));
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const ent of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) total += await dirBytes(p);
    else total += (await fsp.lstat(p)).size;
  }
  return total;
}

/** Reads the cache entries under a `.wireit` folder; scripts being run right now are skipped. */
export async function listCache(wireitDir: string): Promise<{ entries: CacheEntry[]; busy: string[] }> {
  const entries: CacheEntry[] = [];
  const busy: string[] = [];
  let scripts: string[] = [];
  try {
    scripts = (await fsp.readdir(wireitDir)).sort();
  } catch {
    return { entries, busy };
  }
  for (const hex of scripts) {
    const dataDir = join(wireitDir, hex);
    const script =
      /^[0-9a-f]+$/.test(hex) && hex.length % 2 === 0 ? Buffer.from(hex, 'hex').toString('utf8') : hex;
    // wireit holds `<dataDir>/lock.lock` (a directory, refreshed every 2 s) while the script runs
    const held = await fsp.stat(join(dataDir, 'lock.lock')).then(
      (s) => Date.now() - s.mtimeMs < 10_000,
      () => false,
    );
    if (held) {
      busy.push(script);
      continue;
    }
    const fp = await fsp.readFile(join(dataDir, 'fingerprint'), 'utf8').catch(() => null);
    const currentKey = fp === null ? null : createHash('sha256').update(fp).digest('hex');
    let keys: string[] = [];
    try {
      keys = (await fsp.readdir(join(dataDir, 'cache'))).sort();
    } catch {
      continue;
    }
    for (const key of keys) {
      const p = join(dataDir, 'cache', key);
      const st = await fsp.stat(p);
      entries.push({
        script,
        key,
        bytes: await dirBytes(p),
        mtimeMs: st.mtimeMs,
        current: key === currentKey,
      });
    }
  }
  return { entries, busy };
}

/** Deletes the planned entries; returns what was removed. */
export async function prune(
  wireitDir: string,
  opts: PruneOptions,
  dryRun: boolean,
): Promise<{ removed: CacheEntry[]; kept: CacheEntry[]; busy: string[] }> {
  const { entries, busy } = await listCache(wireitDir);
  const removed = planPrune(entries, opts);
  if (!dryRun) {
    for (const e of removed)
      await fsp.rm(join(wireitDir, Buffer.from(e.script, 'utf8').toString('hex'), 'cache', e.key), {
        recursive: true,
        force: true,
      });
  }
  const gone = new Set(removed);
  return { removed, kept: entries.filter((e) => !gone.has(e)), busy };
}

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

/** CLI: `npm run cache:prune -- [--keep N] [--max-mb M] [--dry-run] [--dir .wireit]`. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      keep: { type: 'string', default: '2' },
      'max-mb': { type: 'string', default: '1024' },
      'dry-run': { type: 'boolean', default: false },
      dir: { type: 'string', default: '.wireit' },
    },
  });
  const keep = Number(values.keep);
  const maxMb = Number(values['max-mb']);
  if (!Number.isInteger(keep) || keep < 0 || !Number.isFinite(maxMb) || maxMb < 0) {
    log.error('--keep takes a whole number ≥ 0 and --max-mb a number ≥ 0');
    return 2;
  }
  const res = await prune(values.dir, { keep, maxBytes: maxMb * 1048576 }, values['dry-run']);
  for (const s of res.busy) log.warn(`skipped ${s}: wireit is running it right now`);
  const freed = res.removed.reduce((s, e) => s + e.bytes, 0);
  const left = res.kept.reduce((s, e) => s + e.bytes, 0);
  log.done(
    `cache:prune: ${values['dry-run'] ? 'would remove' : 'removed'} ${n(res.removed.length)} entries (${mb(freed)}); ` +
      `${n(res.kept.length)} kept (${mb(left)}), including the current entry of each script`,
  );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
