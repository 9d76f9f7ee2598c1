import { constants, promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { maybeFault, sourceReadHook } from './fault.ts';
import { UserError } from './result.ts';
import { safeText } from './terminal-text.ts';
import type { BuildEvidenceReason } from '../phases/build-evidence/contract.ts';
import type { Drop as AnyDrop } from './result.ts';

type Drop = AnyDrop<BuildEvidenceReason>;

/**
 * Byte-level readers for source files. Not `readline`: it keeps a UTF-8 BOM, treats a lone CR as a
 * line break, replaces invalid UTF-8 silently and holds a 100 MB line whole (RELIABILITY.md §2.4).
 * Every unit knows its exact 0-based index and byte offset, and whether it was terminated.
 */
export interface SourceUnit {
  /** 0-based line number (JSONL) or element index (JSON array); 0 for a one-document file. */
  index: number;
  /** Byte offset of the unit's first byte in the file. */
  offset: number;
  /** Raw length in bytes, without the line terminator. */
  bytes: number;
  /** Where in a non-JSONL file the unit is, e.g. "$[3]"; undefined for JSONL. */
  locator?: string;
  /** Decoded text, BOM and trailing CR removed; null when `issue` is set. */
  text: string | null;
  /** Raw bytes (for hashing into a quarantine row), null when the unit was too long to keep. */
  raw: Buffer | null;
  /** SHA-256 of the raw bytes, computed while streaming when `raw` is null. */
  rawSha256: string | null;
  /** False for a final line that had no trailing newline. */
  terminated: boolean;
  flags: string[];
  /** Set when the unit cannot be parsed at all (BLANK_LINE, INVALID_UTF8, LINE_TOO_LONG, ...). */
  issue: Drop | null;
}

/** A reason the whole file is refused before any unit is read. */
export interface FileRefusal {
  reason: string;
  detail: string;
}

export interface OpenedSource {
  fh: fsp.FileHandle;
  /** Size in bytes of the file on disk when it was opened: the snapshot `[0, size)` every reader reads. */
  size: number;
  dev: number;
  ino: number;
  /** The path it was opened at (to check it was not replaced) and the name messages use for it. */
  path: string;
  name: string;
  /**
   * `gzip` for a file whose name ends in `.gz`: units, offsets and line numbers are those of the
   * decompressed stream (docs/sources.md); `size` and the snapshot hashes stay those of the file.
   */
  compression: 'none' | 'gzip';
  /** SHA-256 of the first min(size, HEAD_BYTES) bytes at open: `verifyUnchanged` compares it. */
  headSha256: string;
  /** When set, a reader that reads the whole snapshot checks its bytes hash to this (else SOURCE_CHANGED). */
  expectSha256?: string | null;
}

const CHUNK = 1 << 20;
/** How many leading bytes identify a file: a change in them during a read is SOURCE_CHANGED. */
const HEAD_BYTES = 64 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True for a name read through gzip decompression. */
export function isGzipName(path: string): boolean {
  return /\.gz$/i.test(path);
}

/**
 * Opens a regular file without following a final symlink and snapshots its size. `name` is how
 * messages call it (e.g. the project-relative path; escaped before printing).
 */
export async function openSource(
  path: string,
  name: string = path,
): Promise<{ ok: true; src: OpenedSource } | { ok: false; refusal: FileRefusal }> {
  let fh: fsp.FileHandle;
  try {
    maybeFault('read');
    fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      return {
        ok: false,
        refusal: {
          reason: 'SYMLINK_INPUT',
          detail: 'source is a symbolic link; point the config at the real file',
        },
      };
    throw e;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    return {
      ok: false,
      refusal: {
        reason: 'NOT_REGULAR_FILE',
        detail: 'source is not a regular file (directory, FIFO, device or socket)',
      },
    };
  }
  const src: OpenedSource = {
    fh,
    size: st.size,
    dev: st.dev,
    ino: st.ino,
    path,
    name,
    compression: isGzipName(path) ? 'gzip' : 'none',
    headSha256: '',
  };
  src.headSha256 = await headHash(src);
  return { ok: true, src };
}

/** SHA-256 of the file's first min(size, HEAD_BYTES) bytes as they are now (read through the handle). */
async function headHash(src: OpenedSource): Promise<string> {
  const n = Math.min(src.size, HEAD_BYTES);
  const b = Buffer.alloc(n);
  let done = 0;
  while (done < n) {
    const { bytesRead } = await src.fh.read(b, done, n - done, done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return createHash('sha256').update(b.subarray(0, done)).digest('hex');
}

/** The SOURCE_CHANGED error for a file that changed while it was read. */
export function sourceChangedError(src: Pick<OpenedSource, 'name' | 'size'>, what: string): UserError {
  return new UserError(
    'SOURCE_CHANGED',
    `SOURCE_CHANGED: ${safeText(src.name)}: ${what} while it was read (it was ${src.size} bytes at the start); nothing was published. ` +
      'Something rewrote, truncated or replaced the file during the build: rerun once it is done (a file that only grows is fine: it is read up to its size at the start).',
  );
}

/**
 * Checks, after a file was read, that it is still the file that was opened and holds what was
 * read: not shorter than the snapshot, not replaced or removed at its path, same leading bytes.
 * Throws SOURCE_CHANGED otherwise. A file that only grew passes.
 */
export async function verifyUnchanged(src: OpenedSource): Promise<void> {
  const st = await src.fh.stat();
  if (st.size < src.size) throw sourceChangedError(src, `it shrank to ${st.size} bytes`);
  let at: { dev: number; ino: number } | null;
  try {
    at = await fsp.lstat(src.path);
  } catch {
    at = null;
  }
  if (!at) throw sourceChangedError(src, 'it was removed or renamed');
  if (at.dev !== src.dev || at.ino !== src.ino)
    throw sourceChangedError(src, 'another file was put in its place');
  if ((await headHash(src)) !== src.headSha256)
    throw sourceChangedError(src, `its first ${Math.min(src.size, HEAD_BYTES)} bytes changed`);
}

/**
 * The raw bytes `[0, size)` of the snapshot, in order, through the open handle. A short read (the
 * file shrank) is SOURCE_CHANGED; so is a full pass whose bytes do not hash to `expectSha256`.
 * The yielded buffer is reused: consume it before asking for the next one (unless `fresh`).
 */
async function* rawChunks(src: OpenedSource, fresh = false): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(src.size, 1)));
  const hash = src.expectSha256 ? createHash('sha256') : null;
  let pos = 0;
  let n = 0;
  while (pos < src.size) {
    if (fresh && n > 0) buf = Buffer.allocUnsafe(buf.length);
    const { bytesRead } = await src.fh.read(buf, 0, Math.min(buf.length, src.size - pos), pos);
    if (bytesRead === 0) throw sourceChangedError(src, `it ended after ${pos} bytes`);
    const chunk = buf.subarray(0, bytesRead);
    hash?.update(chunk);
    pos += bytesRead;
    sourceReadHook(src.path, ++n);
    yield chunk;
  }
  if (hash && hash.digest('hex') !== src.expectSha256) throw sourceChangedError(src, 'its bytes changed');
}

