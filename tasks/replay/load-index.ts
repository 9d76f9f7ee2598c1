import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { RAG_FAMILY } from '../phases/export-rag/contract.ts';
import { familyFiles } from '../lib/export/shards.ts';
import { sha256 } from '../lib/hash.ts';
import { EXPORT_DIRS, RAG_INDEX_DIR } from '../phases/registry.ts';
import { Manifest, MANIFEST } from '../lib/manifest.ts';
import { UserError } from '../lib/result.ts';
import {
  indexOf,
  LEGACY_INDEX_FILE,
  parseSegmentText,
  parseStatsText,
  segmentFile,
  STATS_FILE,
  type RagIndex,
  type Segment,
} from '../lib/rag-index.ts';

const BUILD = '`npm run index-rag` (or `distill export-rag && distill index-rag`)';

async function readJson(path: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Loads data/rag-index/ for a query: stats.json and every segment it lists. A missing, unreadable
 * or empty index, or one of the single-file layout of format version 1, is a UserError naming the
 * command that builds it; an index older than exports/rag/ loads with a warning.
 */
export async function loadRagIndex(root: string): Promise<{ index: RagIndex; warning: string | null }> {
  const dir = RAG_INDEX_DIR;
  let statsText: string;
  try {
    statsText = await fsp.readFile(join(root, dir, STATS_FILE), 'utf8');
  } catch {
    const legacy = await fsp
      .access(join(root, dir, LEGACY_INDEX_FILE))
      .then(() => true)
      .catch(() => false);
    if (legacy)
      throw new UserError(
        'UPSTREAM_DAMAGED',
        `${dir}/ has the single-file layout of an earlier version (${LEGACY_INDEX_FILE}, format version 1); rebuild it once with ${BUILD}`,
      );
    throw new UserError(
      'UPSTREAM_MISSING',
      `no retrieval index at ${dir}/ (${STATS_FILE} not found): build it with ${BUILD}, or run without retrieval (--no-retrieval)`,
    );
  }
  const stats = parseStatsText(statsText);
  if (!stats.ok)
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${dir}/${STATS_FILE} is ${stats.error}; rebuild it with ${BUILD}`,
    );
  const segments: Segment[] = [];
  for (const entry of stats.value.segments) {
    const rel = `${dir}/${segmentFile(entry.shard)}`;
    const text = await fsp.readFile(join(root, rel), 'utf8').catch(() => {
      throw new UserError(
        'UPSTREAM_DAMAGED',
        `${rel} not found although ${dir}/${STATS_FILE} lists it; rebuild it with ${BUILD}`,
      );
    });
    const seg = parseSegmentText(text, entry);
    if (!seg.ok) throw new UserError('UPSTREAM_DAMAGED', `${rel} is ${seg.error}; rebuild it with ${BUILD}`);
    segments.push(seg.value);
  }
  if (stats.value.documents === 0) {
    throw new UserError(
      'UPSTREAM_EMPTY',
      `the retrieval index ${dir}/ holds 0 documents: ${EXPORT_DIRS.rag}/${RAG_FAMILY}/ was empty when it was built (see ${EXPORT_DIRS.rag}/_quarantine/ for why). Add sources and rebuild with ${BUILD}, or run without retrieval (--no-retrieval)`,
    );
  }
  return { index: indexOf(stats.value, segments), warning: await staleness(root) };
}

/** A warning when the index was built from other exports/rag/documents/ shards than the current ones. */
async function staleness(root: string): Promise<string | null> {
  const mine = Manifest.safeParse(await readJson(join(root, RAG_INDEX_DIR, MANIFEST)));
  const upstream = Manifest.safeParse(await readJson(join(root, EXPORT_DIRS.rag, MANIFEST)));
  if (!mine.success || !upstream.success) return null;
  const rel = `${EXPORT_DIRS.rag}/${RAG_FAMILY}`;
  // the digest of the shard list (path + sha256 of each), as built and as now
  const digest = (files: readonly { path: string; sha256: string }[]): string | undefined =>
    files.length === 0 ? undefined : sha256(files.map((f) => `${f.path}\u0000${f.sha256}`).join('\n'));
  const built = digest(familyFiles(mine.data.inputs, EXPORT_DIRS.rag, RAG_FAMILY));
  const now = digest(familyFiles(upstream.data.files, EXPORT_DIRS.rag, RAG_FAMILY));
  if (built === undefined || now === undefined || built === now) return null;
  return `the retrieval index is older than ${rel}/ (built from shards of digest ${built.slice(0, 12)}…, now ${now.slice(0, 12)}…); rebuild it with ${BUILD}`;
}
