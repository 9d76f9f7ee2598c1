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
import { buildIndexTextFromDocs, INDEX_FILE, INDEX_FORMAT_VERSION, indexParameters, parseIndexText, toIndexedDoc } from './replay/rag-index.ts';

/** The command that builds the index, for error messages. */
export const INDEX_RAG_COMMAND = 'npm run index-rag';

/** Pure: the text of exports/rag/playbooks.jsonl → each row validated and mapped as it is read (the phase keeps only the indexed form), or a message naming the bad line. */
function parseRagRows<T>(text: string, file: string, map: (row: RagSample) => T): T[] {
  const rows: T[] = [];
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
    rows.push(map(res.data));
  }
  return rows;
}

function indexTextOf(buf: Buffer, rel: string): { text: string; documents: number } {
  const docs = parseRagRows(buf.toString('utf8'), rel, toIndexedDoc);
  return { text: buildIndexTextFromDocs(docs), documents: docs.length };
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
  let buf: Buffer | null = await fsp.readFile(join(root, rel)).catch(() => {
    throw new UserError(`${rel} not found although ${EXPORT_DIRS.rag}/${MANIFEST} lists it; rebuild with \`npm run export-rag\``);
  });
  const got = sha256(buf);
  if (got !== entry.sha256) throw new UserError(`${rel} does not match ${EXPORT_DIRS.rag}/${MANIFEST} (sha256 ${got.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…): it was changed by hand or half-written; rebuild with \`npm run export-rag\``);
  // memory: only the indexed form of each row is kept, and the builder (MiniSearch, its JSON form)
  // is out of scope before the self-check loads the text again, so the two never live at once
  const { text, documents } = indexTextOf(buf, rel);
  buf = null;
  // in a function of its own, so the loaded index it builds is garbage once it returns, before
  // the writes below (an async function keeps its locals alive across its awaits)
  const selfCheck = (): void => {
    const check = parseIndexText(text);
    if (!check.ok || check.index.documents !== documents) throw new Error(`self-check failed: the built index ${check.ok ? `holds ${check.index.documents} documents, expected ${documents}` : check.error}`);
  };
  selfCheck();

  const staged = await StagedDir.begin(root, RAG_INDEX_DIR);
  try {
    await staged.writeFile(INDEX_FILE, text);
    const written = await staged.closeAll();
    const files = manifestEntries(RAG_INDEX_DIR, written);
    const parameters = indexParameters();
    const schemaVersions = { RagSample: RAG_V, RagIndex: INDEX_FORMAT_VERSION };
    const inputs = [entry];
    const counts = { documents };
    await staged.writeFile(MANIFEST, manifestText({ schema_version: 1, phase: 'index-rag', parameters, schema_versions: schemaVersions, inputs, files, counts }));
    await staged.publish();
    return {
      parameters,
      schemaVersions,
      inputs,
      outputs: files,
      counts: { in: documents, out: documents, quarantined: 0, by_reason: {} },
      stats: counts,
      summary: `${n(documents)} RAG chunks → ${RAG_INDEX_DIR}/${INDEX_FILE} (BM25, ${n(Buffer.byteLength(text))} bytes)`,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
