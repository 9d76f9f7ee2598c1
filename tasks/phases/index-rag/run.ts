import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { RagSample, SCHEMA_VERSION as RAG_V } from '../../../schemas/rag-sample.ts';
import { RAG_FILE } from '../export-rag/contract.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { sha256File } from '../../lib/hash.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { JsonlWriter } from '../../lib/jsonl-writer.ts';
import { RAG_DIR } from '../export-rag/contract.ts';
import { RAG_INDEX_DIR } from './contract.ts';
import { n } from '../../lib/log.ts';
import { MANIFEST, manifestText, readManifest } from '../../lib/manifest.ts';
import type { PhaseResult } from '../../lib/phase.ts';
import { UserError } from '../../lib/result.ts';
import { Scratch } from '../../lib/scratch.ts';
import { manifestEntries, StagedDir } from '../../lib/staged-dir.ts';
import { indexPartitionPostings } from '../../lib/tuning.ts';
import {
  INDEX_FILE,
  INDEX_FORMAT_VERSION,
  indexParameters,
  toIndexedDoc,
  type IndexedDoc,
} from '../../lib/rag-index.ts';
import { NotSortedError, writeIndexStream } from './index-stream.ts';

/** The command that builds the index, for error messages. */
export const INDEX_RAG_COMMAND = 'npm run index-rag';

/** The rows of a RAG file as indexed documents; `validate` checks each against RagSample, naming the bad line of `file`. */
async function* ragDocs(path: string, file: string, validate: boolean): AsyncGenerator<IndexedDoc> {
  for await (const { text, line } of jsonlLines(path)) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new UserError(
        `${file}:${line + 1} is not valid JSON (${(e as Error).message}); rebuild it with \`npm run export-rag\``,
      );
    }
    if (!validate) {
      yield toIndexedDoc(raw as RagSample);
      continue;
    }
    const res = RagSample.safeParse(raw);
    if (!res.success) {
      const issue = res.error.issues[0];
      throw new UserError(
        `${file}:${line + 1} is not a RagSample (${issue?.path.join('.') || '(root)'}: ${issue?.message}); rebuild it with \`npm run export-rag\``,
      );
    }
    yield toIndexedDoc(res.data);
  }
}

/** A copy of the RAG rows sorted by id (the export writes them sorted; this is for a file that is not). */
async function sortedCopy(path: string, scratch: Scratch): Promise<string> {
  const sorter = new ExternalSorter(scratch.dir, 'rows');
  for await (const { text } of jsonlLines(path))
    await sorter.add(String((JSON.parse(text) as { id: unknown }).id), text);
  const out = scratch.path('sorted.jsonl');
  const w = new JsonlWriter(out);
  for await (const { line } of sorter.sorted()) await w.writeLine(line);
  await w.close();
  return out;
}

/**
 * The index-rag phase: exports/rag/playbooks.jsonl → data/rag-index/index.json + _manifest.json.
 * The file is MiniSearch's serialized BM25 index (replay loads it whole to query it); the phase
 * writes it in bounded memory with `writeIndexStream`, from a copy of the RAG rows in its scratch
 * folder (checked against the export's manifest, so every pass reads the same bytes).
 */
export async function indexRag(root: string): Promise<PhaseResult> {
  const upstream = await readManifest(root, RAG_DIR, 'npm run export-rag');
  const rel = `${RAG_DIR}/${RAG_FILE}`;
  const entry = upstream.files.find((f) => f.path === rel);
  if (!entry)
    throw new UserError(`${RAG_DIR}/${MANIFEST} lists no ${rel}; rebuild with \`npm run export-rag\``);
  const scratch = await Scratch.create(root, 'index-rag');
  try {
    let input = scratch.path('input.jsonl');
    await fsp.copyFile(join(root, rel), input).catch(() => {
      throw new UserError(
        `${rel} not found although ${RAG_DIR}/${MANIFEST} lists it; rebuild with \`npm run export-rag\``,
      );
    });
    const got = await sha256File(input);
    if (got !== entry.sha256)
      throw new UserError(
        `${rel} does not match ${RAG_DIR}/${MANIFEST} (sha256 ${got.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…): it was changed by hand or half-written; rebuild with \`npm run export-rag\``,
      );
    return await writeIndex(root, rel, entry, input, scratch).catch(async (e: unknown) => {
      if (!(e instanceof NotSortedError)) throw e;
      input = await sortedCopy(input, scratch);
      return writeIndex(root, rel, entry, input, scratch);
    });
  } finally {
    await scratch.remove();
  }
}

async function writeIndex(
  root: string,
  rel: string,
  entry: FileEntry,
  input: string,
  scratch: Scratch,
): Promise<PhaseResult> {
  const staged = await StagedDir.begin(root, RAG_INDEX_DIR);
  try {
    let passes = 0;
    const pass = (): AsyncIterable<IndexedDoc> => ragDocs(input, rel, passes++ === 0);
    const stats = await writeIndexStream(
      pass,
      staged.textWriter(INDEX_FILE),
      (name) => scratch.path(name),
      indexPartitionPostings(),
    );
    const documents = stats.documents;
    const written = await staged.closeAll();
    const files = manifestEntries(RAG_INDEX_DIR, written);
    const parameters = indexParameters();
    const schemaVersions = { RagSample: RAG_V, RagIndex: INDEX_FORMAT_VERSION };
    const inputs = [entry];
    const counts = { documents };
    await staged.writeFile(
      MANIFEST,
      manifestText({
        schema_version: 1,
        phase: 'index-rag',
        parameters,
        schema_versions: schemaVersions,
        inputs,
        files,
        counts,
      }),
    );
    await staged.publish();
    return {
      parameters,
      schemaVersions,
      inputs,
      outputs: files,
      counts: { in: documents, out: documents, quarantined: 0, by_reason: {} },
      stats: counts,
      summary: `${n(documents)} RAG chunks → ${RAG_INDEX_DIR}/${INDEX_FILE} (BM25, ${n(stats.terms)} terms, ${n(written.get(INDEX_FILE)?.bytes ?? 0)} bytes)`,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
