import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { jsonlLines } from './jsonl-read.ts';
import { sortMemoryScale } from './tuning.ts';
import { Utf8Chunks } from './utf8-chunks.ts';

/**
 * An external merge sort for JSONL payloads with a string key, so a phase that needs a global
 * order (rows sorted by id, runs grouped by a join key) holds at most `memoryChars` of them at a
 * time. Rows are buffered; a full buffer is sorted and spilled to a run file; `sorted()` merges
 * the runs (a binary heap over one reader per run). Order is by key in UTF-16 code-unit order
 * (the `<` of every comparator in this project), ties in insertion order, so the result equals a
 * stable in-memory sort. A key must not contain a newline's meaning: it is written JSON-escaped.
 */

/** One sorted row: its key and its payload (one line of JSON text, no newline). */
export interface SortedRow {
  key: string;
  line: string;
}

/** Default buffer size, in UTF-16 characters of keys + payloads (≈ 2 bytes each in the heap). */
export const SORT_MEMORY_CHARS = 24 * 1024 * 1024;

/**
 * The buffer of an export's row sorters (all rows of the export sorted by shard and id). With the
 * default, a 100k-row corpus's whole export fitted in it and a 1M one filled it: the sorter alone
 * made the export's peak RSS grow with the corpus (~20–40 MB). 4 Mi characters is full at either
 * size; a larger corpus costs more run files to merge, not memory.
 */
export const EXPORT_SORT_CHARS = 4 * 1024 * 1024;

const cmpKey = (a: SortedRow, b: SortedRow): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class ExternalSorter {
  private buf: SortedRow[] = [];
  private chars = 0;
  private readonly runs: string[] = [];
  private count = 0;
  private done = false;

  /** `dir` is a scratch folder owned by the caller (it must exist); run files are named `<name>-<n>.run`. */
  private readonly memoryChars: number;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    memoryChars = SORT_MEMORY_CHARS,
  ) {
    this.memoryChars = Math.max(1, Math.floor(memoryChars * sortMemoryScale()));
  }

  /** Rows added so far. */
  get size(): number {
    return this.count;
  }

  /** Adds one row; spills the buffer when it is full. */
  async add(key: string, line: string): Promise<void> {
    if (this.done) throw new Error(`ExternalSorter ${this.name}: add after sorted()`);
    this.buf.push({ key, line });
    this.chars += key.length + line.length + 16;
    this.count++;
    if (this.chars >= this.memoryChars) await this.spill();
  }

  private async spill(): Promise<void> {
    if (this.buf.length === 0) return;
    this.buf.sort(cmpKey); // stable: ties keep insertion order
    const path = join(this.dir, `${this.name}-${this.runs.length}.run`);
    const fh = await fsp.open(path, 'wx');
    try {
      const out = new Utf8Chunks(async (data) => {
        await fh.write(data);
      });
      // JSON.stringify escapes any tab in the key, so the first raw tab ends it
      for (const r of this.buf) await out.line(JSON.stringify(r.key), r.line);
      await out.flush();
    } finally {
      await fh.close();
    }
    this.runs.push(path);
    this.buf = [];
    this.chars = 0;
  }

  /** Every row added, in key order (ties in insertion order). Call once; run files are deleted as they are used up. */
  async *sorted(): AsyncGenerator<SortedRow> {
    if (this.done) throw new Error(`ExternalSorter ${this.name}: sorted() called twice`);
    this.done = true;
    if (this.runs.length === 0) {
      const rows = this.buf.sort(cmpKey);
      this.buf = [];
      yield* rows;
      return;
    }
    await this.spill();
    const sources = this.runs.map((path) => readRun(path));
    // heap of [row, source index]; ties broken by source index (earlier runs hold earlier rows)
    const heap: { row: SortedRow; src: number }[] = [];
    const less = (a: { row: SortedRow; src: number }, b: { row: SortedRow; src: number }): boolean =>
      a.row.key < b.row.key ? true : a.row.key > b.row.key ? false : a.src < b.src;
    const push = (e: { row: SortedRow; src: number }): void => {
      heap.push(e);
      for (let i = heap.length - 1; i > 0;) {
        const p = (i - 1) >> 1;
        if (!less(heap[i] as (typeof heap)[number], heap[p] as (typeof heap)[number])) break;
        [heap[i], heap[p]] = [heap[p] as (typeof heap)[number], heap[i] as (typeof heap)[number]];
        i = p;
      }
    };
    const pop = (): { row: SortedRow; src: number } => {
      const top = heap[0] as (typeof heap)[number];
      const last = heap.pop() as (typeof heap)[number];
      if (heap.length > 0) {
        heap[0] = last;
        for (let i = 0; ;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && less(heap[l] as (typeof heap)[number], heap[m] as (typeof heap)[number]))
            m = l;
          if (r < heap.length && less(heap[r] as (typeof heap)[number], heap[m] as (typeof heap)[number]))
            m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m] as (typeof heap)[number], heap[i] as (typeof heap)[number]];
          i = m;
        }
      }
      return top;
    };
    try {
      for (let i = 0; i < sources.length; i++) {
        const first = await (sources[i] as AsyncGenerator<SortedRow>).next();
        if (!first.done) push({ row: first.value, src: i });
      }
      while (heap.length > 0) {
        const top = pop();
        yield top.row;
        const next = await (sources[top.src] as AsyncGenerator<SortedRow>).next();
        if (!next.done) push({ row: next.value, src: top.src });
      }
    } finally {
      for (const s of sources) await s.return(undefined);
      for (const path of this.runs) await fsp.rm(path, { force: true });
    }
  }
}

/** Reads one run file back, in small chunks: a merge reads one reader per run at once. */
async function* readRun(path: string): AsyncGenerator<SortedRow> {
  for await (const { text } of jsonlLines(path, 64 * 1024)) {
    const tab = text.indexOf('\t');
    yield { key: JSON.parse(text.slice(0, tab)) as string, line: text.slice(tab + 1) };
  }
}
