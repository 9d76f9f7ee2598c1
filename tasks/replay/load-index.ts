import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { RAG_FAMILY } from '../phases/export-rag/contract.ts';
import { familyFiles } from '../lib/export/shards.ts';
import { sha256 } from '../lib/hash.ts';
import { EXPORT_DIRS, RAG_INDEX_DIR } from '../phases/registry.ts';
import { Manifest, MANIFEST } from '../lib/manifest.ts';
import { UserError } from '../lib/result.ts';
import { INDEX_FILE, parseIndexText, type RagIndex } from '../lib/rag-index.ts';

const BUILD = '`npm run index-rag` (or `distill export-rag && distill index-rag`)';

async function readJson(path: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Loads data/rag-index/ for a query. A missing, unreadable or empty index is a UserError naming
 * the command that builds it; an index older than exports/rag/ loads with a warning.
 */
export async function loadRagIndex(root: string): Promise<{ index: RagIndex; warning: string | null }> {
  const path = `${RAG_INDEX_DIR}/${INDEX_FILE}`;
  let text: string;
  try {
    text = await fsp.readFile(join(root, path), 'utf8');
  } catch {
    throw new UserError(
      'UPSTREAM_MISSING',
      `no retrieval index at ${path}: build it with ${BUILD}, or run without retrieval (--no-retrieval)`,
    );
  }
  const parsed = parseIndexText(text);
  if (!parsed.ok)
    throw new UserError('UPSTREAM_DAMAGED', `${path} is ${parsed.error}; rebuild it with ${BUILD}`);
  if (parsed.index.documents === 0) {
    throw new UserError(
      'UPSTREAM_EMPTY',
      `the retrieval index ${path} holds 0 documents: ${EXPORT_DIRS.rag}/${RAG_FAMILY}/ was empty when it was built (see ${EXPORT_DIRS.rag}/_quarantine/ for why). Add sources and rebuild with ${BUILD}, or run without retrieval (--no-retrieval)`,
    );
  }
  return { index: parsed.index, warning: await staleness(root) };
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
