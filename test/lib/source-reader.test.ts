import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  openSource,
  readArrayElements,
  readDocument,
  readLines,
  sniffRefusal,
  type FileRefusal,
  type OpenedSource,
  type SourceUnit,
} from '../../tasks/lib/source-reader.ts';
import { parseRow } from '../../tasks/lib/json-check.ts';

/** The read chunk size inside source-reader.ts; boundary tests place bytes around it. */
const CHUNK = 1 << 20;
const MiB = 1 << 20;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'distill-source-reader-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function fixture(t: TestContext, content: string | Buffer, name = 'in.jsonl'): Promise<string> {
  const p = join(await tempDir(t), name);
  await fsp.writeFile(p, content);
  return p;
}

async function open(path: string): Promise<OpenedSource> {
  const o = await openSource(path);
  if (!o.ok) throw new Error(`openSource refused ${path}: ${o.refusal.reason}`);
  return o.src;
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

async function lines(path: string, maxLineBytes = MiB): Promise<SourceUnit[]> {
  const src = await open(path);
  const out: SourceUnit[] = [];
  try {
    for await (const u of readLines(src, maxLineBytes)) out.push(u);
  } finally {
    await src.fh.close();
  }
  return out;
}

async function elements(path: string, maxElementBytes = MiB): Promise<Array<SourceUnit | FileRefusal>> {
  const src = await open(path);
  const out: Array<SourceUnit | FileRefusal> = [];
  try {
    for await (const u of readArrayElements(src, maxElementBytes)) out.push(u);
  } finally {
    await src.fh.close();
  }
  return out;
}

/** The fields a test compares exactly (raw bytes are checked separately by `assertRawMatches`). */
function view(u: SourceUnit | FileRefusal): unknown {
  if (!('index' in u)) return u;
  return {
    index: u.index,
    offset: u.offset,
    bytes: u.bytes,
    text: u.text,
    terminated: u.terminated,
    flags: u.flags,
    issue: u.issue?.reason ?? null,
    ...(u.locator !== undefined ? { locator: u.locator } : {}),
  };
}

/** Every unit's raw bytes (or hash, when not kept) are exactly the file's bytes at [offset, offset + bytes). */
function assertRawMatches(file: Buffer, units: Array<SourceUnit | FileRefusal>): void {
  for (const u of units) {
    if (!('index' in u)) continue;
    const slice = file.subarray(u.offset, u.offset + u.bytes);
    if (u.raw) {
      assert.ok(
        u.raw.equals(slice),
        `unit ${u.index}: raw bytes differ from file bytes at ${u.offset}+${u.bytes}`,
      );
      assert.equal(u.rawSha256, null);
    } else {
      assert.equal(
        u.rawSha256,
        sha256(slice),
        `unit ${u.index}: rawSha256 is not the hash of file bytes at ${u.offset}+${u.bytes}`,
      );
    }
  }
}

// ---------------------------------------------------------------- openSource / sniffRefusal

test('openSource snapshots size, dev and ino of a regular file', async (t) => {
  const p = await fixture(t, '{"a":1}\n');
  const st = await fsp.stat(p);
  const src = await open(p);
  try {
    assert.deepEqual({ size: src.size, dev: src.dev, ino: src.ino }, { size: 8, dev: st.dev, ino: st.ino });
  } finally {
    await src.fh.close();
  }
});

test('openSource refuses a symlink with SYMLINK_INPUT', async (t) => {
  const dir = await tempDir(t);
  await fsp.writeFile(join(dir, 'real.jsonl'), '{"a":1}\n');
  await fsp.symlink('real.jsonl', join(dir, 'link.jsonl'));
  assert.deepEqual(await openSource(join(dir, 'link.jsonl')), {
    ok: false,
    refusal: {
      reason: 'SYMLINK_INPUT',
      detail: 'source is a symbolic link; point the config at the real file',
    },
  });
});

test('openSource refuses a directory, a device and a FIFO with NOT_REGULAR_FILE', async (t) => {
  const dir = await tempDir(t);
  const notRegular = {
    ok: false,
    refusal: {
      reason: 'NOT_REGULAR_FILE',
      detail: 'source is not a regular file (directory, FIFO, device or socket)',
    },
  };
  await fsp.mkdir(join(dir, 'x.jsonl'));
  assert.deepEqual(await openSource(join(dir, 'x.jsonl')), notRegular);
  assert.deepEqual(await openSource('/dev/zero'), notRegular);
  const fifo = join(dir, 'pipe.jsonl');
  let haveFifo = true;
  try {
    execFileSync('mkfifo', [fifo], { stdio: 'ignore' });
  } catch {
    haveFifo = false;
  }
  if (haveFifo) {
    // O_NONBLOCK: opening a FIFO with no writer must not hang
    assert.deepEqual(await openSource(fifo), notRegular);
  } else {
    t.diagnostic('mkfifo is not available here; the FIFO assertion was skipped');
  }
});

test('openSource rethrows ENOENT (a vanished source is a hard error, not a refusal)', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(openSource(join(dir, 'missing.jsonl')), { code: 'ENOENT' });
});

