/**
 * Lines UTF-8 encoded straight into chunks (up to 1 MiB), each chunk handed to `write` when full: joining
 * the lines into one string and encoding that cost several times as much (the join flattens every
 * line built from pieces; ~6× in a micro-benchmark of payload-like lines). Used by the line cache
 * and the external sort's run files. A chunk handed to `write` is never reused, so `write` may keep
 * it (a stream's queue). A line is reserved 3 bytes per UTF-16 code unit (the most UTF-8 needs), so
 * a line that fits is never cut between chunks; a longer one is written on its own.
 */
/** The first chunk's size (see `next`). */
const FIRST_CHUNK = 16 * 1024;

export class Utf8Chunks {
  private buf: Buffer | null = null;
  private used = 0;
  /**
   * The size of the next chunk: 16 KiB, doubled after each full chunk up to `size`. A 1 MiB chunk
   * for every writer was external memory V8 counts towards its next full collection: in a build of
   * many small files (one line cache per source file) ~320 MB of such chunks for a 2 MB corpus,
   * and a mark-compact every few dozen files.
   */
  private next = FIRST_CHUNK;

  constructor(
    private readonly write: (data: Buffer) => Promise<void>,
    private readonly size = 1 << 20,
  ) {}

  /** Adds `a` + (`b` after a tab, when given) + a newline. */
  async line(a: string, b?: string): Promise<void> {
    const most = (a.length + (b?.length ?? 0)) * 3 + 2;
    if (this.buf !== null && this.used + most > this.buf.length) {
      if (this.buf.length < this.size) this.next = Math.min(this.size, this.buf.length * 2);
      await this.flush();
    }
    if (most > this.size) return this.write(Buffer.from(b === undefined ? `${a}\n` : `${a}\t${b}\n`, 'utf8'));
    const buf = (this.buf ??= Buffer.allocUnsafe(Math.min(this.size, Math.max(this.next, most))));
    this.used += buf.write(a, this.used, 'utf8');
    if (b !== undefined) {
      buf[this.used++] = 9;
      this.used += buf.write(b, this.used, 'utf8');
    }
    buf[this.used++] = 10;
  }

  /** Hands what is buffered to `write`. */
  async flush(): Promise<void> {
    if (this.buf === null || this.used === 0) return;
    const data = this.buf.subarray(0, this.used);
    this.buf = null;
    this.used = 0;
    await this.write(data);
  }
}