/**
 * The content of the snapshot, in order: the file's bytes, or for a gzip file the decompressed
 * stream (decompressed as it is read, never whole). Damaged or incomplete gzip data is
 * SOURCE_UNREADABLE: the rows after the damage cannot be read, so nothing is published.
 */
export async function* contentChunks(src: OpenedSource): AsyncGenerator<Buffer> {
  if (src.compression === 'none') {
    yield* rawChunks(src);
    return;
  }
  const gz = createGunzip();
  let stop = false;
  let out = 0;
  const feeder = (async () => {
    for await (const c of rawChunks(src, true)) {
      if (stop) return;
      if (!gz.write(c)) await once(gz, 'drain');
    }
    gz.end();
  })();
  feeder.catch((e: unknown) => gz.destroy(e as Error));
  try {
    for await (const c of gz as AsyncIterable<Buffer>) {
      out += c.length;
      yield c;
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(
      'SOURCE_UNREADABLE',
      `SOURCE_UNREADABLE: ${safeText(src.name)}: the gzip data is damaged or incomplete after ${out} decompressed bytes (${safeText((e as Error).message)}); nothing was published. ` +
        'Replace it with a complete copy (`gzip -t` checks one), or take it out of the source globs in distill.config.json.',
    );
  } finally {
    stop = true;
    gz.destroy();
  }
  await feeder;
}

/** The first `n` bytes of the content (fewer when it is shorter); for gzip, decompressed. */
export async function readHead(src: OpenedSource, n: number): Promise<Buffer> {
  if (src.compression === 'none') {
    const head = Buffer.alloc(Math.min(src.size, n));
    let done = 0;
    while (done < head.length) {
      const { bytesRead } = await src.fh.read(head, done, head.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return head.subarray(0, done);
  }
  const parts: Buffer[] = [];
  let len = 0;
  for await (const c of contentChunks(src)) {
    parts.push(Buffer.from(c));
    len += c.length;
    if (len >= n) break;
  }
  return Buffer.concat(parts, len).subarray(0, n);
}

/**
 * SHA-256 of the snapshot `[0, size_at_open)` read through the open handle (never by path, so a
 * writer appending meanwhile cannot change it), plus the hash of the first `cut` bytes when
 * `0 <= cut <= size` (one pass: the prefix hash is a copy of the running hash at `cut`).
 */
export async function snapshotHashes(
  src: OpenedSource,
  cut: number | null = null,
): Promise<{ sha256: string; prefixSha256: string | null }> {
  const hash = createHash('sha256');
  let prefix: string | null = cut === 0 ? hash.copy().digest('hex') : null;
  // no larger than the file: a 1 MiB buffer per small source file added up to hundreds of MB of
  // external memory in a build of many small files, and V8 answered with full collections
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(src.size, 1)));
  let pos = 0;
  while (pos < src.size) {
    const { bytesRead } = await src.fh.read(buf, 0, Math.min(CHUNK, src.size - pos), pos);
    if (bytesRead === 0) throw sourceChangedError(src, `it ended after ${pos} bytes`);
    const end = pos + bytesRead;
    if (cut !== null && cut > pos && cut <= end) {
      hash.update(buf.subarray(0, cut - pos));
      prefix = hash.copy().digest('hex');
      hash.update(buf.subarray(cut - pos, bytesRead));
    } else hash.update(buf.subarray(0, bytesRead));
    pos = end;
  }
  return { sha256: hash.digest('hex'), prefixSha256: prefix };
}

/** Looks at the first bytes for encodings and binary formats we refuse to read as text. */
export async function sniffRefusal(src: OpenedSource): Promise<FileRefusal | null> {
  if (src.size === 0) return null;
  const magic = Buffer.alloc(Math.min(src.size, 2));
  await src.fh.read(magic, 0, magic.length, 0);
  const gzipMagic = magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  if (src.compression === 'gzip' && !gzipMagic)
    return {
      reason: 'BINARY_FILE',
      detail: 'the name ends in .gz but the file is not gzip data (no magic 1f 8b); rename it or compress it',
    };
  if (src.compression === 'none' && gzipMagic)
    return {
      reason: 'BINARY_FILE',
      detail:
        'gzip data (magic 1f 8b) under a name without .gz; name it *.gz to have it read decompressed, or decompress it',
    };
  const head = await readHead(src, 8192);
  const n = head.length;
  if (n === 0) return null;
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b)
    return { reason: 'BINARY_FILE', detail: 'gzip data inside gzip data; decompress the outer layer' };
  const utf32be = n >= 4 && head[0] === 0 && head[1] === 0 && head[2] === 0xfe && head[3] === 0xff;
  if (
    utf32be ||
    (n >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)))
  )
    return { reason: 'UNSUPPORTED_ENCODING', detail: 'UTF-16/32 byte order mark; convert the file to UTF-8' };
  const nul = head.indexOf(0);
  if (nul !== -1) {
    // NUL-interleaved text is UTF-16 without a BOM; anything else with NULs is binary.
    const looksUtf16 = n >= 4 && (head[1] === 0 || head[0] === 0) && (head[3] === 0 || head[2] === 0);
    return looksUtf16
      ? {
          reason: 'UNSUPPORTED_ENCODING',
          detail: 'NUL-interleaved bytes look like UTF-16; convert the file to UTF-8',
        }
      : { reason: 'BINARY_FILE', detail: `NUL byte at offset ${nul} in the first 8 KiB; not a text file` };
  }
  return null;
}