async function sniff(t: TestContext, content: Buffer): Promise<FileRefusal | null> {
  const src = await open(await fixture(t, content));
  try {
    return await sniffRefusal(src);
  } finally {
    await src.fh.close();
  }
}

test('sniffRefusal accepts plain UTF-8 and an empty file', async (t) => {
  assert.equal(await sniff(t, Buffer.from('{"a":"é"}\n')), null);
  assert.equal(await sniff(t, Buffer.alloc(0)), null);
  assert.equal(await sniff(t, Buffer.from('\uFEFF{"a":1}\n')), null);
});

test('sniffRefusal: gzip magic under a name without .gz → BINARY_FILE (a .gz name is read decompressed)', async (t) => {
  assert.deepEqual(await sniff(t, gzipSync('{"a":1}\n')), {
    reason: 'BINARY_FILE',
    detail:
      'gzip data (magic 1f 8b) under a name without .gz; name it *.gz to have it read decompressed, or decompress it',
  });
});

test('sniffRefusal: NUL bytes that are not interleaved → BINARY_FILE with the offset', async (t) => {
  assert.deepEqual(await sniff(t, Buffer.from('{"a":1}\n{"b":\u0000\u0000\u0000}\n')), {
    reason: 'BINARY_FILE',
    detail: 'NUL byte at offset 13 in the first 8 KiB; not a text file',
  });
});

test('sniffRefusal: UTF-16 and UTF-32 byte order marks → UNSUPPORTED_ENCODING', async (t) => {
  const bom = {
    reason: 'UNSUPPORTED_ENCODING',
    detail: 'UTF-16/32 byte order mark; convert the file to UTF-8',
  };
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":1}\n', 'utf16le')]);
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('{"a":1}\n', 'utf16le').swap16()]);
  const utf32le = Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0]);
  const utf32be = Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x7b]);
  assert.deepEqual(await sniff(t, le), bom);
  assert.deepEqual(await sniff(t, be), bom);
  assert.deepEqual(await sniff(t, utf32le), bom);
  assert.deepEqual(await sniff(t, utf32be), bom);
});

test('sniffRefusal: NUL-interleaved UTF-16 without a BOM → UNSUPPORTED_ENCODING', async (t) => {
  const expected = {
    reason: 'UNSUPPORTED_ENCODING',
    detail: 'NUL-interleaved bytes look like UTF-16; convert the file to UTF-8',
  };
  assert.deepEqual(await sniff(t, Buffer.from('{"a":1}\n', 'utf16le')), expected);
  assert.deepEqual(await sniff(t, Buffer.from('{"a":1}\n', 'utf16le').swap16()), expected);
});

// ---------------------------------------------------------------- readLines

test('readLines: exact indices, byte offsets and sizes, with multi-byte UTF-8', async (t) => {
  const content = '{"a":"é"}\n{"b":"😀"}\n{"c":3}\n';
  const p = await fixture(t, content);
  const units = await lines(p);
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 10, text: '{"a":"é"}', terminated: true, flags: [], issue: null },
    { index: 1, offset: 11, bytes: 12, text: '{"b":"😀"}', terminated: true, flags: [], issue: null },
    { index: 2, offset: 24, bytes: 7, text: '{"c":3}', terminated: true, flags: [], issue: null },
  ]);
  assertRawMatches(Buffer.from(content), units);
});

test('readLines: an empty file gives zero units', async (t) => {
  assert.deepEqual(await lines(await fixture(t, '')), []);
});

