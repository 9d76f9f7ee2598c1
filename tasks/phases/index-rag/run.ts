import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_VERSION as RAG_V, RagSample } from '../../../schemas/rag-sample.ts';
import {
  familyFiles,
  loadBuild,
  reuseShard,
  saveBuild,
  shardEntries,
  shardOfFile,
  type FolderLayout,
  type ShardRecord,
} from '../../lib/export/shards.ts';
import { jsonlLines } from '../../lib/jsonl-read.ts';
import { n } from '../../lib/log.ts';
import { MANIFEST, readManifest } from '../../lib/manifest.ts';
import { stagedPhase } from '../../lib/phase-shell.ts';
import type { PhaseResult } from '../../lib/phase.ts';
import {
  buildSegment,
  buildStatsText,
  INDEX_FORMAT_VERSION,
  indexParameters,
  SegmentHeader,
  segmentFile,
  STATS_FILE,
  toIndexedDoc,
  type IndexedDoc,
} from '../../lib/rag-index.ts';
import { UserError } from '../../lib/result.ts';
import { RAG_DIR, RAG_FAMILY, REBUILD as REBUILD_RAG } from '../export-rag/contract.ts';
import { PHASE, RAG_INDEX_DIR } from './contract.ts';

/** The command that builds the index, for error messages. */
export const INDEX_RAG_COMMAND = 'npm run index-rag';

/** The index folder's layout: format version 1 was one MiniSearch file, version 2 is segments (docs/replay.md#migration). */
const INDEX_LAYOUT: FolderLayout = {
  key: 'format_version',
  version: INDEX_FORMAT_VERSION,
  name: 'segment layout, format_version',
  doc: 'docs/replay.md#migration',
};

/** What the build state keeps of a segment: its document count (its input's sha256 is the record's `input`). */
interface SegmentRecord {
  documents: number;
}

/**
 * One shard's rows as indexed documents, read line by line (never the file whole) and checked:
 * the file against its manifest entry (its sha256, which decides first: a file that is not
 * the one published is reported as such, whatever its lines hold), each row against RagSample
 * (errors name the shard's own line).
 */
async function shardDocs(root: string, entry: { path: string; sha256: string }): Promise<IndexedDoc[]> {
  const docs: IndexedDoc[] = [];
  const h = createHash('sha256');
  let problem: string | null = null;
  try {
    for await (const { text, line } of jsonlLines(join(root, entry.path), 1 << 16, (b) => h.update(b))) {
      if (problem !== null) continue; // read on: the hash says whether this is the published file
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        problem = `${entry.path}:${line + 1} is not valid JSON (${(e as Error).message}); rebuild it with \`${REBUILD_RAG}\``;
        continue;
      }
      const res = RagSample.safeParse(raw);
      if (!res.success) {
        const issue = res.error.issues[0];
        problem = `${entry.path}:${line + 1} is not a RagSample (${issue?.path.join('.') || '(root)'}: ${issue?.message}); rebuild it with \`${REBUILD_RAG}\``;
        continue;
      }
      docs.push(toIndexedDoc(res.data));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserError(
        'UPSTREAM_DAMAGED',
        `${entry.path} not found although ${RAG_DIR}/${MANIFEST} lists it; rebuild with \`${REBUILD_RAG}\``,
      );
    // a folder in its place, no permission: a problem of the file, not a bug (reported as before this read line by line)
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
      throw new UserError(
        'UPSTREAM_DAMAGED',
        `${entry.path} cannot be read (${code}) although ${RAG_DIR}/${MANIFEST} lists it; rebuild with \`${REBUILD_RAG}\``,
      );
    throw e;
  }
  // the file's bytes as read (not its lines: a missing final newline, a blank line or a CR must not match)
  const got = h.digest('hex');
  if (got !== entry.sha256)
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${entry.path} does not match ${RAG_DIR}/${MANIFEST} (sha256 ${got.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…): it was changed by hand or half-written; rebuild with \`${REBUILD_RAG}\``,
    );
  if (problem !== null) throw new UserError('UPSTREAM_DAMAGED', problem);
  return docs;
}

/** The header (first line) of a published segment, or null when it is not one of this shard. */
async function segmentHeader(path: string, shard: string): Promise<SegmentHeader | null> {
  try {
    // small reads (a header is a small part of its file; 2 MiB of buffers a segment cost more in GC than the reading)
    for await (const { text } of jsonlLines(path, 1 << 16)) {
      const h = SegmentHeader.safeParse(JSON.parse(text));
      return h.success && h.data.shard === shard ? h.data : null;
    }
  } catch {
    // unreadable: built again
  }
  return null;
}

