import { promises as fsp } from 'node:fs';
import SearchableMap from 'minisearch/SearchableMap';
import { growableU32 } from '../../lib/growable.ts';
import {
  INDEX_FIELDS,
  INDEX_FORMAT_VERSION,
  indexParameters,
  STORED_FIELDS,
  terms,
  type IndexedDoc,
} from '../../lib/rag-index.ts';

/**
 * Writes the RAG index file (the same bytes as `buildIndexTextFromDocs`, MiniSearch's own
 * `toJSON` in our envelope) in bounded memory, for the index-rag phase.
 *
 * Why not MiniSearch itself: it can only build the index whole in memory (a Map of every term's
 * postings per field, every stored field) and then serialize it to one string; on the 1M-row
 * bench corpus that held 256–400 MB of heap (index-rag peaked at 641 MB resident, the one phase
 * over 512 MB). Here nothing that grows with the corpus is held but the vocabulary and two numbers
 * a document:
 *
 * - pass A reads the documents (in id order) and computes what MiniSearch computes when it adds
 *   them: each field's length (its number of distinct terms), the running average field lengths
 *   (same float operations, so the same bits), and the order of the term dictionary: the terms go
 *   into MiniSearch's own radix tree (`minisearch/SearchableMap`) in the order MiniSearch inserts
 *   them, so iterating it gives `toJSON`'s term order;
 * - pass B writes `documentIds`, then `fieldLength` and `averageFieldLength` from pass A;
 * - pass C writes `storedFields` and spills every posting (term rank, field, document, count) as
 *   four int32s to a partition file by term rank; partitions are cut so each holds at most
 *   `partitionPostings` postings;
 * - the index is written one partition at a time: a counting sort by (rank, field) keeps the
 *   document order, which is ascending, as `Object.fromEntries` of MiniSearch's Maps prints them.
 *
 * Tested byte-equal to the MiniSearch path (test/replay/rag-index-stream.test.ts), with every
 * partition size.
 */

/** Documents in ascending, unique id order; called once per pass. */
export type DocPass = () => AsyncIterable<IndexedDoc>;

/** Where the text goes (a staged file writer). */
export interface TextSink {
  writeText(chunk: string): Promise<void>;
}

/** What the writer counted, for the phase's summary and self-check. */
export interface IndexStreamStats {
  documents: number;
  terms: number;
  postings: number;
  partitions: number;
}

/** Raised at the end of pass A when the documents are not in ascending id order (the caller sorts them first). */
export class NotSortedError extends Error {}

const FIELD_COUNT = INDEX_FIELDS.length;

/** Buffered text output: one write per ~1 MiB. */
class Chunked {
  private parts: string[] = [];
  private len = 0;
  constructor(private readonly sink: TextSink) {}
  async put(s: string): Promise<void> {
    this.parts.push(s);
    this.len += s.length;
    if (this.len >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.len = 0;
    await this.sink.writeText(text);
  }
}

/** Appends int32 quadruples to one partition file. */
class PostingSpill {
  private buf = new Int32Array(4 * 16384);
  private used = 0;
  private fh: fsp.FileHandle | null = null;
  constructor(readonly path: string) {}
  async add(rank: number, field: number, doc: number, count: number): Promise<void> {
    const b = this.buf;
    b[this.used] = rank;
    b[this.used + 1] = field;
    b[this.used + 2] = doc;
    b[this.used + 3] = count;
    this.used += 4;
    if (this.used === b.length) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.used === 0) return;
    this.fh ??= await fsp.open(this.path, 'wx');
    await this.fh.write(new Uint8Array(this.buf.buffer, 0, this.used * 4));
    this.used = 0;
  }
  async close(): Promise<void> {
    await this.flush();
    if (this.fh) await this.fh.close();
    this.fh = null;
  }
}

/** A spill file read straight into an Int32Array (no second copy to align it); none written = empty. */
async function readInt32s(path: string): Promise<Int32Array> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Int32Array(0);
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const q = new Int32Array(size / 4);
    const bytes = new Uint8Array(q.buffer);
    for (let off = 0; off < size;) {
      const { bytesRead } = await fh.read(bytes, off, size - off, off);
      if (bytesRead === 0) throw new Error(`${path} ended early`);
      off += bytesRead;
    }
    return q;
  } finally {
    await fh.close();
  }
}