test('readLines: a UTF-8 BOM at offset 0 is stripped with flag bom_stripped; bytes still count it', async (t) => {
  const content = '\uFEFF{"a":1}\n{"b":2}\n';
  const units = await lines(await fixture(t, content));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 0,
      bytes: 10,
      text: '{"a":1}',
      terminated: true,
      flags: ['bom_stripped'],
      issue: null,
    },
    { index: 1, offset: 11, bytes: 7, text: '{"b":2}', terminated: true, flags: [], issue: null },
  ]);
  assertRawMatches(Buffer.from(content), units);
});

test('readLines: a BOM that is not at offset 0 stays in the text and then fails JSON parsing', async (t) => {
  const units = await lines(await fixture(t, '{"a":1}\n\uFEFF{"b":2}\n\uFEFF\n'));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 7, text: '{"a":1}', terminated: true, flags: [], issue: null },
    { index: 1, offset: 8, bytes: 10, text: '\uFEFF{"b":2}', terminated: true, flags: [], issue: null },
    { index: 2, offset: 19, bytes: 3, text: '\uFEFF', terminated: true, flags: [], issue: null },
  ]);
  for (const u of units.slice(1)) {
    const r = parseRow(u.text as string, { maxDepth: 64 });
    assert.equal(r.ok ? 'ok' : r.drop.reason, 'JSON_PARSE');
  }
});

test('readLines: CRLF endings strip one CR and set flag crlf; bytes include the CR', async (t) => {
  const content = '{"a":1}\r\n{"b":2}\r\r\n';
  const units = await lines(await fixture(t, content));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 8, text: '{"a":1}', terminated: true, flags: ['crlf'], issue: null },
    // only one CR is stripped; the other stays (JSON whitespace)
    { index: 1, offset: 9, bytes: 9, text: '{"b":2}\r', terminated: true, flags: ['crlf'], issue: null },
  ]);
  assertRawMatches(Buffer.from(content), units);
});

test('readLines: a lone CR is not a line separator, so two records become one bad line', async (t) => {
  const units = await lines(await fixture(t, '{"a":1}\r{"b":2}\n'));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 15, text: '{"a":1}\r{"b":2}', terminated: true, flags: [], issue: null },
  ]);
  const r = parseRow(units[0]?.text as string, { maxDepth: 64 });
  assert.equal(r.ok ? 'ok' : r.drop.reason, 'JSON_TRAILING_DATA');
});

test('readLines: U+2028 / U+2029 do not split a line', async (t) => {
  const units = await lines(await fixture(t, '{"s":"a\u2028b\u2029c"}\n'));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 0,
      bytes: 17,
      text: '{"s":"a\u2028b\u2029c"}',
      terminated: true,
      flags: [],
      issue: null,
    },
  ]);
});

test('readLines: invalid UTF-8 → INVALID_UTF8 with the raw bytes kept; the next line still reads', async (t) => {
  const content = Buffer.concat([
    Buffer.from('{"a":"'),
    Buffer.from([0xff]),
    Buffer.from('"}\n{"overlong":"'),
    Buffer.from([0xc0, 0xaf]),
    Buffer.from('"}\n{"surrogate":"'),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from('"}\n{"cut":"'),
    Buffer.from([0xe2, 0x82]),
    Buffer.from('\n{"ok":true}\n'),
  ]);
  const units = await lines(await fixture(t, content));
  assert.deepEqual(
    units.map((u) => [u.index, u.issue?.reason ?? null, u.text]),
    [
      [0, 'INVALID_UTF8', null],
      [1, 'INVALID_UTF8', null],
      [2, 'INVALID_UTF8', null],
      [3, 'INVALID_UTF8', null],
      [4, null, '{"ok":true}'],
    ],
  );
  assert.deepEqual(units[0]?.issue, { reason: 'INVALID_UTF8', detail: 'line is not valid UTF-8' });
  assert.deepEqual(units[4] && view(units[4]), {
    index: 4,
    offset: 59,
    bytes: 11,
    text: '{"ok":true}',
    terminated: true,
    flags: [],
    issue: null,
  });
  assertRawMatches(content, units);
});

