import { createHash, type Hash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { maybeFault } from './fault.ts';

const FLUSH_AT = 1 << 20;

/**
 * A cap on the characters buffered by a group of writers (a phase with one writer per day
 * partition would otherwise hold up to FLUSH_AT in each): past it, every writer of the group
 * flushes.
 */
export class WriteBudget {
  buffered = 0;
  readonly writers = new Set<JsonlWriter>();
  constructor(readonly cap: number) {}

  async flushAll(): Promise<void> {
    for (const w of this.writers) await w.flushBuffer();
  }
}

/** What a writer produced: enough for a manifest entry. */
export interface WrittenFile {
  sha256: string;
  bytes: number;
  /** JSONL rows; null for a non-JSONL file. */
  rows: number | null;
}

/**
 * Appends JSONL rows to a new file, hashing as it goes. `close()` flushes and fsyncs. The file is
 * created exclusively (`wx`): a writer never silently overwrites.
 */
export class JsonlWriter {
  private fh: fsp.FileHandle | null = null;
  private buf: string[] = [];
  private bufLen = 0;
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private rows = 0;

  constructor(
    readonly path: string,
    private readonly budget: WriteBudget | null = null,
    /** A plain text file (written with writeText): its entry has no row count. */
    private readonly text = false,
  ) {
    budget?.writers.add(this);
  }

  /** Writes one row; `line` must already be serialized JSON without a newline. */
  async writeLine(line: string): Promise<void> {
    this.buf.push(line, '\n');
    this.rows++;
    if (this.counted(line.length + 1)) await this.flushDue();
  }

  /**
   * Writes text as it is (no newline added), for a file built in pieces; `rows` is the number of
   * JSONL rows the piece ends (none for a plain text file).
   */
  async writeText(chunk: string, rows = 0): Promise<void> {
    this.buf.push(chunk);
    this.rows += rows;
    if (this.counted(chunk.length)) await this.flushDue();
  }

  /**
   * Appends bytes that already are whole JSONL rows (`rows` of them, each ending in a newline), as
   * they are: a row range copied from a published file (build-evidence's incremental build).
   */
  async writeRows(data: Buffer, rows: number): Promise<void> {
    await this.flush();
    if (!this.fh) {
      await fsp.mkdir(dirname(this.path), { recursive: true });
      this.fh = await fsp.open(this.path, 'wx');
    }
    this.rows += rows;
    if (data.length === 0) return;
    this.hash.update(data);
    this.bytes += data.length;
    maybeFault('write');
    await this.fh.write(data);
  }

  /** Counts `chars` just buffered; true when this writer or its group is full (synchronous: the hot path awaits nothing else). */
  private counted(chars: number): boolean {
    this.bufLen += chars;
    if (this.budget) this.budget.buffered += chars;
    return this.bufLen >= FLUSH_AT || (this.budget !== null && this.budget.buffered >= this.budget.cap);
  }

  private async flushDue(): Promise<void> {
    if (this.bufLen >= FLUSH_AT) await this.flush();
    else await this.budget?.flushAll();
  }

  /** Writes out what is buffered (the file is created on the first write). */
  async flushBuffer(): Promise<void> {
    if (this.bufLen > 0) await this.flush();
  }

  /** Serializes and writes one record. */
  async write(value: unknown): Promise<void> {
    await this.writeLine(JSON.stringify(value));
  }

  private async flush(): Promise<void> {
    if (this.buf.length === 0 && this.fh) return;
    if (!this.fh) {
      await fsp.mkdir(dirname(this.path), { recursive: true });
      this.fh = await fsp.open(this.path, 'wx');
    }
    if (this.buf.length === 0) return;
    const data = Buffer.from(this.buf.join(''), 'utf8');
    if (this.budget) this.budget.buffered -= this.bufLen;
    this.buf = [];
    this.bufLen = 0;
    this.hash.update(data);
    this.bytes += data.length;
    maybeFault('write');
    await this.fh.write(data);
  }

  /** Flushes, fsyncs and closes; returns the file's hash, size and row count. */
  async close(): Promise<WrittenFile> {
    await this.flush();
    this.budget?.writers.delete(this);
    const fh = this.fh as fsp.FileHandle;
    try {
      maybeFault('fsync');
      await fh.sync();
    } finally {
      await fh.close();
    }
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, rows: this.text ? null : this.rows };
  }

  /** Closes without fsync, for the error path. */
  async abandon(): Promise<void> {
    this.budget?.writers.delete(this);
    if (this.fh) await this.fh.close().catch(() => undefined);
  }
}
