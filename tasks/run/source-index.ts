import { promises as fsp, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { sha256File } from '../lib/hash.ts';

/**
 * The source fingerprint wireit reads instead of the sources themselves.
 *
 * wireit hashes every byte of every input file on every build (its own TODO in fingerprint.js
 * says it should use stat metadata instead), so with `data/_kb/**` as build-evidence's input a
 * no-op `npm run run-all` on the 1M-row corpus spent ~2 s of its ~3.4 s re-hashing 744 MB of
 * unchanged sources. `run-all --begin` (wireit's `begin-run`, which runs before build-evidence
 * is fingerprinted) now keeps a stat index of the sources, as git's index does: a file whose size,
 * mtime, ctime, inode and device are all unchanged since it was hashed, and whose ctime is safely
 * older than that hashing (git's "racy" rule), keeps its sha256; any other file is hashed again.
 * It writes the content-only fingerprint (path, bytes, sha256 of every file) that build-evidence
 * lists as its input, so `touch` still reruns nothing and any changed byte still reruns everything
 * downstream. build-evidence itself still reads and checks every byte it builds from.
 */

/** What wireit hashes for build-evidence (content only: no stat fields). */
export const SOURCE_FINGERPRINT = '.distill/sources.fingerprint.json';
/** The stat cache behind it (internal; losing it only costs one full re-hash). */
const SOURCE_STAT_INDEX = '.distill/cache/source-index.json';
/** The folder wireit tracked before: every file under it except the audit baseline pair. */
export const SOURCE_ROOT = 'data/_kb';
const NOT_SOURCES = new Set(['data/_kb/audit_baselines.jsonl', 'data/_kb/audit_baselines.head.json']);
/** A file changed this close to (or after) the moment it was hashed is hashed again next time. */
const RACY_MS = 2000;
const VERSION = 1;

interface StatEntry {
  path: string;
  size: string;
  mtime_ns: string;
  ctime_ns: string;
  ino: string;
  dev: string;
  sha256: string;
}

interface StatIndex {
  version: number;
  hashed_at_ms: number;
  files: StatEntry[];
}

/** Every file under data/_kb (symlinks followed, dot files included, as wireit's glob), sorted, with its stat. */
async function listSources(root: string): Promise<[string, BigIntStats][]> {
  const out: [string, BigIntStats][] = [];
  const seenDirs = new Set<string>(); // dev:ino of each folder walked: a symlink loop is walked once
  const walk = async (rel: string, here: BigIntStats): Promise<void> => {
    if (seenDirs.has(`${here.dev}:${here.ino}`)) return;
    seenDirs.add(`${here.dev}:${here.ino}`);
    let names: string[];
    try {
      names = await fsp.readdir(join(root, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        return;
      throw e;
    }
    for (const name of names) {
      const child = `${rel}/${name}`;
      const st = await fsp.stat(join(root, child), { bigint: true }).catch(() => null);
      if (st === null) continue; // a dangling link or a file removed meanwhile: wireit skips those too
      if (st.isDirectory()) await walk(child, st);
      else if (st.isFile() && !NOT_SOURCES.has(child)) out.push([child, st]);
    }
  };
  const top = await fsp.stat(join(root, SOURCE_ROOT), { bigint: true }).catch(() => null);
  if (top?.isDirectory()) await walk(SOURCE_ROOT, top);
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

async function readIndex(root: string, racyMs: number): Promise<Map<string, StatEntry>> {
  try {
    const v = JSON.parse(await fsp.readFile(join(root, SOURCE_STAT_INDEX), 'utf8')) as StatIndex;
    if (v.version !== VERSION || !Array.isArray(v.files)) return new Map();
    const trusted = BigInt(Math.floor(v.hashed_at_ms - racyMs)) * 1_000_000n;
    return new Map(
      v.files
        .filter((f) => BigInt(f.ctime_ns) < trusted && BigInt(f.mtime_ns) < trusted)
        .map((f) => [f.path, f]),
    );
  } catch {
    return new Map();
  }
}

const statKey = (st: BigIntStats): Omit<StatEntry, 'path' | 'sha256'> => ({
  size: String(st.size),
  mtime_ns: String(st.mtimeNs),
  ctime_ns: String(st.ctimeNs),
  ino: String(st.ino),
  dev: String(st.dev),
});

/**
 * Brings the source fingerprint up to date; returns how many files were hashed (the rest were
 * unchanged by stat). The fingerprint is rewritten only when its content changes.
 */
export async function updateSourceFingerprint(
  root: string,
  opts: { racyMs?: number } = {},
): Promise<{ files: number; hashed: number }> {
  const previous = await readIndex(root, opts.racyMs ?? RACY_MS);
  const hashedAt = Date.now(); // internal cache only: never part of a dataset or the fingerprint
  const entries: StatEntry[] = [];
  let hashed = 0;
  for (const [path, st] of await listSources(root)) {
    const abs = join(root, path);
    const key = statKey(st);
    const old = previous.get(path);
    if (
      old &&
      old.size === key.size &&
      old.mtime_ns === key.mtime_ns &&
      old.ctime_ns === key.ctime_ns &&
      old.ino === key.ino &&
      old.dev === key.dev
    ) {
      entries.push(old);
      continue;
    }
    // an unreadable file is recorded as such (build-evidence reports it); once it can be read,
    // its hash changes the fingerprint
    const sha256 = await sha256File(abs).catch(
      (e: NodeJS.ErrnoException) => `unreadable:${e.code ?? 'error'}`,
    );
    hashed++;
    entries.push({ path, ...key, sha256 });
  }
  const fingerprint = `${JSON.stringify({ version: VERSION, files: entries.map((e) => [e.path, Number(e.size), e.sha256]) })}\n`;
  const fpPath = join(root, SOURCE_FINGERPRINT);
  const current = await fsp.readFile(fpPath, 'utf8').catch(() => null);
  await fsp.mkdir(join(root, '.distill', 'cache'), { recursive: true });
  if (current !== fingerprint) await writeFileAtomic(fpPath, fingerprint);
  await writeFileAtomic(
    join(root, SOURCE_STAT_INDEX),
    `${JSON.stringify({ version: VERSION, hashed_at_ms: hashedAt, files: entries } satisfies StatIndex)}\n`,
  );
  return { files: entries.length, hashed };
}