test('readLines: blank and whitespace-only lines → BLANK_LINE', async (t) => {
  const content = '{"a":1}\n\n  \t\n\r\n{"b":2}\n';
  const units = await lines(await fixture(t, content));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 7, text: '{"a":1}', terminated: true, flags: [], issue: null },
    { index: 1, offset: 8, bytes: 0, text: null, terminated: true, flags: [], issue: 'BLANK_LINE' },
    { index: 2, offset: 9, bytes: 3, text: null, terminated: true, flags: [], issue: 'BLANK_LINE' },
    { index: 3, offset: 13, bytes: 1, text: null, terminated: true, flags: ['crlf'], issue: 'BLANK_LINE' },
    { index: 4, offset: 15, bytes: 7, text: '{"b":2}', terminated: true, flags: [], issue: null },
  ]);
  assert.deepEqual(units[1]?.issue, { reason: 'BLANK_LINE', detail: 'line is empty or whitespace only' });
  assertRawMatches(Buffer.from(content), units);
});

test('readLines: a line of non-JSON whitespace (NBSP) is not blank, so it fails as JSON', async (t) => {
  const units = await lines(await fixture(t, '\u00a0\n'));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 2, text: '\u00a0', terminated: true, flags: [], issue: null },
  ]);
});

test('readLines: a last line without a newline → terminated false and flag no_trailing_newline', async (t) => {
  const units = await lines(await fixture(t, '{"a":1}\n{"b":2}'));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 7, text: '{"a":1}', terminated: true, flags: [], issue: null },
    {
      index: 1,
      offset: 8,
      bytes: 7,
      text: '{"b":2}',
      terminated: false,
      flags: ['no_trailing_newline'],
      issue: null,
    },
  ]);
});

test('readLines: a file ending in a newline has no extra empty unit; a torn CRLF keeps both flags', async (t) => {
  assert.equal((await lines(await fixture(t, '{"a":1}\n'))).length, 1);
  const units = await lines(await fixture(t, '{"a":1}\r'));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 0,
      bytes: 8,
      text: '{"a":1}',
      terminated: false,
      flags: ['crlf', 'no_trailing_newline'],
      issue: null,
    },
  ]);
});

test('readLines: a line over maxLineBytes → LINE_TOO_LONG, hashed not kept; a line at the limit is kept', async (t) => {
  const long = `{"s":"${'x'.repeat(34)}"}`; // 42 bytes
  const exact = `{"s":"${'y'.repeat(8)}"}`; // 16 bytes
  const content = `{"a":1}\n${long}\n${exact}\n${long}`;
  const units = await lines(await fixture(t, content), 16);
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 7, text: '{"a":1}', terminated: true, flags: [], issue: null },
    { index: 1, offset: 8, bytes: 42, text: null, terminated: true, flags: [], issue: 'LINE_TOO_LONG' },
    { index: 2, offset: 51, bytes: 16, text: exact, terminated: true, flags: [], issue: null },
    {
      index: 3,
      offset: 68,
      bytes: 42,
      text: null,
      terminated: false,
      flags: ['no_trailing_newline'],
      issue: 'LINE_TOO_LONG',
    },
  ]);
  assert.equal(units[1]?.raw, null);
  assert.equal(units[1]?.rawSha256, sha256(long));
  assert.deepEqual(units[1]?.issue, {
    reason: 'LINE_TOO_LONG',
    detail: 'line is 42 bytes, over the 16-byte limit (limits.max_line_bytes)',
  });
  assertRawMatches(Buffer.from(content), units);
});

test('readLines: a 50 MB line → LINE_TOO_LONG with its sha256, bounded memory, and the next line still reads', async (t) => {
  const p = join(await tempDir(t), 'big.jsonl');
  const out = createWriteStream(p);
  const lineHash = createHash('sha256');
  const write = (s: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => out.write(s, (e) => (e ? reject(e) : resolve())));
  await write('{"a":1}\n');
  const head = '{"big":"';
  const block = Buffer.alloc(MiB, 'x');
  await write(head);
  lineHash.update(head);
  for (let i = 0; i < 50; i++) {
    await write(block);
    lineHash.update(block);
  }
  await write('"}');
  lineHash.update('"}');
  await write('\n{"after":true}\n');
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const bigBytes = head.length + 50 * MiB + 2;

  const src = await open(p);
  const units: SourceUnit[] = [];
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 1);
  try {
    for await (const u of readLines(src, 4 * MiB)) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      units.push(u);
    }
  } finally {
    clearInterval(sampler);
    await src.fh.close();
  }
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 0, bytes: 7, text: '{"a":1}', terminated: true, flags: [], issue: null },
    { index: 1, offset: 8, bytes: bigBytes, text: null, terminated: true, flags: [], issue: 'LINE_TOO_LONG' },
    {
      index: 2,
      offset: 8 + bigBytes + 1,
      bytes: 14,
      text: '{"after":true}',
      terminated: true,
      flags: [],
      issue: null,
    },
  ]);
  assert.equal(units[1]?.rawSha256, lineHash.digest('hex'));
  assert.equal(units[1]?.raw, null);
  // the reader holds at most one 1 MiB chunk plus maxLineBytes of line parts, never the 50 MB line
  const grewMiB = (peak - base) / MiB;
  assert.ok(grewMiB < 24, `external memory grew by ${grewMiB.toFixed(1)} MiB while reading a 50 MiB line`);
});

