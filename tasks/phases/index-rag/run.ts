import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_VERSION as RAG_V, RagSample } from '../../../schemas/rag-sample.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { sha256File } from '../../lib/hash.ts';
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
import { indexPartitionPostings } from '../../lib/tuning.ts';
import { RAG_DIR, RAG_FAMILY, REBUILD as REBUILD_RAG } from '../export-rag/contract.ts';
import { familyFiles } from '../../lib/export/shards.ts';
import { PHASE, RAG_INDEX_DIR } from './contract.ts';
import { writeIndexStream } from './index-stream.ts';

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
    // every shard: copied aside and checked against the manifest (so every pass reads the same
    // bytes), each row checked against RagSample (errors name the shard's own line), then merged
    // into one file in id order through an external sort
    const sorter = new ExternalSorter(ctx.scratch.dir, 'rows');
    for (const [i, entry] of entries.entries()) {
      const copy = ctx.scratch.path(`shard-${i}.jsonl`);
      await fsp.copyFile(join(root, entry.path), copy).catch(() => {
        throw new UserError(
          'UPSTREAM_DAMAGED',
          `${entry.path} not found although ${RAG_DIR}/${MANIFEST} lists it; rebuild with \`${REBUILD_RAG}\``,
        );
      });
      const got = await sha256File(copy);
      if (got !== entry.sha256)
        throw new UserError(
          'UPSTREAM_DAMAGED',
          `${entry.path} does not match ${RAG_DIR}/${MANIFEST} (sha256 ${got.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…): it was changed by hand or half-written; rebuild with \`${REBUILD_RAG}\``,
        );
      for await (const doc of ragRows(copy, entry.path)) await sorter.add(doc.id, doc.text);
      await fsp.rm(copy);
    }
    const input = ctx.scratch.path('input.jsonl');
    const w = new JsonlWriter(input);
    for await (const { line } of sorter.sorted()) await w.writeLine(line);
    await w.close();
    return writeIndex(ctx, rel, entries, input);
  });
}

/** The rows of one RAG shard, each checked against RagSample (naming the bad line of `file`): id and line text. */
async function* ragRows(path: string, file: string): AsyncGenerator<{ id: string; text: string }> {
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
    const res = RagSample.safeParse(raw);
    if (!res.success) {
      const issue = res.error.issues[0];
      throw new UserError(
        'UPSTREAM_DAMAGED',
        `${file}:${line + 1} is not a RagSample (${issue?.path.join('.') || '(root)'}: ${issue?.message}); rebuild it with \`npm run export-rag\``,
      );
    }
    yield { id: res.data.id, text };
  }
}

async function writeIndex(
  ctx: ShellContext,
  rel: string,
  entries: FileEntry[],
  input: string,
): Promise<PhaseOutput> {
  // the rows were checked while they were merged
  const pass = (): AsyncIterable<IndexedDoc> => ragDocs(input, rel, false);
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
