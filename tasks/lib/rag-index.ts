import MiniSearch, { type Options } from 'minisearch';
import { z } from 'zod';
import type { RagSample } from '../../schemas/rag-sample.ts';

/**
 * The BM25 retrieval index over the RAG corpus, in segments (docs/replay.md, "The index"). Pure:
 * rows in, file texts out, and the query side over the loaded files. The phase shell
 * (tasks/phases/index-rag/run.ts) reads and writes the files, tasks/replay/load-index.ts loads them.
 *
 * Layout of data/rag-index/ (format version 2):
 *
 *   segments/<shard>.jsonl   one segment per exports/rag/documents/<shard>.jsonl, three lines:
 *                            1. header: shard, documents, their ids (ascending) and field lengths
 *                            2. the stored fields of each document, in id order
 *                            3. the postings: [term, [doc, count, ...] per field], terms ascending
 *   stats.json               the corpus statistics: document count and average field lengths
 *                            (computed as MiniSearch computes them: a running average over every
 *                            document in id order), and the list of segments
 *
 * A segment depends on its shard alone, so an incremental build writes only the segments whose
 * shard changed, and stats.json is recomputed from the segments' headers. Document frequencies are
 * summed over the segments at query time. The scores are MiniSearch's (7.x) BM25+, computed here
 * with its formula and its order of float operations, so they are the bits a MiniSearch index of
 * the whole corpus gives (test/replay/rag-segments.test.ts compares the two).
 */

/** Version of the index format; a mismatch means "rebuild with npm run index-rag". Version 1 was one MiniSearch file (index.json). */
export const INDEX_FORMAT_VERSION = 2;
/** The corpus statistics file inside data/rag-index/. */
export const STATS_FILE = 'stats.json';
/** The folder of the segments inside data/rag-index/. */
export const SEGMENTS_DIR = 'segments';
/** A shard's segment file, relative to data/rag-index/. */
export const segmentFile = (shard: string): string => `${SEGMENTS_DIR}/${shard}.jsonl`;
/** The single file of format version 1 (only to recognise that layout). */
export const LEGACY_INDEX_FILE = 'index.json';

/** Fields a document is indexed under: `task` (the task line of a run, or a document's title) and `text`. */
export const INDEX_FIELDS = ['task', 'text'] as const;
/** Fields stored with each document, so a query needs only the index file. */
export const STORED_FIELDS = ['text', 'kind', 'task_key', 'trace_id', 'title', 'stream'] as const;
/**
 * Ranking parameters: BM25+ with MiniSearch's defaults, the task field counting double, exact terms
 * only (no prefix or fuzzy expansion: `search` below relies on it), query terms combined with OR.
 */
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

/** MiniSearch's options for the same index: the reference the segment scoring is tested against. */
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

/** The parameters the index was built with (recorded in the manifest and stats.json, and checked on load). */
export function indexParameters(): Record<string, unknown> {
  return {
    format_version: INDEX_FORMAT_VERSION,
    engine: 'bm25-segments',
    scoring: 'minisearch-7-bm25plus',
    layout: 'segment-per-shard',
    fields: [...INDEX_FIELDS],
    stored_fields: [...STORED_FIELDS],
    ranking: RANKING,
    tokenizer: 'nfkc-lower-alnum-stop-plural-v1',
  };
}

const FIELD_COUNT = INDEX_FIELDS.length;
/** A shard name as the exports write it (a file name, never a path: `2026-10-01`, `evidence`, `undated`). */
const ShardName = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/, 'not a shard name');
const byId = (a: IndexedDoc, b: IndexedDoc): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Building: one segment per shard, then the corpus statistics from every segment's header.

/** The first line of a segment: what the statistics are computed from. */
export const SegmentHeader = z.strictObject({
  format: z.literal('distill-rag-segment'),
  format_version: z.literal(INDEX_FORMAT_VERSION),
  shard: ShardName,
  documents: z.number().int().nonnegative(),
  /** The documents' ids, ascending. */
  ids: z.array(z.string()),
  /** Each document's field lengths (distinct terms per field, INDEX_FIELDS order), flat. */
  field_length: z.array(z.number().int().nonnegative()),
});
export type SegmentHeader = z.infer<typeof SegmentHeader>;