function decodeUnit(buf: Buffer, offset: number, index: number, terminated: boolean): SourceUnit {
  const flags: string[] = [];
  let start = 0;
  let end = buf.length;
  if (offset === 0 && end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    start = 3;
    flags.push('bom_stripped');
  }
  if (end > start && buf[end - 1] === 0x0d) {
    end--;
    flags.push('crlf');
  }
  if (!terminated) flags.push('no_trailing_newline');
  const unit: SourceUnit = {
    index,
    offset,
    bytes: buf.length,
    text: null,
    raw: buf,
    rawSha256: null,
    terminated,
    flags,
    issue: null,
  };
  let text: string;
  try {
    text = utf8.decode(buf.subarray(start, end));
  } catch {
    unit.issue = { reason: 'INVALID_UTF8', detail: 'line is not valid UTF-8' };
    return unit;
  }
  // only JSON whitespace counts as blank: a stray BOM, NBSP or U+2028 must fail as JSON_PARSE instead
  if (/^[ \t\r\n]*$/.test(text)) {
    unit.issue = { reason: 'BLANK_LINE', detail: 'line is empty or whitespace only' };
    return unit;
  }
  unit.text = text;
  return unit;
}

/**
 * Reads `[0, size_at_open)` of a JSONL file line by line. Lines longer than `maxLineBytes` are not
 * kept: they are hashed through and reported as LINE_TOO_LONG, so memory stays bounded.
 */
