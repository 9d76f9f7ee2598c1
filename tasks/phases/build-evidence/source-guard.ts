import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SourceConfig } from '../../../schemas/config.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { log, n } from '../../lib/log.ts';
import { UserError, type ErrorCode } from '../../lib/result.ts';
import { contentChunks, isGzipName, openSource } from '../../lib/source-reader.ts';
import { safeText } from '../../lib/terminal-text.ts';
import { EVIDENCE_DIR, HEALTH_FILE } from './contract.ts';
import { escapesRoot } from './source-names.ts';

/**
 * Sources never leave the datasets silently (docs/sources.md "When a source vanishes"): a source
 * whose globs match nothing, a file the last build read that is gone or no longer matched, a file
 * that shrank or changed, and a file refused whole each stop build-evidence, naming the source,
 * the file, the rows at stake and how to accept it. A file rotated to a new name (same leading
 * bytes) that the globs still match is recognised and is no problem.
 */

/** What the last published build made of one file (from its `_health.json`). */
export interface PrevHealth {
  stream: string;
  units: number;
  records: number;
  refused: string | null;
}

/** Per file of the last published build: its stream, rows, records and refusal. Empty when there is none. */
export async function previousHealth(root: string): Promise<Map<string, PrevHealth>> {
  const out = new Map<string, PrevHealth>();
  let doc: unknown;
  try {
    doc = JSON.parse(await fsp.readFile(join(root, EVIDENCE_DIR, HEALTH_FILE), 'utf8'));
  } catch {
    return out;
  }
  const files = (doc as { files?: unknown }).files;
  if (!Array.isArray(files)) return out;
  for (const f of files as Record<string, unknown>[]) {
    if (typeof f['file'] !== 'string' || typeof f['stream'] !== 'string') continue;
    out.set(f['file'], {
      stream: f['stream'],
      units: typeof f['units'] === 'number' ? f['units'] : 0,
      records: typeof f['records'] === 'number' ? f['records'] : 0,
      refused: typeof f['file_refused'] === 'string' ? f['file_refused'] : null,
    });
  }
  return out;
}

/** One reason the build would lose rows without the operator saying so. */
export interface SourceProblem {
  code: ErrorCode;
  stream: string;
  /** The file (escaped when printed), or null for a whole source (an empty glob). */
  file: string | null;
  what: string;
}

/** "the last build made 413 evidence records from its 413 rows", or what is known. */
export function atStake(prev: PrevHealth | undefined): string {
  if (!prev) return 'the last build read no rows from it (or there was no last build)';
  if (prev.refused) return `the last build refused it too (${prev.refused})`;
  return `the last build made ${n(prev.records)} evidence records from its ${n(prev.units)} rows`;
}

/** The error listing every problem; its code is the first problem's. */
export function sourceProblemsError(problems: readonly SourceProblem[]): UserError {
  const first = problems[0] as SourceProblem;
  const lines = problems.map(
    (p) => `  - [${p.code}] source ${p.stream}: ${p.file === null ? '' : `${safeText(p.file)}: `}${p.what}`,
  );
  const optional = problems.some((p) => p.code === 'NO_SOURCES' || p.code === 'SOURCE_REFUSED');
  return new UserError(
    first.code,
    `${first.code}: ${problems.length === 1 ? 'a source' : `${problems.length} sources`} would take rows out of the datasets without being told to; nothing was published:\n` +
      `${lines.join('\n')}\n` +
      'Restore the files or fix the globs in distill.config.json and rerun; or, if the change is intended, accept it: ' +
      '`npx distill build-evidence --accept-source-changes` (or `npx distill run-all --accept-source-changes`; ' +
      'under npm: `DISTILL_ACCEPT_SOURCE_CHANGES=1 npm run run-all`), which rebuilds from the sources as they are now' +
      (optional
        ? '. A source that may legitimately match nothing or hold unreadable files: set "optional": true on it in distill.config.json.'
        : '.'),
  );
}

/**
 * The checks that need no reading: sources whose globs match nothing (unless `optional`), and
 * files the last build read that are no longer listed (deleted, moved, no longer matched),
 * unless rotated to a listed name. Returns the problems and, per rotated file, its new name.
 */
