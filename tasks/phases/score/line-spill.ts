import { promises as fsp } from 'node:fs';

/** Characters buffered per partition at most, and in all partitions together. */
const FLUSH_AT = 64 * 1024;
const TOTAL_BUFFER = 16 * 1024 * 1024;
/** Above this many partitions a file is opened for each flush instead of held open (file handles are a limited resource). */
const HELD_OPEN = 256;

/**
 * Append-only JSONL spill files, one per partition, each buffered. The buffers together stay under
 * TOTAL_BUFFER characters (each flushes at TOTAL_BUFFER / partitions, between 4 Ki and 64 Ki), so
 * memory does not grow with the number of partitions; with many partitions the files are not held
 * open. Lines are written as given (no newline inside a line).
 */
export class LineSpill {
  private readonly bufs: string[][];
  private readonly sizes: number[];
  private readonly handles: (fsp.FileHandle | null)[];
  private readonly flushAt: number;
  private readonly holdOpen: boolean;
  readonly lines: number[];

  /** `bufferChars` (all partitions together) is for tests. */
  constructor(
    readonly paths: readonly string[],
    bufferChars = TOTAL_BUFFER,
  ) {
    this.bufs = paths.map(() => []);
    this.sizes = paths.map(() => 0);
    this.handles = paths.map(() => null);
    this.lines = paths.map(() => 0);
    this.flushAt = Math.max(4096, Math.min(FLUSH_AT, Math.floor(bufferChars / Math.max(1, paths.length))));
    this.holdOpen = paths.length <= HELD_OPEN;
  }

  /** Appends one line to partition `p`. */
  async append(p: number, line: string): Promise<void> {
    const buf = this.bufs[p] as string[];
    buf.push(line, '\n');
    this.lines[p] = (this.lines[p] as number) + 1;
    this.sizes[p] = (this.sizes[p] as number) + line.length + 1;
    if ((this.sizes[p] as number) >= this.flushAt) await this.flush(p);
  }

  private async flush(p: number): Promise<void> {
    const buf = this.bufs[p] as string[];
    if (buf.length === 0) return;
    const data = buf.join('');
    this.bufs[p] = [];
    this.sizes[p] = 0;
    if (!this.holdOpen) {
      await fsp.appendFile(this.paths[p] as string, data);
      return;
    }
    let fh = this.handles[p] ?? null;
    if (!fh) this.handles[p] = fh = await fsp.open(this.paths[p] as string, 'a');
    await fh.write(data);
  }

  /** Flushes and closes every partition file (a partition with no line has no file). */
  async close(): Promise<void> {
    for (let p = 0; p < this.paths.length; p++) {
      await this.flush(p);
      await this.handles[p]?.close();
      this.handles[p] = null;
    }
  }
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units: a fast, stable partition key. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Partitions for `bytes` of input at about `perPartition` bytes each: a power of two, so adding a little data rarely changes it. */
export function partitionCount(bytes: number, perPartition: number): number {
  let k = 1;
  while (k * perPartition < bytes) k *= 2;
  return k;
}