/** A built segment: its header, and its file's text in pieces (`text`). */
export interface BuiltSegment {
  header: SegmentHeader;
  /**
   * The segment file's text, three newline-terminated lines (the header, `{"stored":[…]}`,
   * `{"index":[…]}`), as pieces of about 64 K characters: the same bytes as JSON.stringify of
   * each line, without ever holding a line whole (at 1M rows a day's shard makes lines of
   * megabytes, and index-rag's peak RSS grew with them).
   */
  text(): Generator<string>;
  terms: number;
  postings: number;
}

/** `[a,b,…]` of the items' JSON, in pieces of about `PIECE` characters (what JSON.stringify gives for the array). */
function* jsonArrayPieces(items: Iterable<unknown>): Generator<string> {
  let piece = '[';
  let first = true;
  for (const item of items) {
    piece += (first ? '' : ',') + JSON.stringify(item);
    first = false;
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}]`;
}
const PIECE = 1 << 16;

/**
 * Pure: one shard's documents → its segment (sorted by id here, in place). The same documents give
 * the same bytes whatever order they arrive in. Duplicate ids are a bug upstream: throws.
 */
export function buildSegment(shard: string, docs: IndexedDoc[]): BuiltSegment {
  docs.sort(byId);
  for (let i = 1; i < docs.length; i++)
    if ((docs[i] as IndexedDoc).id === (docs[i - 1] as IndexedDoc).id)
      throw new Error(`duplicate RAG id ${(docs[i] as IndexedDoc).id}`);
  const fieldLength: number[] = [];
  const postings = new Map<string, number[][]>();
  let postingCount = 0;
  for (let d = 0; d < docs.length; d++) {
    const doc = docs[d] as IndexedDoc;
    for (let f = 0; f < FIELD_COUNT; f++) {
      // MiniSearch: a field's length is its number of distinct terms; a posting counts every occurrence
      const counts = new Map<string, number>();
      for (const t of terms(doc[INDEX_FIELDS[f] as (typeof INDEX_FIELDS)[number]]))
        counts.set(t, (counts.get(t) ?? 0) + 1);
      fieldLength.push(counts.size);
      for (const [t, c] of counts) {
        let p = postings.get(t);
        if (!p) {
          p = INDEX_FIELDS.map(() => []);
          postings.set(t, p);
        }
        (p[f] as number[]).push(d, c);
        postingCount++;
      }
    }
  }
  const header: SegmentHeader = {
    format: 'distill-rag-segment',
    format_version: INDEX_FORMAT_VERSION,
    shard,
    documents: docs.length,
    ids: docs.map((d) => d.id),
    field_length: fieldLength,
  };
  const sortedTerms = [...postings.keys()].sort();
  return {
    header,
    *text() {
      yield `${JSON.stringify(header)}\n{"stored":`;
      yield* jsonArrayPieces(
        (function* () {
          for (const d of docs) yield STORED_FIELDS.map((f) => d[f]);
        })(),
      );
      yield '}\n{"index":';
      yield* jsonArrayPieces(
        (function* () {
          for (const t of sortedTerms) yield [t, ...(postings.get(t) as number[][])];
        })(),
      );
      yield '}\n';
    },
    terms: postings.size,
    postings: postingCount,
  };
}

/** stats.json: the corpus statistics every segment is scored with. */
export const StatsFile = z.strictObject({
  format: z.literal('distill-rag-index'),
  format_version: z.literal(INDEX_FORMAT_VERSION),
  parameters: z.record(z.string(), z.unknown()),
  documents: z.number().int().nonnegative(),
  /** MiniSearch's averageFieldLength: a running average over every document in id order, per field. */
  average_field_length: z.array(z.number()),
  /** The segments, in shard order, with their document counts. */
  segments: z.array(z.strictObject({ shard: ShardName, documents: z.number().int().nonnegative() })),
});
export type StatsFile = z.infer<typeof StatsFile>;

/**
 * Pure: the segments' headers (in shard order) → stats.json's text. The average field lengths are
 * MiniSearch's running averages, `avg = (avg * count + length) / (count + 1)` as each document is
 * added in id order, so they are computed over a merge of the segments by id (the same float
 * operations in the same order give the same bits). A duplicate id across segments throws.
 */
export function buildStatsText(headers: readonly SegmentHeader[]): string {
  const avg: number[] = [];
  // k-way merge of the segments' ascending ids, with a binary heap of segment numbers
  const pos = headers.map(() => 0);
  const idAt = (s: number): string => (headers[s] as SegmentHeader).ids[pos[s] as number] as string;
  const less = (a: number, b: number): boolean => idAt(a) < idAt(b);
  const heap: number[] = [];
  const push = (s: number): void => {
    heap.push(s);
    for (let i = heap.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!less(heap[i] as number, heap[up] as number)) break;
      [heap[i], heap[up]] = [heap[up] as number, heap[i] as number];
      i = up;
    }
  };
  const down = (): void => {
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l] as number, heap[m] as number)) m = l;
      if (r < heap.length && less(heap[r] as number, heap[m] as number)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m] as number, heap[i] as number];
      i = m;
    }
  };
  headers.forEach((h, s) => {
    if (h.ids.length > 0) push(s);
  });
  let count = 0;
  let prev: string | null = null;
  while (heap.length > 0) {
    const s = heap[0] as number;
    const h = headers[s] as SegmentHeader;
    const d = pos[s] as number;
    const id = h.ids[d] as string;
    if (prev !== null && id <= prev)
      throw new Error(
        id === prev ? `duplicate RAG id ${id} (in two segments)` : `segment ${h.shard}: ids not ascending`,
      );
    prev = id;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const length = h.field_length[d * FIELD_COUNT + f] as number;
      avg[f] = ((avg[f] || 0) * count + length) / (count + 1); // MiniSearch.addFieldLength, same operations
    }
    count++;
    pos[s] = d + 1;
    if (d + 1 < h.ids.length) down();
    else {
      heap[0] = heap[heap.length - 1] as number;
      heap.pop();
      if (heap.length > 0) down();
    }
  }
  const stats: StatsFile = {
    format: 'distill-rag-index',
    format_version: INDEX_FORMAT_VERSION,
    parameters: indexParameters(),
    documents: count,
    average_field_length: avg,
    segments: headers.map((h) => ({ shard: h.shard, documents: h.documents })),
  };
  return `${JSON.stringify(stats)}\n`;
}

/** Pure: whole index files (relative path → text) from documents grouped by shard (tests, small corpora). */
export function buildIndexFiles(shards: ReadonlyMap<string, readonly RagSample[]>): Map<string, string> {
  const files = new Map<string, string>();
  const headers: SegmentHeader[] = [];
  for (const shard of [...shards.keys()].sort()) {
    const seg = buildSegment(shard, (shards.get(shard) as RagSample[]).map(toIndexedDoc));
    files.set(segmentFile(shard), [...seg.text()].join(''));
    headers.push(seg.header);
  }
  files.set(STATS_FILE, buildStatsText(headers));
  return files;
}

// ---------------------------------------------------------------------------------------------
// Querying: the segments loaded, BM25 computed over them as MiniSearch computes it.

/** A loaded segment. */
export interface Segment {
  shard: string;
  ids: string[];
  fieldLength: number[];
  stored: string[][];
  /** term → postings per field, [doc, count, doc, count, ...] */
  postings: Map<string, number[][]>;
}

/** One hit of `search`: the document's id, its BM25 score (unrounded) and stored fields. */
export type SearchHit = { id: string; score: number } & Record<(typeof STORED_FIELDS)[number], string>;

const STORED_AT = Object.fromEntries(STORED_FIELDS.map((f, i) => [f, i])) as Record<
  (typeof STORED_FIELDS)[number],
  number
>;

/** MiniSearch's calcBM25Score, verbatim (the same operations in the same order). */
function bm25(
  termFreq: number,
  matchingCount: number,
  totalCount: number,
  fieldLength: number,
  avgFieldLength: number,
): number {
  const { k, b, d } = RANKING.bm25;
  const invDocFreq = Math.log(1 + (totalCount - matchingCount + 0.5) / (matchingCount + 0.5));
  return (
    invDocFreq * (d + (termFreq * (k + 1)) / (termFreq + k * (1 - b + (b * fieldLength) / avgFieldLength)))
  );
}

/** A loaded index: its document count, a query, and every document. */
export class RagIndex {
  private readonly offsets: number[] = [];
  private readonly boosts: number[] = INDEX_FIELDS.map(
    (f) => (RANKING.boost as Record<string, number | undefined>)[f] || 1,
  );
  constructor(
    readonly documents: number,
    private readonly avgFieldLength: readonly number[],
    private readonly segments: readonly Segment[],
  ) {
    let at = 0;
    for (const s of segments) {
      this.offsets.push(at);
      at += s.ids.length;
    }
  }

  /**
   * The documents matching any term of `query`, best first (ties by id), scored as MiniSearch
   * scores them over one index of every document: for each query term (repeats included) and each
   * field (INDEX_FIELDS order), BM25+ with the corpus-wide document count, average field length and
   * document frequency (summed over the segments), times the field's boost; summed per term, then
   * over the terms in query order, then multiplied by the number of distinct query terms matched.
   */
  search(query: string): SearchHit[] {
    const acc = new Map<number, { score: number; terms: string[] }>();
    const N = this.documents;
    for (const term of terms(query).filter((t) => !!t)) {
      const found = this.segments.map((s) => s.postings.get(term));
      const perTerm = new Map<number, number>();
      for (let f = 0; f < FIELD_COUNT; f++) {
        let df = 0;
        for (const p of found) if (p) df += (p[f] as number[]).length / 2;
        if (df === 0) continue;
        const boost = this.boosts[f] as number;
        const avg = this.avgFieldLength[f] as number;
        found.forEach((p, s) => {
          if (!p) return;
          const seg = this.segments[s] as Segment;
          const post = p[f] as number[];
          const base = this.offsets[s] as number;
          for (let j = 0; j < post.length; j += 2) {
            const d = post[j] as number;
            const raw = bm25(
              post[j + 1] as number,
              df,
              N,
              seg.fieldLength[d * FIELD_COUNT + f] as number,
              avg,
            );
            const weighted = 1 * 1 * boost * 1 * raw; // termWeight * termBoost * fieldBoost * docBoost * rawScore
            const key = base + d;
            const was = perTerm.get(key);
            perTerm.set(key, was === undefined ? weighted : was + weighted);
          }
        });
      }
      // OR: a document's score is the sum of its terms' scores, in query order
      for (const [key, score] of perTerm) {
        const e = acc.get(key);
        if (e === undefined) acc.set(key, { score, terms: [term] });
        else {
          e.score = e.score + score;
          if (!e.terms.includes(term)) e.terms.push(term);
        }
      }
    }
    const hits: SearchHit[] = [];
    for (const [key, { score, terms: matched }] of acc)
      hits.push({ ...this.doc(key), score: score * (matched.length || 1) });
    return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Every document (id and stored fields), sorted by id. */
  all(): SearchHit[] {
    const out: SearchHit[] = [];
    for (let key = 0; key < this.documents; key++) out.push({ ...this.doc(key), score: 1 });
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private doc(key: number): Omit<SearchHit, 'score'> {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.offsets[mid] as number) <= key) lo = mid;
      else hi = mid - 1;
    }
    const seg = this.segments[lo] as Segment;
    const d = key - (this.offsets[lo] as number);
    const st = seg.stored[d] as string[];
    const out = { id: seg.ids[d] as string } as Omit<SearchHit, 'score'>;
    for (const f of STORED_FIELDS) out[f] = st[STORED_AT[f]] as string;
    return out;
  }
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses stats.json's text; an error message (what is wrong) instead of throwing. */
export function parseStatsText(text: string): Parsed<StatsFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON (${(e as Error).message})` };
  }
  const res = StatsFile.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0];
    return {
      ok: false,
      error: `not the statistics of a distill RAG index of format version ${INDEX_FORMAT_VERSION} (${i?.path.join('.') || '(root)'}: ${i?.message})`,
    };
  }
  if (JSON.stringify(res.data.parameters) !== JSON.stringify(indexParameters()))
    return { ok: false, error: 'built with other index parameters than this code uses' };
  if (res.data.average_field_length.length !== FIELD_COUNT && res.data.documents > 0)
    return {
      ok: false,
      error: `has ${res.data.average_field_length.length} average field lengths, not ${FIELD_COUNT}`,
    };
  const sum = res.data.segments.reduce((a, s) => a + s.documents, 0);
  if (sum !== res.data.documents)
    return { ok: false, error: `lists segments of ${sum} documents, its header says ${res.data.documents}` };
  return { ok: true, value: res.data };
}

