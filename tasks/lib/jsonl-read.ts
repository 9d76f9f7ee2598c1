import { createReadStream, promises as fsp, statSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { join } from 'node:path';

/**
 * The non-empty lines of a file this project wrote (UTF-8 JSONL, LF-terminated), with their
 * 0-based line numbers. Reads `chunk`-byte chunks (1 MiB unless given) into two buffers, the next
 * read in flight while the lines of the last one are handed out (reading 1.6 GB of cache files:
 * 1.2–1.7 s → 1.0–1.1 s), and decodes each line once, so memory is bounded by two chunks plus one
 * line. Not for source files: those go through the byte-level readers in source-reader.ts, which
 * report bad bytes instead of assuming they cannot occur. `onBytes`, when given, sees every byte
 * of the file in order (blank lines, a missing final newline and all), each chunk before its lines
 * are handed out: for a hash of the file as it is, in the same read.
 */
export async function* jsonlLines(
  path: string,
  chunk = 1 << 20,
  onBytes?: (bytes: Buffer) => void,
): AsyncGenerator<{ text: string; line: number }> {
  const fh = await fsp.open(path, 'r');
  let next: Promise<{ bytesRead: number }> | null = null;
  try {
    // buffers no larger than the file (plus one byte, so the read that finds its end needs no
    // second round): two 1 MiB buffers per small file are external memory V8 counts, and a build
    // reading thousands of small files then ran a full mark-compact every few dozen files. A read
    // that fills its buffer means the file is longer than its size said (it grew since, or it is a
    // pipe or a /proc file, of size 0): the buffers then grow to `chunk`, as before; one-byte reads
    // of such a file (and a line carried over byte by byte) took seconds for 80 KB
    const most = chunk;
    const { size } = await fh.stat();
    chunk = Math.max(1, Math.min(most, size + 1));
    const bufs = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
    let which = 0;
    let carry: Buffer | null = null;
    let line = 0;
    next = fh.read(bufs[0] as Buffer, 0, chunk, null);
    for (;;) {
      const { bytesRead } = await next;
      next = null;
      if (bytesRead === 0) break;
      const buf = bufs[which] as Buffer;
      onBytes?.(buf.subarray(0, bytesRead));
      which ^= 1;
      if (bytesRead === buf.length) chunk = most;
      if ((bufs[which] as Buffer).length < chunk) bufs[which] = Buffer.allocUnsafe(chunk);
      // the other buffer is free: every line handed out below is a copy (toString, concat, from)
      next = fh.read(bufs[which] as Buffer, 0, chunk, null);
      let start = 0;
      for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < bytesRead; nl = buf.indexOf(10, start)) {
        let text: string;
        if (carry) {
          text = Buffer.concat([carry, buf.subarray(0, nl)]).toString('utf8');
          carry = null;
        } else text = buf.toString('utf8', start, nl);
        if (text !== '') yield { text, line };
        line++;
        start = nl + 1;
      }
      if (start < bytesRead) {
        const rest = buf.subarray(start, bytesRead);
        carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
      }
    }
    if (carry && carry.length > 0) yield { text: carry.toString('utf8'), line };
  } finally {
    // a consumer that stops early leaves a read in flight: let it land before closing the file
    if (next) await next.catch(() => undefined);
    await fh.close();
  }
}

/**
 * Streams the rows of JSONL files that this project wrote itself (already validated on the way
 * out), in the order given. Memory is bounded by one chunk plus one row.
 */
export async function* readJsonlFiles<T>(root: string, files: readonly string[]): AsyncGenerator<T> {
  for (const f of files) for await (const { text } of jsonlLines(join(root, f))) yield JSON.parse(text) as T;
}

/**
 * node:readline over a file (`\n` and `\r\n` end a line, as readline with `crlfDelay: Infinity`
 * reads them), through a read stream whose buffer is no larger than the file: a stream reads into
 * a new 64 KiB buffer each time, and the exports' rescan, verify and audit read hundreds of files
 * of a few KB, whose buffers V8 counts as external memory towards its next full collection.
 */
export function fileLines(path: string): Interface {
  let size = HIGH_WATER;
  try {
    size = statSync(path).size;
  } catch {
    // the stream reports it (ENOENT and the rest), as before
  }
  return createInterface({
    input: createReadStream(path, {
      encoding: 'utf8',
      highWaterMark: Math.min(HIGH_WATER, Math.max(size + 1, 1024)),
    }),
    crlfDelay: Infinity,
  });
}
const HIGH_WATER = 64 * 1024;
