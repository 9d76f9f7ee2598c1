import { RagSample } from '../../schemas/rag-sample.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import {
  buildIndexFiles,
  loadIndexTexts,
  segmentFile,
  STATS_FILE,
  type RagIndex,
} from '../../tasks/lib/rag-index.ts';

/** A stable fake RAG id from a name: `rag_` + 24 hex. */
export function ragId(name: string): string {
  return `rag_${sha256(name).slice(0, 24)}`;
}

/** A valid RagSample for a run document ("Task: …\n\nAnswer: …"). */
export function runDoc(
  name: string,
  task: string,
  answer: string,
  taskKey: string,
  traceId = `tr_${name}`,
): RagSample {
  return RagSample.parse({
    schema_version: 1,
    id: ragId(name),
    text: `Task: ${task}\n\nAnswer: ${answer}`,
    metadata: {
      kind: 'run',
      source_file: 'data/_kb/x.jsonl',
      stream: 'gateway_calls',
      trace_id: traceId,
      task_key: taskKey,
      category: 'accepted',
      recorded_at: '2026-10-01T00:00:00.000Z',
      evidence_id: `ev_${name}`,
      title: '',
      chunk_index: 0,
      chunk_count: 1,
    },
    provenance: {
      source_file: 'data/_kb/x.jsonl',
      line_offset: 0,
      sig_hash: sha256(name),
      recorded_at: '2026-10-01T00:00:00.000Z',
    },
  });
}

/** A valid RagSample for a knowledge document (title, blank line, text). */
export function knowledgeDoc(name: string, title: string, body: string): RagSample {
  return RagSample.parse({
    schema_version: 1,
    id: ragId(name),
    text: `${title}\n\n${body}`,
    metadata: {
      kind: 'document',
      source_file: 'data/_kb/kb.jsonl',
      stream: 'knowledge_docs',
      trace_id: '',
      task_key: '',
      category: '',
      recorded_at: '',
      evidence_id: `ev_${name}`,
      title,
      chunk_index: 0,
      chunk_count: 1,
    },
    provenance: {
      source_file: 'data/_kb/kb.jsonl',
      line_offset: 0,
      sig_hash: sha256(name),
      recorded_at: null,
    },
  });
}

/**
 * Builds and loads an index from rows (through the file texts, as replay does): one segment, or
 * `segments` of them (row i in segment i mod `segments`, named `s0`, `s1`, …).
 */
export function indexOf(rows: RagSample[], segments = 1): RagIndex {
  const shards = new Map<string, RagSample[]>();
  for (let s = 0; s < segments; s++) shards.set(`s${s}`, []);
  rows.forEach((r, i) => shards.get(`s${i % segments}`)!.push(r));
  return loadFiles(buildIndexFiles(shards));
}

/** Loads an index from its files' texts (relative path → text). */
export function loadFiles(files: ReadonlyMap<string, string>): RagIndex {
  const loaded = loadIndexTexts(files.get(STATS_FILE) ?? '', (shard) => files.get(segmentFile(shard)) ?? '');
  if (!loaded.ok) throw new Error(`${loaded.where}: ${loaded.error}`);
  return loaded.value;
}