/**
 * The index-rag phase: data/rag-index/segments/<shard>.jsonl for every shard of
 * exports/rag/documents/, plus stats.json (the corpus statistics) — docs/replay.md, "The index".
 * A segment depends on its shard alone: a shard whose sha256 is the one the last build indexed,
 * and whose segment is still as published (stat, else sha256), is linked from the published
 * folder; the others are read (each checked against the export's manifest and RagSample) and
 * indexed again, one at a time. stats.json is computed from every segment's header. A folder of
 * the single-file layout (format version 1) is rebuilt whole, with a message.
 */
export async function indexRag(root: string): Promise<PhaseResult> {
  const upstream = await readManifest(root, RAG_DIR, REBUILD_RAG);
  const entries = familyFiles(upstream.files, RAG_DIR, RAG_FAMILY);
  if (upstream.parameters['export_layout'] === undefined)
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${RAG_DIR}/${MANIFEST} has the old single-file layout; rebuild with \`${REBUILD_RAG}\``,
    );
  const parameters = indexParameters();
  const dir = RAG_INDEX_DIR;
  return stagedPhase(root, { phase: PHASE, outDir: dir }, async ({ staged }) => {
    const { prev } = await loadBuild<SegmentRecord>(root, PHASE, dir, parameters, INDEX_LAYOUT);
    const headers: SegmentHeader[] = [];
    const records = new Map<string, ShardRecord<SegmentRecord>>();
    const expectedRows: Record<string, number> = {};
    let built = 0;
    let terms = 0;
    let postings = 0;
    for (const entry of entries) {
      const shard = shardOfFile(entry.path) as string;
      const rel = segmentFile(shard);
      expectedRows[rel] = 3;
      const was = prev?.shards.get(shard);
      if (prev && was && was.input === entry.sha256) {
        const linked = await reuseShard(root, staged, dir, shardEntries(prev, dir, shard), prev);
        if (linked) {
          const header = await segmentHeader(staged.stagedPath(rel), shard);
          if (header && header.documents === was.data.documents) {
            headers.push(header);
            records.set(shard, was);
            continue;
          }
          // linked but not a segment of this shard: written again below (over the link)
          await fsp.rm(staged.stagedPath(rel), { force: true });
        }
      }
      const seg = buildSegment(shard, await shardDocs(root, entry));
      const w = staged.writer(rel);
      for (const piece of seg.text()) {
        let rows = 0;
        for (let i = piece.indexOf('\n'); i !== -1; i = piece.indexOf('\n', i + 1)) rows++;
        await w.writeText(piece, rows);
      }
      await staged.closeWriter(rel);
      headers.push(seg.header);
      records.set(shard, { input: entry.sha256, data: { documents: seg.header.documents } });
      built++;
      terms += seg.terms;
      postings += seg.postings;
    }
    let statsText: string;
    try {
      statsText = buildStatsText(headers);
    } catch (e) {
      throw new UserError(
        'UPSTREAM_DAMAGED',
        `${RAG_DIR}/${RAG_FAMILY}/ is not one corpus: ${(e as Error).message}; rebuild it with \`${REBUILD_RAG}\``,
      );
    }
    await staged.writeFile(STATS_FILE, statsText);
    const documents = headers.reduce((a, h) => a + h.documents, 0);
    const reused = headers.length - built;
    const counts = { documents, segments: headers.length };
    return {
      parameters,
      schemaVersions: { RagSample: RAG_V, RagIndex: INDEX_FORMAT_VERSION },
      inputs: entries,
      expectedRows,
      manifestCounts: counts,
      afterPublish: (manifest: string) => saveBuild(root, PHASE, parameters, manifest, records),
      counts: { in: documents, out: documents, quarantined: 0, by_reason: {} },
      stats: { ...counts, segments_built: built, segments_reused: reused },
      summary: `${n(documents)} RAG chunks → ${dir}/ (BM25, ${n(headers.length)} segments${
        reused > 0
          ? `; incremental: ${n(built)} built, ${n(reused)} unchanged reused`
          : `, ${n(terms)} segment terms, ${n(postings)} postings`
      })`,
    };
  });
}