const SegmentStored = z.strictObject({ stored: z.array(z.array(z.string())) });
const SegmentIndex = z.strictObject({ index: z.array(z.array(z.unknown())) });

/** Parses a segment's text against the entry of stats.json that lists it; an error message instead of throwing. */
export function parseSegmentText(text: string, expect: StatsFile['segments'][number]): Parsed<Segment> {
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '')
    return { ok: false, error: `not a segment (${lines.length - 1} lines, expected 3)` };
  let header: SegmentHeader;
  let stored: string[][];
  let index: unknown[][];
  try {
    header = SegmentHeader.parse(JSON.parse(lines[0] as string));
    stored = SegmentStored.parse(JSON.parse(lines[1] as string)).stored;
    index = SegmentIndex.parse(JSON.parse(lines[2] as string)).index;
  } catch (e) {
    return {
      ok: false,
      error: `not a segment of format version ${INDEX_FORMAT_VERSION} (${(e as Error).message.split('\n')[0]})`,
    };
  }
  if (header.shard !== expect.shard || header.documents !== expect.documents)
    return {
      ok: false,
      error: `holds shard ${header.shard} of ${header.documents} documents, stats.json says ${expect.shard} of ${expect.documents}`,
    };
  const n = header.documents;
  if (header.ids.length !== n || header.field_length.length !== n * FIELD_COUNT || stored.length !== n)
    return { ok: false, error: `does not hold ${n} documents in every part` };
  const postings = new Map<string, number[][]>();
  for (const row of index) {
    const [term, ...fields] = row as [string, ...number[][]];
    if (typeof term !== 'string' || fields.length !== FIELD_COUNT)
      return { ok: false, error: `has a malformed postings entry (${JSON.stringify(row).slice(0, 60)})` };
    postings.set(term, fields);
  }
  return {
    ok: true,
    value: { shard: header.shard, ids: header.ids, fieldLength: header.field_length, stored, postings },
  };
}

