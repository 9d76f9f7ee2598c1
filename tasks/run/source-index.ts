import { createHash } from 'node:crypto';
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
 *
 * The files are exactly those the config's globs match (build-evidence's own listing, wherever
 * under the project root they are), not a fixed folder. The fingerprint also names every file of
 * the last published build (data/evidence/_manifest.json \`inputs\`) whose bytes the sources no
 * longer hold (gone, shorter, or its first bytes changed): so an older cached output, built
 * before those rows were read, never matches while they are missing, and wireit cannot restore it
 * in place of the rows (begin-run refuses that state anyway, unless the change is accepted). In
 * the usual state (every file as read, or appended to) that list is empty, so a no-op build
 * stays fresh.
 */

/** What wireit hashes for build-evidence (content only: no stat fields). */
export const SOURCE_FINGERPRINT = '.distill/sources.fingerprint.json';
/** The stat cache behind it (internal; losing it only costs one full re-hash). */
const SOURCE_STAT_INDEX = '.distill/cache/source-index.json';
/** A file changed this close to (or after) the moment it was hashed is hashed again next time. */
const RACY_MS = 2000;
const VERSION = 2;

interface StatEntry {
  path: string;
  size: string;
  mtime_ns: string;
  ctime_ns: string;
  ino: string;
  dev: string;
  sha256: string;
  /** sha256 of its first \`bytes\` bytes, for a file longer than the last build read of it. */
  prefix?: { bytes: number; sha256: string };
}

/** What the last published build read of a file: the hash of its first \`bytes\` bytes. */
export interface ReadBefore {
  sha256: string;
  bytes: number;
}

/** A listed file now: its size, and the hash of the first bytes the last build read of it. */
export interface SourceNow {
  size: number;
  /** sha256 of its first \`bytes\` bytes of ReadBefore (null: shorter, unreadable, or no previous read). */
  prefixSha256: string | null;
}

interface StatIndex {
  version: number;
  hashed_at_ms: number;
  files: StatEntry[];
}

/** The given files (relative to the root), sorted, with their stat (followed); a file that is gone is left out. */
async function statSources(root: string, files: readonly string[]): Promise<[string, BigIntStats][]> {
  const out: [string, BigIntStats][] = [];
  for (const f of [...new Set(files)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const st = await fsp.stat(join(root, f), { bigint: true }).catch(() => null);
    if (st?.isFile()) out.push([f, st]);
  }
  return out;
}

/** sha256 of the first \`bytes\` bytes of a file (null: it is shorter, or unreadable). */
async function prefixSha(abs: string, bytes: number): Promise<string | null> {
  let fh: fsp.FileHandle | null = null;
  try {
    fh = await fsp.open(abs, 'r');
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, bytes)));
    let pos = 0;
    while (pos < bytes) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (bytesRead === 0) return null;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return hash.digest('hex');
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
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
 * Brings the source fingerprint up to date for \`files\` (the files the config's globs match now)
 * and \`readBefore\` (what the last published build read, by path); returns how many files were
 * hashed (the rest were unchanged by stat) and, per listed file, what the source checks need.
 * The fingerprint is rewritten only when its content changes.
 */
export async function updateSourceFingerprint(
  root: string,
  sources: { files: readonly string[]; readBefore: ReadonlyMap<string, ReadBefore> },
  opts: { racyMs?: number } = {},
): Promise<{ files: number; hashed: number; now: Map<string, SourceNow> }> {
  const previous = await readIndex(root, opts.racyMs ?? RACY_MS);
  const hashedAt = Date.now(); // internal cache only: never part of a dataset or the fingerprint
  const entries: StatEntry[] = [];
  let hashed = 0;
  for (const [path, st] of await statSources(root, sources.files)) {
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
      entries.push({ ...old });
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
  // what the checks need: the hash of the bytes the last build read, for a file that grew since
  const now = new Map<string, SourceNow>();
  for (const e of entries) {
    const before = sources.readBefore.get(e.path);
    const size = Number(e.size);
    let prefixSha256: string | null = null;
    if (before && size === before.bytes) prefixSha256 = e.sha256;
    else if (before && size > before.bytes) {
      if (e.prefix?.bytes !== before.bytes) {
        const sha = await prefixSha(join(root, e.path), before.bytes);
        if (sha === null) delete e.prefix;
        else e.prefix = { bytes: before.bytes, sha256: sha };
      }
      prefixSha256 = e.prefix?.sha256 ?? 'unreadable';
    }
    // an unreadable file is left to build-evidence, which names it (SOURCE_UNREADABLE)
    if (!e.sha256.startsWith('unreadable') && prefixSha256 !== 'unreadable')
      now.set(e.path, { size, prefixSha256 });
  }
  // the files of the last build whose bytes are no longer all there: an older cached output must not match
  const lost = [...sources.readBefore.entries()]
    .filter(([path, b]) => now.get(path)?.prefixSha256 !== b.sha256)
    .map(([path, b]) => [path, b.bytes, b.sha256])
    .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0));
  const fingerprint = `${JSON.stringify({ version: VERSION, files: entries.map((e) => [e.path, Number(e.size), e.sha256]), lost })}\n`;
  const fpPath = join(root, SOURCE_FINGERPRINT);
  const current = await fsp.readFile(fpPath, 'utf8').catch(() => null);
  await fsp.mkdir(join(root, '.distill', 'cache'), { recursive: true });
  if (current !== fingerprint) await writeFileAtomic(fpPath, fingerprint);
  await writeFileAtomic(
    join(root, SOURCE_STAT_INDEX),
    `${JSON.stringify({ version: VERSION, hashed_at_ms: hashedAt, files: entries } satisfies StatIndex)}\n`,
  );
  return { files: entries.length, hashed, now };
}