test('readLines: a writer appending after open is not read; only [0, size_at_open)', async (t) => {
  const p = await fixture(t, '{"a":1}\n{"b":');
  const src = await open(p);
  try {
    await fsp.appendFile(p, '2}\n{"c":3}\n');
    assert.equal(src.size, 13);
    assert.equal((await fsp.stat(p)).size, 24);
    const units: SourceUnit[] = [];
    for await (const u of readLines(src, MiB)) units.push(u);
    assert.deepEqual(units.map(view), [
      { index: 0, offset: 0, bytes: 7, text: '{"a":1}', terminated: true, flags: [], issue: null },
      {
        index: 1,
        offset: 8,
        bytes: 5,
        text: '{"b":',
        terminated: false,
        flags: ['no_trailing_newline'],
        issue: null,
      },
    ]);
  } finally {
    await src.fh.close();
  }
});

test('readLines: lines around the 1 MiB read-chunk boundary keep exact offsets and text', async (t) => {
  // Newlines land at CHUNK-2, CHUNK-1 (last byte of chunk 1), CHUNK (first byte of chunk 2) and
  // CHUNK+1; then a 3-byte character straddles the 2nd boundary and a line spans three chunks.
  const rows: string[] = [];
  const pad = (prefix: string, endAt: number, from: number): string =>
    prefix + 'p'.repeat(endAt - from - prefix.length);
  let at = 0;
  for (const end of [CHUNK - 2, CHUNK - 1, CHUNK, CHUNK + 1]) {
    const row = end === at ? '' : pad(`L${rows.length}:`, end, at);
    rows.push(row);
    at = end + 1;
  }
  // a line whose '€' (3 bytes) starts 1 byte before the second chunk boundary
  const euroAt = 2 * CHUNK - 1;
  rows.push(`${'q'.repeat(euroAt - at)}€tail`);
  at += Buffer.byteLength(rows[rows.length - 1] as string) + 1;
  rows.push('z'.repeat(2 * CHUNK + 123)); // spans chunks 2, 3 and 4
  rows.push('{"last":true}');
  const content = Buffer.from(`${rows.join('\n')}\n`);
  assert.equal(content.indexOf('€'), euroAt);
  const units = await lines(await fixture(t, content), 4 * MiB);
  let offset = 0;
  const expected = rows.map((r, index) => {
    const bytes = Buffer.byteLength(r);
    const u = {
      index,
      offset,
      bytes,
      text: r === '' ? null : r,
      terminated: true,
      flags: [],
      issue: r === '' ? 'BLANK_LINE' : null,
    };
    offset += bytes + 1;
    return u;
  });
  assert.deepEqual(units.map(view), expected);
  assert.deepEqual(
    units.slice(0, 4).map((u) => u.offset + u.bytes),
    [CHUNK - 2, CHUNK - 1, CHUNK, CHUNK + 1],
  );
  assertRawMatches(content, units);
});

test('readLines: an oversize line straddling a chunk boundary is hashed across both chunks', async (t) => {
  const first = 'a'.repeat(CHUNK - 10);
  const big = 'b'.repeat(40) + 'c'.repeat(CHUNK); // starts 9 bytes before the boundary
  const content = Buffer.from(`${first}\n${big}\n{"k":1}\n`);
  const units = await lines(await fixture(t, content), CHUNK - 5);
  assert.deepEqual(
    units.map((u) => [u.index, u.offset, u.bytes, u.issue?.reason ?? null]),
    [
      [0, 0, CHUNK - 10, null],
      [1, CHUNK - 9, 40 + CHUNK, 'LINE_TOO_LONG'],
      [2, CHUNK - 9 + 40 + CHUNK + 1, 7, null],
    ],
  );
  assertRawMatches(content, units);
});