export async function vanishedSources(
  root: string,
  listed: ReadonlyArray<{ source: SourceConfig; files: string[] }>,
  history: ReadonlyMap<string, FileEntry>,
  health: ReadonlyMap<string, PrevHealth>,
): Promise<{ problems: SourceProblem[]; rotated: Map<string, string> }> {
  const problems: SourceProblem[] = [];
  const rotated = new Map<string, string>();
  const configured = new Map(listed.map((l) => [l.source.stream, l.source]));
  const listedFiles = listed.flatMap((l) => l.files);
  const isListed = new Set(listedFiles);
  for (const { source, files } of listed) {
    if (files.length > 0) continue;
    if (source.optional) {
      log.info(`source ${source.stream}: no file matches ${source.files.join(', ')} (optional source)`);
      continue;
    }
    const before = [...health.entries()].filter(([, h]) => h.stream === source.stream && !h.refused);
    const rows = before.reduce((s, [, h]) => s + h.records, 0);
    problems.push({
      code: 'NO_SOURCES',
      stream: source.stream,
      file: null,
      what:
        `no file matches ${source.files.map((g) => `"${safeText(g)}"`).join(', ')} (a typo, or the files moved?); ` +
        (before.length > 0
          ? `the last build made ${n(rows)} evidence records from ${before.length} files of it`
          : 'nothing was built from it before'),
    });
  }
  for (const [path, prev] of history) {
    if (isListed.has(path) || prev.bytes === 0) continue;
    const h = health.get(path);
    if (h?.refused) continue; // nothing was built from it
    const stream = h?.stream ?? null;
    // a source taken out of the config was taken out on purpose
    if (stream !== null && !configured.has(stream)) continue;
    const target = await findRotation(
      root,
      prev,
      listedFiles.filter((f) => f !== path),
    );
    if (target) {
      rotated.set(path, target);
      log.info(
        `${safeText(path)}: rotated to ${safeText(target)} (same first ${n(prev.bytes)} bytes); read there`,
      );
      continue;
    }
    const exists = await fsp.lstat(join(root, path)).then(
      () => true,
      () => false,
    );
    const sibling = exists ? null : await findRotation(root, prev, await siblings(root, path, isListed));
    problems.push({
      code: 'SOURCE_MISSING',
      stream: stream ?? '?',
      file: path,
      what:
        (exists
          ? `no glob of the source matches it any more (distill.config.json changed?)`
          : sibling
            ? `it is gone, and looks rotated to ${safeText(sibling)}, which no glob matches (add a glob for it to the source's "files")`
            : 'it is gone (deleted, moved or rotated away)') + `; ${atStake(h)}`,
    });
  }
  return { problems, rotated };
}

/**
 * The first of `candidates` whose content starts with exactly the bytes the last build read of a
 * file (`prev.sha256` is the hash of its first `prev.bytes` bytes): the file under a new name.
 * A gzip candidate is compared by its decompressed content (`x.jsonl` → `x.jsonl.1.gz`).
 */
export async function findRotation(
  root: string,
  prev: FileEntry,
  candidates: readonly string[],
): Promise<string | null> {
  if (prev.bytes === 0) return null;
  const gzPrev = isGzipName(prev.path);
  // the same folder first: that is where rotation puts it
  const dir = dirname(prev.path);
  const ordered = [...candidates].sort(
    (a, b) => Number(dirname(b) === dir) - Number(dirname(a) === dir) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const c of ordered) {
    if (await escapesRoot(root, join(root, c))) continue; // never read outside the root, even to compare
    const opened = await openSource(join(root, c), c).catch(() => null);
    if (!opened?.ok) continue;
    const src = opened.src;
    try {
      // raw bytes, unless a plain file went into a gzip one
      const throughGzip = src.compression === 'gzip' && !gzPrev;
      if (!throughGzip && src.size < prev.bytes) continue;
      const hash = createHash('sha256');
      let got = 0;
      const chunks = throughGzip ? contentChunks(src) : rawPrefix(src, prev.bytes);
      try {
        for await (const chunk of chunks) {
          const take = Math.min(chunk.length, prev.bytes - got);
          hash.update(chunk.subarray(0, take));
          got += take;
          if (got >= prev.bytes) break;
        }
      } catch {
        continue; // unreadable gzip: not the file we look for
      }
      if (got === prev.bytes && hash.digest('hex') === prev.sha256) return c;
    } finally {
      await src.fh.close();
    }
  }
  return null;
}

async function* rawPrefix(src: { fh: fsp.FileHandle }, bytes: number): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(Math.min(1 << 20, bytes));
  for (let pos = 0; pos < bytes;) {
    const { bytesRead } = await src.fh.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** Files next to `path` whose name starts with its name (x.jsonl.1, x.jsonl-20261001.gz), not listed. */
async function siblings(root: string, path: string, listed: ReadonlySet<string>): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path);
  const stem = base.replace(/\.(jsonl|ndjson|json|traj)(\.gz)?$/i, '');
  let names: string[];
  try {
    names = await fsp.readdir(join(root, dir));
  } catch {
    return [];
  }
  return names
    .filter((f) => f !== base && f.startsWith(stem))
    .map((f) => (dir === '.' ? f : `${dir}/${f}`))
    .filter((f) => !listed.has(f))
    .sort()
    .slice(0, 50);
}