/** The distinct terms of one field of a document, with their counts, in first-seen order. */
function termCounts(tokens: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of tokens) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/**
 * Writes the index file text for the documents `pass` yields to `sink`. `scratchPath(name)` names
 * spill files (removed by the caller's scratch folder). Throws NotSortedError when the ids are not
 * ascending (before writing anything), and an Error on a duplicate id next to its twin (as the
 * in-memory builder does; in sorted rows every duplicate is).
 */
export async function writeIndexStream(
  pass: DocPass,
  sink: TextSink,
  scratchPath: (name: string) => string,
  partitionPostings: number,
): Promise<IndexStreamStats> {
  // pass A: field lengths, average field lengths, term order, postings per term
  const tree = new SearchableMap<number>();
  const fieldLength = growableU32(); // FIELD_COUNT per document
  const perTerm = growableU32(); // postings (document × field) per term ordinal
  const avg: number[] = [];
  let documents = 0;
  let postings = 0;
  let prev: string | null = null;
  let unsorted: string | null = null; // read on to the end, so every row is checked before the caller sorts
  for await (const doc of pass()) {
    if (prev !== null && doc.id <= prev) {
      if (doc.id === prev) throw new Error(`duplicate RAG id ${doc.id}`);
      unsorted ??= `RAG rows are not in id order (${doc.id} after ${prev})`;
    }
    prev = doc.id;
    const count = documents; // MiniSearch: documents already added
    for (let f = 0; f < FIELD_COUNT; f++) {
      const tokens = terms(doc[INDEX_FIELDS[f] as (typeof INDEX_FIELDS)[number]]);
      const distinct = termCounts(tokens);
      fieldLength.push(distinct.size);
      avg[f] = ((avg[f] || 0) * count + distinct.size) / (count + 1); // MiniSearch.addFieldLength, same operations
      for (const t of distinct.keys()) {
        let ord = tree.get(t);
        if (ord === undefined) {
          ord = perTerm.length;
          tree.set(t, ord);
          perTerm.push(0);
        }
        perTerm.a[ord] = (perTerm.a[ord] as number) + 1;
      }
      postings += distinct.size;
    }
    documents++;
  }
  if (unsorted !== null) throw new NotSortedError(unsorted);
  // rank of each term ordinal = its place in the tree's iteration order; partitions cut by postings
  const termCount = perTerm.length;
  const rankOf = new Int32Array(termCount);
  const partitionStart: number[] = [0]; // first rank of each partition
  {
    let rank = 0;
    let inPart = 0;
    for (const [, ord] of tree) {
      rankOf[ord] = rank;
      const p = perTerm.a[ord] as number;
      if (inPart > 0 && inPart + p > partitionPostings) {
        partitionStart.push(rank);
        inPart = 0;
      }
      inPart += p;
      rank++;
    }
  }
  perTerm.a = new Uint32Array(0);
  const partitions = partitionStart.length;
  const partOfRank = (r: number): number => {
    let lo = 0;
    let hi = partitions - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((partitionStart[mid] as number) <= r) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const out = new Chunked(sink);
  const N = String(documents);
  await out.put(
    `{"format":"distill-rag-index","format_version":${INDEX_FORMAT_VERSION},"parameters":${JSON.stringify(indexParameters())},"documents":${N},"minisearch":{"documentCount":${N},"nextId":${N},"documentIds":{`,
  );
  // pass B: documentIds
  let i = 0;
  for await (const doc of pass()) {
    await out.put(`${i === 0 ? '' : ','}"${i}":${JSON.stringify(doc.id)}`);
    i++;
  }
  if (i !== documents) throw new Error(`RAG rows changed between passes (${documents} then ${i})`);
  await out.put(
    `},"fieldIds":${JSON.stringify(Object.fromEntries(INDEX_FIELDS.map((f, k) => [f, k])))},"fieldLength":{`,
  );
  for (let d = 0; d < documents; d++) {
    const lens = Array.from(fieldLength.a.subarray(d * FIELD_COUNT, (d + 1) * FIELD_COUNT));
    await out.put(`${d === 0 ? '' : ','}"${d}":${JSON.stringify(lens)}`);
  }
  fieldLength.a = new Uint32Array(0);
  await out.put(`},"averageFieldLength":${JSON.stringify(avg)},"storedFields":{`);
  // pass C: storedFields, and every posting spilled to its partition
  const spills = partitionStart.map((_, p) => new PostingSpill(scratchPath(`postings-${p}.bin`)));
  let spilled = 0;
  i = 0;
  for await (const doc of pass()) {
    const stored: Record<string, string> = {};
    for (const f of STORED_FIELDS) stored[f] = doc[f];
    await out.put(`${i === 0 ? '' : ','}"${i}":${JSON.stringify(stored)}`);
    for (let f = 0; f < FIELD_COUNT; f++) {
      for (const [t, c] of termCounts(terms(doc[INDEX_FIELDS[f] as (typeof INDEX_FIELDS)[number]]))) {
        const ord = tree.get(t);
        if (ord === undefined)
          throw new Error(`RAG rows changed between passes (term ${JSON.stringify(t)} unseen)`);
        const r = rankOf[ord] as number;
        await (spills[partOfRank(r)] as PostingSpill).add(r, f, i, c);
        spilled++;
      }
    }
    i++;
  }
  for (const s of spills) await s.close();
  if (i !== documents || spilled !== postings)
    throw new Error(
      `RAG rows changed between passes (${documents} documents / ${postings} postings, then ${i} / ${spilled})`,
    );
  await out.put('},"dirtCount":0,"index":[');
  // the index, one partition of term ranks at a time, in the tree's order
  const termIter = tree.keys();
  let written = 0;
  for (let p = 0; p < partitions; p++) {
    const lo = partitionStart[p] as number;
    const hi = p + 1 < partitions ? (partitionStart[p + 1] as number) : termCount;
    const q = await readInt32s(scratchPath(`postings-${p}.bin`));
    const n = q.length / 4;
    // counting sort of postings by (rank, field); stable, so documents stay ascending
    const buckets = (hi - lo) * FIELD_COUNT;
    const start = new Int32Array(buckets + 1);
    for (let k = 0; k < n; k++) {
      const b = ((q[4 * k] as number) - lo) * FIELD_COUNT + (q[4 * k + 1] as number) + 1;
      start[b] = (start[b] as number) + 1;
    }
    for (let b = 0; b < buckets; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
    const order = new Int32Array(n);
    const fill = start.slice(0, buckets);
    for (let k = 0; k < n; k++) {
      const b = ((q[4 * k] as number) - lo) * FIELD_COUNT + (q[4 * k + 1] as number);
      order[fill[b] as number] = k;
      fill[b] = (fill[b] as number) + 1;
    }
    for (let r = lo; r < hi; r++) {
      const term = termIter.next().value as string;
      let entry = `${written === 0 ? '' : ','}[${JSON.stringify(term)},{`;
      let firstField = true;
      for (let f = 0; f < FIELD_COUNT; f++) {
        const b = (r - lo) * FIELD_COUNT + f;
        const from = start[b] as number;
        const to = start[b + 1] as number;
        if (from === to) continue;
        entry += `${firstField ? '' : ','}"${f}":{`;
        firstField = false;
        for (let j = from; j < to; j++) {
          const k = order[j] as number;
          entry += `${j === from ? '' : ','}"${q[4 * k + 2]}":${q[4 * k + 3]}`;
        }
        entry += '}';
      }
      await out.put(`${entry}}]`);
      written++;
    }
  }
  if (written !== termCount)
    throw new Error(`self-check failed: wrote ${written} index terms, the dictionary holds ${termCount}`);
  await out.put('],"serializationVersion":2}}\n');
  await out.flush();
  return { documents, terms: termCount, postings, partitions };
}