// ---------------------------------------------------------------- readDocument

async function document(path: string, maxBytes = MiB): Promise<SourceUnit[]> {
  const src = await open(path);
  const out: SourceUnit[] = [];
  try {
    for await (const u of readDocument(src, maxBytes)) out.push(u);
  } finally {
    await src.fh.close();
  }
  return out;
}

test('readDocument: one unit for the whole file, BOM stripped, trailing whitespace excluded', async (t) => {
  const content = '\uFEFF{\n  "trajectory": [1, 2]\n}\r\n\n';
  const units = await document(await fixture(t, content, 'x.traj'));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 0,
      bytes: 29,
      text: '{\n  "trajectory": [1, 2]\n}',
      terminated: true,
      flags: ['bom_stripped'],
      issue: null,
      locator: '$',
    },
  ]);
  assertRawMatches(Buffer.from(content), units);
});

test('readDocument: a document over maxBytes → LINE_TOO_LONG with the file hash', async (t) => {
  const content = `{"s":"${'x'.repeat(100)}"}`;
  const units = await document(await fixture(t, content, 'x.traj'), 50);
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 0,
      bytes: 108,
      text: null,
      terminated: true,
      flags: [],
      issue: 'LINE_TOO_LONG',
      locator: '$',
    },
  ]);
  assert.equal(units[0]?.rawSha256, sha256(content));
  assert.deepEqual(units[0]?.issue, {
    reason: 'LINE_TOO_LONG',
    detail: 'document is 108 bytes, over the 50-byte limit',
  });
});

// ---------------------------------------------------------------- readArrayElements

test('readArrayElements: element indices, byte offsets and locators, whitespace excluded', async (t) => {
  const content = '[ {"a":1} ,\n  {"b":[2,3]},"s",\t4 ]\n';
  const units = await elements(await fixture(t, content, 'x.json'));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 2,
      bytes: 7,
      text: '{"a":1}',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[0]',
    },
    {
      index: 1,
      offset: 14,
      bytes: 11,
      text: '{"b":[2,3]}',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[1]',
    },
    {
      index: 2,
      offset: 26,
      bytes: 3,
      text: '"s"',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[2]',
    },
    { index: 3, offset: 31, bytes: 1, text: '4', terminated: true, flags: [], issue: null, locator: '$[3]' },
  ]);
  assertRawMatches(Buffer.from(content), units);
});

test('readArrayElements: brackets, braces, commas and escaped quotes inside strings do not split elements', async (t) => {
  const a = { s: '],[{"x":1}, "y"', t: 'quote \\" and \\\\', u: '}' };
  const b = { n: [[1, [2, [3]]], { deep: ['a,b', ']'] }] };
  const content = `[${JSON.stringify(a)},${JSON.stringify(b)}]`;
  const units = await elements(await fixture(t, content, 'x.json'));
  assert.deepEqual(
    units.map((u) => ('index' in u ? JSON.parse(u.text as string) : u)),
    [a, b],
  );
  assert.deepEqual(
    units.map((u) => ('index' in u ? [u.offset, u.bytes] : null)),
    [
      [1, JSON.stringify(a).length],
      [2 + JSON.stringify(a).length, JSON.stringify(b).length],
    ],
  );
  assertRawMatches(Buffer.from(content), units);
});

test('readArrayElements: nested arrays are single elements', async (t) => {
  const units = await elements(await fixture(t, '[[1,[2]],[],"x"]', 'x.json'));
  assert.deepEqual(
    units.map((u) => ('index' in u ? [u.index, u.offset, u.text] : u)),
    [
      [0, 1, '[1,[2]]'],
      [1, 9, '[]'],
      [2, 12, '"x"'],
    ],
  );
});

test('readArrayElements: an empty array, with or without whitespace, gives zero units', async (t) => {
  assert.deepEqual(await elements(await fixture(t, '[]', 'x.json')), []);
  assert.deepEqual(await elements(await fixture(t, ' \n[ \n ]\n', 'y.json')), []);
});