export async function* readLines(src: OpenedSource, maxLineBytes: number): AsyncGenerator<SourceUnit> {
  let parts: Buffer[] = [];
  let partLen = 0;
  let oversize: { hash: ReturnType<typeof createHash>; bytes: number } | null = null;
  let lineStart = 0;
  let index = 0;
  let pos = 0;
  for await (const buf of contentChunks(src)) {
    const bytesRead = buf.length;
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, from);
      const end = nl === -1 ? bytesRead : nl;
      const piece = buf.subarray(from, end);
      if (oversize) {
        oversize.hash.update(piece);
        oversize.bytes += piece.length;
      } else if (partLen + piece.length > maxLineBytes) {
        oversize = { hash: createHash('sha256'), bytes: partLen + piece.length };
        for (const p of parts) oversize.hash.update(p);
        oversize.hash.update(piece);
        parts = [];
        partLen = 0;
      } else if (piece.length > 0) {
        parts.push(Buffer.from(piece));
        partLen += piece.length;
      }
      if (nl === -1) break;
      yield finishLine(true);
      from = nl + 1;
      lineStart = pos + from;
      if (from >= bytesRead) break;
    }
    pos += bytesRead;
  }
  if (partLen > 0 || oversize) yield finishLine(false);

  function finishLine(terminated: boolean): SourceUnit {
    let unit: SourceUnit;
    if (oversize) {
      unit = {
        index,
        offset: lineStart,
        bytes: oversize.bytes,
        text: null,
        raw: null,
        rawSha256: oversize.hash.digest('hex'),
        terminated,
        flags: terminated ? [] : ['no_trailing_newline'],
        issue: {
          reason: 'LINE_TOO_LONG',
          detail: `line is ${oversize.bytes} bytes, over the ${maxLineBytes}-byte limit (limits.max_line_bytes)`,
        },
      };
    } else {
      const raw = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, partLen);
      unit = decodeUnit(raw, lineStart, index, terminated);
    }
    index++;
    parts = [];
    partLen = 0;
    oversize = null;
    return unit;
  }
}

/** Reads a whole one-document JSON file (e.g. a SWE-agent .traj) as a single unit. */
export async function* readDocument(src: OpenedSource, maxBytes: number): AsyncGenerator<SourceUnit> {
  // streamed, so a gzip document of unknown size is bounded too: past maxBytes it is only hashed
  let parts: Buffer[] = [];
  let total = 0;
  let hash: ReturnType<typeof createHash> | null = null;
  for await (const c of contentChunks(src)) {
    total += c.length;
    if (!hash && total > maxBytes) {
      hash = createHash('sha256');
      for (const p of parts) hash.update(p);
      parts = [];
    }
    if (hash) hash.update(c);
    else parts.push(Buffer.from(c));
  }
  if (hash) {
    yield {
      index: 0,
      offset: 0,
      bytes: total,
      locator: '$',
      text: null,
      raw: null,
      rawSha256: hash.digest('hex'),
      terminated: true,
      flags: [],
      issue: {
        reason: 'LINE_TOO_LONG',
        detail: `document is ${total} bytes, over the ${maxBytes}-byte limit`,
      },
    };
    return;
  }
  const raw = Buffer.concat(parts, total);
  let end = raw.length;
  while (end > 0 && isWs(raw[end - 1] as number)) end--;
  // trailing whitespace is not part of the document: `bytes` is the length of `raw`, as for lines
  const unit = decodeUnit(raw.subarray(0, end), 0, 0, true);
  unit.locator = '$';
  yield unit;
}

