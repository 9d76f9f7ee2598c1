import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { RagSample, SCHEMA_VERSION as RAG_V } from '../schemas/rag-sample.ts';
import { RAG_FILE } from './export-rag.ts';
import { sha256 } from './lib/hash.ts';
import { EXPORT_DIRS, RAG_INDEX_DIR } from './lib/layout.ts';
import { n } from './lib/log.ts';
import { MANIFEST, manifestText, readManifest } from './lib/manifest.ts';
import type { PhaseResult } from './lib/phase.ts';
import { UserError } from './lib/result.ts';
import { manifestEntries, StagedDir } from './lib/staged-dir.ts';
import { buildIndexText, INDEX_FILE, INDEX_FORMAT_VERSION, indexParameters, parseIndexText } from './replay/rag-index.ts';

/** The command that builds the index, for error messages. */
export const INDEX_RAG_COMMAND = 'npm run index-rag';

/** Pure: the text of exports/rag/playbooks.jsonl → validated rows, or a message naming the bad line. */
export function parseRagRows(text: string, file: string): RagSample[] {
  const rows: RagSample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${file}:${i + 1} is not valid JSON (${(e as Error).message}); rebuild it with \`npm run export-rag\``);
    }
    const res = RagSample.safeParse(raw);
    if (!res.success) {
      const issue = res.error.issues[0];
      throw new UserError(`${file}:${i + 1} is not a RagSample (${issue?.path.join('.') || '(root)'}: ${issue?.message}); rebuild it with \`npm run export-rag\``);
    }
    rows.push(res.data);
  }
  return rows;
}

/**
 * The index-rag phase: exports/rag/playbooks.jsonl → data/rag-index/index.json + _manifest.json.
 * The BM25 index is an in-memory structure, so the corpus is read whole (it is the retrieval
 * corpus, bounded by what one process can search anyway).
 */
export async function indexRag(root: string): Promise<PhaseResult> {
  const upstream = await readManifest(root, EXPORT_DIRS.rag, 'npm run export-rag');
  const rel = `${EXPORT_DIRS.rag}/${RAG_FILE}`;
  const entry = upstream.files.find((f) => f.path === rel);
  if (!entry) throw new UserError(`${EXPORT_DIRS.rag}/${MANIFEST} lists no ${rel}; rebuild with \`npm run export-rag\``);
  const buf = await fsp.readFile(join(root, rel)).catch(() => {
    throw new UserError(`${rel} not found although ${EXPORT_DIRS.rag}/${MANIFEST} lists it; rebuild with \`npm run export-rag\``);
  });
  const got = sha256(buf);
  if (got !== entry.sha256) throw new UserError(`${rel} does not match ${EXPORT_DIRS.rag}/${MANIFEST} (sha256 ${got.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…): it was changed by hand or half-written; rebuild with \`npm run export-rag\``);
  const rows = parseRagRows(buf.toString('utf8'), rel);
  const text = buildIndexText(rows);
  const check = parseIndexText(text);
  if (!check.ok || check.index.documents !== rows.length) throw new Error(`self-check failed: the built index ${check.ok ? `holds ${check.index.documents} documents, expected ${rows.length}` : check.error}`);

  const staged = await StagedDir.begin(root, RAG_INDEX_DIR);
  try {
    await staged.writeFile(INDEX_FILE, text);
    const written = await staged.closeAll();
    const files = manifestEntries(RAG_INDEX_DIR, written);
    const parameters = indexParameters();
    const schemaVersions = { RagSample: RAG_V, RagIndex: INDEX_FORMAT_VERSION };
    const inputs = [entry];
    const counts = { documents: rows.length };
    await staged.writeFile(MANIFEST, manifestText({ schema_version: 1, phase: 'index-rag', parameters, schema_versions: schemaVersions, inputs, files, counts }));
    await staged.publish();
    return {
      parameters,
      schemaVersions,
      inputs,
      outputs: files,
      counts: { in: rows.length, out: rows.length, quarantined: 0, by_reason: {} },
      stats: counts,
      summary: `${n(rows.length)} RAG chunks → ${RAG_INDEX_DIR}/${INDEX_FILE} (BM25, ${n(Buffer.byteLength(text))} bytes)`,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