/** Pure: an index from its files' texts (stats.json, then each segment's text by shard); `where` names the bad file. */
export function loadIndexTexts(
  statsText: string,
  segmentText: (shard: string) => string,
): { ok: true; value: RagIndex } | { ok: false; error: string; where: string } {
  const stats = parseStatsText(statsText);
  if (!stats.ok) return { ...stats, where: STATS_FILE };
  const segments: Segment[] = [];
  for (const entry of stats.value.segments) {
    const seg = parseSegmentText(segmentText(entry.shard), entry);
    if (!seg.ok) return { ...seg, where: segmentFile(entry.shard) };
    segments.push(seg.value);
  }
  return { ok: true, value: indexOf(stats.value, segments) };
}

/** The index of parsed files: stats.json and its segments, in its order. */
export function indexOf(stats: StatsFile, segments: readonly Segment[]): RagIndex {
  return new RagIndex(stats.documents, stats.average_field_length, segments);
}

/** Every document in the index (id, kind, task_key, trace_id), sorted by id: the universe for relevance. */
export function allDocs(index: RagIndex): { id: string; kind: string; task_key: string; trace_id: string }[] {
  return index.all().map((h) => ({ id: h.id, kind: h.kind, task_key: h.task_key, trace_id: h.trace_id }));
}

// ---------------------------------------------------------------------------------------------
// The reference: MiniSearch over the same documents, as format version 1 built it (tests only).

/** MiniSearch's index of the documents, added in id order as the single-file index was built. */
export function referenceMiniSearch(docs: readonly IndexedDoc[]): MiniSearch<IndexedDoc> {
  const sorted = [...docs].sort(byId);
  const ms = new MiniSearch<IndexedDoc>(options);
  ms.addAll(sorted);
  return ms;
}