test('readArrayElements: an empty file gives zero units; a whitespace-only file is NOT_A_JSON_ARRAY', async (t) => {
  assert.deepEqual(await elements(await fixture(t, '', 'x.json')), []);
  assert.deepEqual(await elements(await fixture(t, ' \n', 'y.json')), [
    { reason: 'NOT_A_JSON_ARRAY', detail: 'file holds only whitespace (expected a JSON array of records)' },
  ]);
});

test('readArrayElements: a file that is not an array → one NOT_A_JSON_ARRAY refusal', async (t) => {
  const refusal = {
    reason: 'NOT_A_JSON_ARRAY',
    detail: 'file does not start with "[" (expected a JSON array of records)',
  };
  assert.deepEqual(await elements(await fixture(t, '{"a":[1,2]}', 'x.json')), [refusal]);
  assert.deepEqual(await elements(await fixture(t, '{"a":1}\n{"b":2}\n', 'y.json')), [refusal]);
});

test('readArrayElements: a BOM before the array is skipped and flagged on the first element', async (t) => {
  const content = '\uFEFF[{"a":1},{"b":2}]';
  const units = await elements(await fixture(t, content, 'x.json'));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 4,
      bytes: 7,
      text: '{"a":1}',
      terminated: true,
      flags: ['bom_stripped'],
      issue: null,
      locator: '$[0]',
    },
    {
      index: 1,
      offset: 12,
      bytes: 7,
      text: '{"b":2}',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[1]',
    },
  ]);
});

test('readArrayElements: an array cut off mid-element → last unit TRUNCATED_FINAL_LINE', async (t) => {
  const content = '[{"a":1},\n {"b":"tor';
  const units = await elements(await fixture(t, content, 'x.json'));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 1,
      bytes: 7,
      text: '{"a":1}',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[0]',
    },
    {
      index: 1,
      offset: 11,
      bytes: 9,
      text: null,
      terminated: false,
      flags: [],
      issue: 'TRUNCATED_FINAL_LINE',
      locator: '$[1]',
    },
  ]);
  assertRawMatches(Buffer.from(content), units);
});

test('readArrayElements: an array cut off after a comma or after "[" still ends in TRUNCATED_FINAL_LINE', async (t) => {
  assert.deepEqual((await elements(await fixture(t, '[{"a":1},\n', 'x.json'))).map(view), [
    {
      index: 0,
      offset: 1,
      bytes: 7,
      text: '{"a":1}',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[0]',
    },
    {
      index: 1,
      offset: 10,
      bytes: 0,
      text: null,
      terminated: false,
      flags: [],
      issue: 'TRUNCATED_FINAL_LINE',
      locator: '$[1]',
    },
  ]);
  assert.deepEqual((await elements(await fixture(t, '[', 'y.json'))).map(view), [
    {
      index: 0,
      offset: 1,
      bytes: 0,
      text: null,
      terminated: false,
      flags: [],
      issue: 'TRUNCATED_FINAL_LINE',
      locator: '$[0]',
    },
  ]);
  // a complete element with the closing ']' missing is torn too
  assert.deepEqual((await elements(await fixture(t, '[{"a":1}', 'z.json'))).map(view), [
    {
      index: 0,
      offset: 1,
      bytes: 7,
      text: null,
      terminated: false,
      flags: [],
      issue: 'TRUNCATED_FINAL_LINE',
      locator: '$[0]',
    },
  ]);
});

test('readArrayElements: data after the closing "]" → an extra JSON_TRAILING_DATA unit, never silently ignored', async (t) => {
  const content = '[1,2] [3]\n';
  const units = await elements(await fixture(t, content, 'x.json'));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 1, bytes: 1, text: '1', terminated: true, flags: [], issue: null, locator: '$[0]' },
    { index: 1, offset: 3, bytes: 1, text: '2', terminated: true, flags: [], issue: null, locator: '$[1]' },
    {
      index: 2,
      offset: 6,
      bytes: 3,
      text: null,
      terminated: true,
      flags: [],
      issue: 'JSON_TRAILING_DATA',
      locator: '$',
    },
  ]);
  assert.deepEqual(units[2] && 'index' in units[2] ? units[2].issue : null, {
    reason: 'JSON_TRAILING_DATA',
    detail: '3 bytes of data after the closing "]" of the array',
  });
  assertRawMatches(Buffer.from(content), units);
});

