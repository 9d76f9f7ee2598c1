import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_VERSION as RAG_V, RagSample } from '../../../schemas/rag-sample.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { sha256 } from '../../lib/hash.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { JsonlWriter } from '../../lib/jsonl-writer.ts';
import { n } from '../../lib/log.ts';
import { MANIFEST, readManifest } from '../../lib/manifest.ts';
import { stagedPhase, type PhaseOutput, type ShellContext } from '../../lib/phase-shell.ts';
import type { PhaseResult } from '../../lib/phase.ts';
import {
  INDEX_FILE,
  INDEX_FORMAT_VERSION,
  indexParameters,
  toIndexedDoc,
  type IndexedDoc,
} from '../../lib/rag-index.ts';
import { UserError } from '../../lib/result.ts';
import { Scratch } from '../../lib/scratch.ts';
import { indexPartitionPostings } from '../../lib/tuning.ts';
import { RAG_DIR, RAG_FAMILY, REBUILD as REBUILD_RAG } from '../export-rag/contract.ts';
import { familyFiles } from '../../lib/export/shards.ts';
import { PHASE, RAG_INDEX_DIR } from './contract.ts';
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
        'UPSTREAM_DAMAGED',
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
        'UPSTREAM_DAMAGED',
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
 * The index-rag phase: exports/rag/documents/<shard>.jsonl → data/rag-index/index.json + _manifest.json.
 * The file is MiniSearch's serialized BM25 index (replay loads it whole to query it); the phase
 * writes it in bounded memory with `writeIndexStream`, from a copy of the RAG rows in its scratch
 * folder (each shard checked against the export's manifest, so every pass reads the same bytes).
 * The index is rebuilt whole from every shard (MiniSearch's serialized form holds document ids in
 * id order and corpus-wide statistics: appending a day changes them all).
 */
export async function indexRag(root: string): Promise<PhaseResult> {
  const upstream = await readManifest(root, RAG_DIR, REBUILD_RAG);
  const rel = `${RAG_DIR}/${RAG_FAMILY}`;
  const entries = familyFiles(upstream.files, RAG_DIR, RAG_FAMILY);
  if (upstream.parameters['export_layout'] === undefined)
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${RAG_DIR}/${MANIFEST} has the old single-file layout; rebuild with \`${REBUILD_RAG}\``,
    );
  return stagedPhase(root, { phase: PHASE, outDir: RAG_INDEX_DIR }, async (ctx) => {
    let input = ctx.scratch.path('input.jsonl');
    const out = await fsp.open(input, 'w');
    try {
      for (const entry of entries) {
        let buf: Buffer;
        try {
          buf = await fsp.readFile(join(root, entry.path));
        } catch {
          throw new UserError(
            'UPSTREAM_DAMAGED',
            `${entry.path} not found although ${RAG_DIR}/${MANIFEST} lists it; rebuild with \`${REBUILD_RAG}\``,
          );
        }
        const got = sha256(buf);
        if (got !== entry.sha256)
          throw new UserError(
            'UPSTREAM_DAMAGED',
            `${entry.path} does not match ${RAG_DIR}/${MANIFEST} (sha256 ${got.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…): it was changed by hand or half-written; rebuild with \`${REBUILD_RAG}\``,
          );
        await out.write(buf);
      }
    } finally {
      await out.close();
    }
    // shards are each in id order, not the whole: one shard is read as it is, more are merged first
    if (entries.length > 1) input = await sortedCopy(input, ctx.scratch);
    try {
      return await writeIndex(ctx, rel, entries, input);
    } catch (e) {
      if (!(e instanceof NotSortedError)) throw e;
      await ctx.restart({ keepScratch: true });
      input = await sortedCopy(input, ctx.scratch);
      return writeIndex(ctx, rel, entries, input);
    }
  });
}

async function writeIndex(
  ctx: ShellContext,
  rel: string,
  entries: FileEntry[],
  input: string,
): Promise<PhaseOutput> {
  let passes = 0;
  const pass = (): AsyncIterable<IndexedDoc> => ragDocs(input, rel, passes++ === 0);
  const stats = await writeIndexStream(
    pass,
    ctx.staged.textWriter(INDEX_FILE),
    (name) => ctx.scratch.path(name),
    indexPartitionPostings(),
  );
  const documents = stats.documents;
  const bytes = (await ctx.staged.closeWriter(INDEX_FILE)).bytes;
  const counts = { documents };
  return {
    parameters: indexParameters(),
    schemaVersions: { RagSample: RAG_V, RagIndex: INDEX_FORMAT_VERSION },
    inputs: entries,
    manifestCounts: counts,
    counts: { in: documents, out: documents, quarantined: 0, by_reason: {} },
    stats: counts,
    summary: `${n(documents)} RAG chunks → ${RAG_INDEX_DIR}/${INDEX_FILE} (BM25, ${n(stats.terms)} terms, ${n(bytes)} bytes)`,
  };
}
