import MiniSearch, { type Options } from 'minisearch';
import { z } from 'zod';
import type { RagSample } from '../../schemas/rag-sample.ts';

/**
 * The BM25 retrieval index over the RAG corpus (MiniSearch, in process, no server). Pure: rows
 * in, a serializable index out. The phase shell (tasks/phases/index-rag/run.ts) reads and writes files.
 */

/** Version of the serialized index format; a mismatch means "rebuild with npm run index-rag". */
export const INDEX_FORMAT_VERSION = 1;
/** File name of the serialized index inside data/rag-index/. */
export const INDEX_FILE = 'index.json';

/** Fields a document is indexed under: `task` (the task line of a run, or a document's title) and `text`. */
export const INDEX_FIELDS = ['task', 'text'] as const;
/** Fields stored with each document, so a query needs only the index file. */
export const STORED_FIELDS = ['text', 'kind', 'task_key', 'trace_id', 'title', 'stream'] as const;
/** Ranking parameters: BM25+ with MiniSearch's defaults, the task field counting double, exact terms only. */
export const RANKING = {
  boost: { task: 2 },
  bm25: { k: 1.2, b: 0.7, d: 0.5 },
  prefix: false,
  fuzzy: false,
  combineWith: 'OR',
} as const;

/** A document as indexed and stored. */
export interface IndexedDoc {
  id: string;
  task: string;
  text: string;
  kind: string;
  task_key: string;
  trace_id: string;
  title: string;
  stream: string;
}

// Small English stop list: words that carry no topic and would otherwise dominate short queries.
const STOP = new Set(
  (
    'a an and are as at be but by can could did do does for from had has have how i if in into is it its me my no not of on or our ' +
    'please so than that the their them then there these they this to too us was we were what when where which who why will with ' +
    'would you your task answer'
  ).split(' '),
);

/**
 * Splits text into index terms: NFKC, lowercase, runs of letters / digits; stop words and
 * one-character terms dropped; a plural `s` stripped from words longer than four letters
 * (refunds → refund) but not from `ss` (access). Used for documents and queries alike.
 */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)) {
    if (raw.length < 2 || STOP.has(raw)) continue;
    out.push(raw.length > 4 && raw.endsWith('s') && !raw.endsWith('ss') ? raw.slice(0, -1) : raw);
  }
  return out;
}

const options: Options<IndexedDoc> = {
  idField: 'id',
  fields: [...INDEX_FIELDS],
  storeFields: [...STORED_FIELDS],
  tokenize: (text) => terms(text),
  processTerm: (term) => term,
  searchOptions: { ...RANKING, boost: { ...RANKING.boost }, bm25: { ...RANKING.bm25 } },
};

const str = (v: string | number | undefined): string => (v === undefined ? '' : String(v));

/** The task a run document answers (its `Task:` paragraph), or a knowledge document's title. */
export function taskField(sample: RagSample): string {
  if (sample.metadata['kind'] === 'run') {
    const m = /^Task: ([\s\S]*?)(?:\n\nAnswer: |$)/.exec(sample.text);
    return m ? (m[1] as string) : '';
  }
  return str(sample.metadata['title']);
}

/** A RAG row → the document the index holds. */
export function toIndexedDoc(sample: RagSample): IndexedDoc {
  const md = sample.metadata;
  return {
    id: sample.id,
    task: taskField(sample),
    text: sample.text,
    kind: str(md['kind']),
    task_key: str(md['task_key']),
    trace_id: str(md['trace_id']),
    title: str(md['title']),
    stream: str(md['stream']),
  };
}

/** The parameters the index was built with (recorded in the manifest and checked on load). */
export function indexParameters(): Record<string, unknown> {
  return {
    format_version: INDEX_FORMAT_VERSION,
    engine: 'minisearch',
    fields: [...INDEX_FIELDS],
    stored_fields: [...STORED_FIELDS],
    ranking: RANKING,
    tokenizer: 'nfkc-lower-alnum-stop-plural-v1',
  };
}

/** The serialized index file: our envelope around MiniSearch's JSON. */
export const IndexFile = z.strictObject({
  format: z.literal('distill-rag-index'),
  format_version: z.literal(INDEX_FORMAT_VERSION),
  parameters: z.record(z.string(), z.unknown()),
  documents: z.number().int().nonnegative(),
  minisearch: z.record(z.string(), z.unknown()),
});
export type IndexFile = z.infer<typeof IndexFile>;

/**
 * Pure: RAG rows → the index file text. Documents are added in id order, so the same rows give
 * byte-identical output whatever order they arrive in. Duplicate ids are a bug upstream: throws.
 */
export function buildIndexText(samples: readonly RagSample[]): string {
  return buildIndexTextFromDocs(samples.map(toIndexedDoc));
}

/** As buildIndexText, from the documents (sorted here, in place): the phase converts rows as it reads them. */
export function buildIndexTextFromDocs(docs: IndexedDoc[]): string {
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < docs.length; i++)
    if ((docs[i] as IndexedDoc).id === (docs[i - 1] as IndexedDoc).id)
      throw new Error(`duplicate RAG id ${(docs[i] as IndexedDoc).id}`);
  const ms = new MiniSearch<IndexedDoc>(options);
  ms.addAll(docs);
  const file: IndexFile = {
    format: 'distill-rag-index',
    format_version: INDEX_FORMAT_VERSION,
    parameters: indexParameters(),
    documents: docs.length,
    minisearch: ms.toJSON() as unknown as Record<string, unknown>,
  };
  return `${JSON.stringify(file)}\n`;
}

/** A loaded index: the search engine plus its document count. */
export interface RagIndex {
  search: MiniSearch<IndexedDoc>;
  documents: number;
}

/**
 * Parses an index file's text. Returns an error message (what is wrong, and to rebuild) instead of
 * throwing, so the caller can name the file and the command.
 */
export function parseIndexText(text: string): { ok: true; index: RagIndex } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON (${(e as Error).message})` };
  }
  const res = IndexFile.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0];
    return {
      ok: false,
      error: `not a distill RAG index of format version ${INDEX_FORMAT_VERSION} (${i?.path.join('.') || '(root)'}: ${i?.message})`,
    };
  }
  if (JSON.stringify(res.data.parameters) !== JSON.stringify(indexParameters()))
    return { ok: false, error: 'built with other index parameters than this code uses' };
  try {
    const search = MiniSearch.loadJS<IndexedDoc>(
      res.data.minisearch as unknown as Parameters<typeof MiniSearch.loadJS>[0],
      options,
    );
    if (search.documentCount !== res.data.documents)
      return {
        ok: false,
        error: `holds ${search.documentCount} documents, its header says ${res.data.documents}`,
      };
    return { ok: true, index: { search, documents: res.data.documents } };
  } catch (e) {
    return { ok: false, error: `cannot be loaded (${(e as Error).message})` };
  }
}

/** Every document in the index (id, kind, task_key, trace_id), sorted by id: the universe for relevance. */
export function allDocs(index: RagIndex): { id: string; kind: string; task_key: string; trace_id: string }[] {
  return index.search
    .search(MiniSearch.wildcard)
    .map((h) => ({
      id: String(h.id),
      kind: String(h['kind'] ?? ''),
      task_key: String(h['task_key'] ?? ''),
      trace_id: String(h['trace_id'] ?? ''),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