test('readArrayElements: a stray "}" does not end the array and swallow the rest', async (t) => {
  const units = await elements(await fixture(t, '[{"a":1}}, {"b":2}]', 'x.json'));
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 1,
      bytes: 8,
      text: '{"a":1}}',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[0]',
    },
    {
      index: 1,
      offset: 11,
      bytes: 7,
      text: '{"b":2}',
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[1]',
    },
  ]);
});

test('readArrayElements: empty elements (doubled or trailing comma) → JSON_PARSE', async (t) => {
  const units = await elements(await fixture(t, '[1,,2,]', 'x.json'));
  assert.deepEqual(units.map(view), [
    { index: 0, offset: 1, bytes: 1, text: '1', terminated: true, flags: [], issue: null, locator: '$[0]' },
    {
      index: 1,
      offset: 3,
      bytes: 0,
      text: null,
      terminated: true,
      flags: [],
      issue: 'JSON_PARSE',
      locator: '$[1]',
    },
    { index: 2, offset: 4, bytes: 1, text: '2', terminated: true, flags: [], issue: null, locator: '$[2]' },
    {
      index: 3,
      offset: 6,
      bytes: 0,
      text: null,
      terminated: true,
      flags: [],
      issue: 'JSON_PARSE',
      locator: '$[3]',
    },
  ]);
});

test('readArrayElements: an element over the limit → LINE_TOO_LONG with the hash of its exact bytes', async (t) => {
  const big = `"${'x'.repeat(30)}"`;
  const fits = `"${'y'.repeat(8)}"`; // 10 bytes, followed by whitespace that must not count
  const content = `[${big} , ${fits}      ]`;
  const units = await elements(await fixture(t, content, 'x.json'), 10);
  assert.deepEqual(units.map(view), [
    {
      index: 0,
      offset: 1,
      bytes: 32,
      text: null,
      terminated: true,
      flags: [],
      issue: 'LINE_TOO_LONG',
      locator: '$[0]',
    },
    {
      index: 1,
      offset: 36,
      bytes: 10,
      text: fits,
      terminated: true,
      flags: [],
      issue: null,
      locator: '$[1]',
    },
  ]);
  const u0 = units[0] as SourceUnit;
  assert.equal(u0.rawSha256, sha256(big));
  assert.deepEqual(u0.issue, {
    reason: 'LINE_TOO_LONG',
    detail: 'array element is 32 bytes, over the 10-byte limit (limits.max_line_bytes)',
  });
  assertRawMatches(Buffer.from(content), units);
});

test('readArrayElements: elements straddling the 1 MiB chunk boundary keep exact offsets and text', async (t) => {
  // element strings sized so that boundaries fall inside elements, on a separator, and between
  // a backslash and the quote it escapes
  const items: unknown[] = [];
  const texts: string[] = [];
  let at = 1; // after '['
  const add = (v: unknown): void => {
    const s = JSON.stringify(v);
    items.push(v);
    texts.push(s);
    at += Buffer.byteLength(s) + 1; // + ','
  };
  add({ s: 'a'.repeat(400_000) });
  add({ s: 'b'.repeat(400_000) });
  // place the ',' after the next element exactly on byte CHUNK-1
  add({ s: 'c'.repeat(CHUNK - 1 - at - 8) }); // {"s":"..."} is 8 bytes + the string
  assert.equal(at - 1, CHUNK - 1);
  // the next element's backslash is the last byte of chunk 2, its escaped quote the first of chunk 3
  const prefix = '{"s":"';
  const fill = 2 * CHUNK - 1 - at - prefix.length;
  add({ s: `${'d'.repeat(fill)}"]},[` });
  add([1, '€', { x: [] }]);
  const content = Buffer.from(`[${texts.join(',')}]\n`);
  assert.equal(content[2 * CHUNK - 1], 0x5c);
  assert.equal(content[2 * CHUNK], 0x22);
  const units = await elements(await fixture(t, content, 'x.json'), 4 * MiB);
  let offset = 1;
  const expected = texts.map((text, index) => {
    const u = {
      index,
      offset,
      bytes: Buffer.byteLength(text),
      text,
      terminated: true,
      flags: [],
      issue: null,
      locator: `$[${index}]`,
    };
    offset += u.bytes + 1;
    return u;
  });
  assert.deepEqual(units.map(view), expected);
  assert.deepEqual(
    units.map((u) => ('index' in u ? JSON.parse(u.text as string) : null)),
    items,
  );
  assertRawMatches(content, units);
});