/**
 * Streams the elements of a top-level JSON array file, each as its own unit with its element
 * index and exact byte range (surrounding whitespace excluded), so a large array never has to be
 * parsed whole. Every byte that is not whitespace or array punctuation ends up in a unit, so
 * nothing is dropped silently:
 * - an element over `maxElementBytes` → LINE_TOO_LONG (hashed, not kept);
 * - an empty element (`[1,,2]`, `[1,]`) → JSON_PARSE;
 * - a file that ends inside an element, or after `[` / `,` → last unit TRUNCATED_FINAL_LINE
 *   (zero bytes when the cut came right after a separator);
 * - anything but whitespace after the closing `]` → one extra unit JSON_TRAILING_DATA, locator `$`.
 * A file that does not start with `[` (after an optional BOM) yields one NOT_A_JSON_ARRAY refusal.
 */
export async function* readArrayElements(
  src: OpenedSource,
  maxElementBytes: number,
): AsyncGenerator<SourceUnit | FileRefusal> {
  // start: before '['; before: after '[' or ',', expecting an element; in: inside one; done: after ']'
  let state: 'start' | 'before' | 'in' | 'done' = 'start';
  let depth = 0;
  let inString = false;
  let escape = false;
  let parts: Buffer[] = [];
  let partLen = 0;
  let dropped = false; // element bytes seen so far exceed maxElementBytes, so `parts` is not kept
  let bom = false;
  let elemStart = 0;
  let elemEnd = 0; // exclusive end of the element's last non-whitespace byte
  let trailStart = -1;
  let trailEnd = -1;
  let index = 0;
  let pos = 0;
  const flush = async (terminated: boolean): Promise<SourceUnit> => {
    const bytes = elemEnd - elemStart;
    let unit: SourceUnit;
    if (bytes > maxElementBytes) {
      unit = {
        index,
        offset: elemStart,
        bytes,
        text: null,
        raw: null,
        rawSha256: await hashRange(src, elemStart, bytes),
        terminated,
        flags: [],
        issue: {
          reason: 'LINE_TOO_LONG',
          detail: `array element is ${bytes} bytes, over the ${maxElementBytes}-byte limit (limits.max_line_bytes)`,
        },
      };
    } else {
      // `parts` may have been dropped for trailing whitespace alone; then the element itself is small enough to re-read
      const raw = dropped
        ? await readRange(src, elemStart, bytes)
        : Buffer.concat(parts, partLen).subarray(0, bytes);
      unit = decodeUnit(raw, elemStart, index, true);
      unit.terminated = terminated;
      unit.flags = [];
      if (bytes === 0)
        unit.issue = { reason: 'JSON_PARSE', detail: 'empty array element (a doubled or trailing comma)' };
      if (!terminated) {
        unit.text = null;
        unit.issue = {
          reason: 'TRUNCATED_FINAL_LINE',
          detail: 'the file ends before this array element and the array are closed',
        };
      }
    }
    if (index === 0 && bom) unit.flags.push('bom_stripped');
    unit.locator = `$[${index}]`;
    index++;
    parts = [];
    partLen = 0;
    dropped = false;
    return unit;
  };
  for await (const buf of contentChunks(src)) {
    const bytesRead = buf.length;
    let segStart = state === 'in' ? 0 : -1;
    for (let i = 0; i < bytesRead; i++) {
      const c = buf[i] as number;
      if (state === 'in') {
        if (inString) {
          if (escape) escape = false;
          else if (c === 0x5c) escape = true;
          else if (c === 0x22) inString = false;
          elemEnd = pos + i + 1;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          if (c === 0x5d && depth === 0) {
            // the closing ']' of the top-level array
            appendSeg(buf.subarray(segStart, i));
            yield await flush(true);
            state = 'done';
            continue;
          }
          // a '}' at depth 0 is malformed element content, not the end of the array
          if (depth > 0) depth--;
        } else if (c === 0x2c && depth === 0) {
          appendSeg(buf.subarray(segStart, i));
          yield await flush(true);
          state = 'before';
          continue;
        }
        if (!isWs(c)) elemEnd = pos + i + 1;
        continue;
      }
      if (isWs(c)) continue;
      if (state === 'start') {
        if (pos + i === 0 && c === 0xef && bytesRead >= 3 && buf[1] === 0xbb && buf[2] === 0xbf) {
          bom = true;
          i += 2;
          continue;
        }
        if (c !== 0x5b) {
          yield {
            reason: 'NOT_A_JSON_ARRAY',
            detail: 'file does not start with "[" (expected a JSON array of records)',
          };
          return;
        }
        state = 'before';
      } else if (state === 'before') {
        if (c === 0x5d && index === 0) {
          state = 'done';
          continue;
        }
        state = 'in';
        depth = 0;
        inString = false;
        escape = false;
        elemStart = pos + i;
        elemEnd = elemStart;
        segStart = i;
        i--; // re-read this byte in state 'in'
      } else {
        // state 'done': only whitespace may follow the closing ']'
        if (trailStart === -1) trailStart = pos + i;
        trailEnd = pos + i + 1;
      }
    }
    if (state === 'in') appendSeg(buf.subarray(Math.max(segStart, 0), bytesRead));
    pos += bytesRead;
  }
  if (state === 'start') {
    if (pos > (bom ? 3 : 0))
      yield {
        reason: 'NOT_A_JSON_ARRAY',
        detail: 'file holds only whitespace (expected a JSON array of records)',
      };
  } else if (state === 'in') {
    yield await flush(false);
  } else if (state === 'before') {
    elemStart = elemEnd = pos;
    yield await flush(false);
  } else if (trailStart !== -1) {
    const bytes = trailEnd - trailStart;
    yield {
      index,
      offset: trailStart,
      bytes,
      locator: '$',
      text: null,
      raw: null,
      rawSha256: await hashRange(src, trailStart, bytes),
      terminated: true,
      flags: [],
      issue: {
        reason: 'JSON_TRAILING_DATA',
        detail: `${bytes} bytes of data after the closing "]" of the array`,
      },
    };
  }
  function appendSeg(seg: Buffer): void {
    if (dropped) return;
    if (partLen + seg.length > maxElementBytes) {
      // memory stays bounded; the bytes are hashed or re-read from the file once the element's end is known
      dropped = true;
      parts = [];
      partLen = 0;
      return;
    }
    parts.push(Buffer.from(seg));
    partLen += seg.length;
  }
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The content bytes `[start, start + length)` (callers bound `length`); for gzip, decompressed again from the start. */
async function readRange(src: OpenedSource, start: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  if (src.compression === 'none') {
    for (let done = 0; done < length;) {
      const { bytesRead } = await src.fh.read(out, done, length - done, start + done);
      if (bytesRead === 0) throw sourceChangedError(src, `it ended after ${start + done} bytes`);
      done += bytesRead;
    }
    return out;
  }
  let done = 0;
  for await (const c of contentRange(src, start, length)) {
    c.copy(out, done);
    done += c.length;
  }
  return out.subarray(0, done);
}

/** SHA-256 of the content bytes `[start, start + length)`, read in bounded chunks. */
async function hashRange(src: OpenedSource, start: number, length: number): Promise<string> {
  const hash = createHash('sha256');
  if (src.compression === 'gzip') {
    for await (const c of contentRange(src, start, length)) hash.update(c);
    return hash.digest('hex');
  }
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(length, 1)));
  for (let done = 0; done < length;) {
    const { bytesRead } = await src.fh.read(buf, 0, Math.min(buf.length, length - done), start + done);
    if (bytesRead === 0) throw sourceChangedError(src, `it ended after ${start + done} bytes`);
    hash.update(buf.subarray(0, bytesRead));
    done += bytesRead;
  }
  return hash.digest('hex');
}

/** The pieces of the decompressed content in `[start, start + length)` (a second pass from the start). */
async function* contentRange(src: OpenedSource, start: number, length: number): AsyncGenerator<Buffer> {
  const again: OpenedSource = { ...src, expectSha256: null };
  let pos = 0;
  const end = start + length;
  for await (const c of contentChunks(again)) {
    const from = Math.max(start - pos, 0);
    const to = Math.min(end - pos, c.length);
    if (to > from) yield c.subarray(from, to);
    pos += c.length;
    if (pos >= end) break;
  }
}
