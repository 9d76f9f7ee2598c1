import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../tasks/lib/result.ts';
import { CASE, fileCase, inSrc, type CatalogueCase } from './catalogue.ts';
import { build, jsonl, ls, oneSourceProject, outputs, reward, sha256, SRC_DIR, tempDir } from './fixture.ts';
import { runCli } from '../helpers/project.ts';
import { runChild } from './phases.ts';

const r1 = reward('t1');
const r2 = reward('t2', '2026-10-02T11:00:00Z');
const len = (s: string): number => Buffer.byteLength(s);

/** Writes a file of `lineBytes` bytes of one JSON line (a padded reward row) + `\n` + a good row, in 1 MiB pieces. */
function writeHugeLine(path: string, lineBytes: number): string {
  const head = Buffer.from(
    '{"trace_id":"big","timestamp":"2026-10-02T10:00:00Z","environment":"env","reward":1,"pad":"',
  );
  const tail = Buffer.from('"}');
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  const put = (b: Buffer): void => {
    writeSync(fd, b);
    hash.update(b);
  };
  put(head);
  const piece = Buffer.alloc(1 << 20, 0x78);
  let left = lineBytes - head.length - tail.length;
  while (left > 0) {
    const n = Math.min(left, piece.length);
    put(piece.subarray(0, n));
    left -= n;
  }
  put(tail);
  writeSync(fd, `\n${r1}\n`);
  closeSync(fd);
  return hash.digest('hex');
}

/** Section A of the catalogue: file and filesystem level. */
export const FILE_CASES: CatalogueCase[] = [
  {
    id: 1,
    input: 'empty file (0 bytes)',
    disposition: 'A + file flag file_empty',
    run: async () => {
      const { out } = await fileCase('', { units: 0, evidence: 0, quarantine: [], flags: ['file_empty'] });
      assert.deepEqual(
        out.manifest.inputs.find((i) => i.path === CASE),
        { path: CASE, sha256: sha256(''), bytes: 0, rows: null },
      );
    },
  },
  {
    id: 2,
    input: 'only blank / whitespace lines',
    disposition: 'Q BLANK_LINE per line',
    run: async () => {
      await fileCase('\n  \n\t \r\n', {
        units: 3,
        evidence: 0,
        quarantine: [
          { reason: 'BLANK_LINE', line: 0, offset: 0, bytes: 0, lineSha: sha256('') },
          { reason: 'BLANK_LINE', line: 1, offset: 1, bytes: 2, lineSha: sha256('  ') },
          {
            reason: 'BLANK_LINE',
            line: 2,
            offset: 4,
            bytes: 3,
            lineSha: sha256('\t \r'),
            detail: /empty or whitespace only/,
          },
        ],
      });
    },
  },
  {
    id: 3,
    input: 'last line complete but no trailing newline',
    disposition: 'A + flag no_trailing_newline',
    run: async () => {
      await fileCase(`${r1}\n${r2}`, {
        units: 2,
        evidence: 2,
        quarantine: [],
        evidenceFlags: [[], ['no_trailing_newline']],
      });
    },
  },
  {
    id: 4,
    input: 'torn last line (partial JSON, no newline)',
    disposition: 'Q TRUNCATED_FINAL_LINE',
    run: async () => {
      const torn = r2.slice(0, 30);
      await fileCase(`${r1}\n${torn}`, {
        units: 2,
        evidence: 1,
        quarantine: [
          {
            reason: 'TRUNCATED_FINAL_LINE',
            line: 1,
            offset: len(r1) + 1,
            bytes: 30,
            lineSha: sha256(torn),
            detail: /^last line has no newline and does not parse \(a torn write\?\)/,
          },
        ],
      });
    },
  },
  {
    id: 5,
    input: 'UTF-8 BOM at byte 0 (and one elsewhere)',
    disposition: 'A + flag bom_stripped; a BOM not at offset 0 → Q JSON_PARSE',
    run: async () => {
      await fileCase(`\uFEFF${r1}\n\uFEFF${r2}\n`, {
        units: 2,
        evidence: 1,
        quarantine: [{ reason: 'JSON_PARSE', line: 1, offset: 3 + len(r1) + 1, bytes: 3 + len(r2) }],
        evidenceFlags: [['bom_stripped']],
      });
    },
  },
  {
    id: 6,
    input: 'UTF-16 / UTF-32 file (BOM or NUL-interleaved)',
    disposition: 'E SOURCE_REFUSED; accepted or optional source: QF UNSUPPORTED_ENCODING',
    run: async () => {
      for (const bytes of [
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(jsonl(r1), 'utf16le')]),
        Buffer.from(jsonl(r1), 'utf16le'),
        Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), Buffer.from(jsonl(r1))]),
      ]) {
        await fileCase(bytes, {
          units: 0,
          evidence: 0,
          refused: 'UNSUPPORTED_ENCODING',
          quarantine: [
            {
              reason: 'UNSUPPORTED_ENCODING',
              line: null,
              offset: null,
              bytes: bytes.length,
              lineSha: sha256(bytes),
              detail: /UTF-16|UTF-32/,
            },
          ],
        });
      }
    },
  },
  {
    id: 7,
    input: 'invalid UTF-8 byte sequences',
    disposition: 'Q INVALID_UTF8 (raw bytes hashed, next line still read)',
    run: async () => {
      const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
      await fileCase(Buffer.concat([Buffer.from(`${r1}\n`), bad, Buffer.from(`\n${r2}\n`)]), {
        units: 3,
        evidence: 2,
        quarantine: [
          {
            reason: 'INVALID_UTF8',
            line: 1,
            offset: len(r1) + 1,
            bytes: bad.length,
            lineSha: sha256(bad),
            detail: /not valid UTF-8/,
          },
        ],
      });
    },
  },
  {
    id: 8,
    input: 'CRLF line endings',
    disposition: 'A + flag crlf',
    run: async () => {
      await fileCase(`${r1}\r\n${r2}\r\n`, {
        units: 2,
        evidence: 2,
        quarantine: [],
        evidenceFlags: [['crlf'], ['crlf']],
      });
    },
  },
  {
    id: 9,
    input: 'lone-CR "lines" (classic Mac)',
    disposition: 'Q JSON_TRAILING_DATA (CR is not a separator)',
    run: async () => {
      await fileCase(`${r1}\r${r2}\n`, {
        units: 1,
        evidence: 0,
        quarantine: [{ reason: 'JSON_TRAILING_DATA', line: 0, offset: 0, bytes: len(r1) + 1 + len(r2) }],
      });
    },
  },
  {
    id: 10,
    input: 'gzip / binary file named .jsonl',
    disposition:
      'E SOURCE_REFUSED; accepted or optional source: QF BINARY_FILE (a *.gz name is read decompressed)',
    run: async () => {
      const gz = gzipSync(jsonl(r1, r2));
      await fileCase(gz, {
        units: 0,
        evidence: 0,
        refused: 'BINARY_FILE',
        quarantine: [
          {
            reason: 'BINARY_FILE',
            line: null,
            offset: null,
            bytes: gz.length,
            lineSha: sha256(gz),
            detail:
              /^gzip data \(magic 1f 8b\) under a name without \.gz; name it \*\.gz to have it read decompressed, or decompress it$/,
          },
        ],
      });
      const bin = Buffer.from('abc\u0000def\n');
      await fileCase(bin, {
        units: 0,
        evidence: 0,
        refused: 'BINARY_FILE',
        quarantine: [
          {
            reason: 'BINARY_FILE',
            line: null,
            offset: null,
            bytes: bin.length,
            detail: /^NUL byte at offset 3 in the first 8 KiB/,
          },
        ],
      });
    },
  },
  {
    id: 11,
    input: 'a single 100 MB line',
    disposition: 'Q LINE_TOO_LONG (offset, bytes, sha256; memory bounded; next line read)',
    run: async () => {
      const root = oneSourceProject({ [`${SRC_DIR}/a-control.jsonl`]: jsonl(reward('ctl-1')) });
      mkdirSync(join(root, SRC_DIR), { recursive: true });
      const size = 100 * 1024 * 1024;
      const lineSha = writeHugeLine(inSrc(root, 'case.jsonl'), size);
      const rss0 = process.memoryUsage.rss();
      let peak = rss0;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2);
      const out = await build(root).finally(() => clearInterval(timer));
      const q = out.quarantine.filter((x) => x.source_file === CASE);
      assert.deepEqual(
        q.map((x) => [x.reason, x.line_offset, x.byte_offset, x.bytes, x.line_sha256]),
        [['LINE_TOO_LONG', 0, 0, size, lineSha]],
      );
      assert.match(
        q[0]?.detail ?? '',
        /^line is 104857600 bytes, over the 16777216-byte limit \(limits\.max_line_bytes\)$/,
      );
      assert.deepEqual(
        out.evidence.filter((r) => r.provenance.source_file === CASE).map((r) => r.provenance.line_offset),
        [1],
      );
      // the 100 MB line is never held: far less than its size is added to the resident set
      assert.ok(
        peak - rss0 < 64 * 1024 * 1024,
        `RSS grew by ${Math.round((peak - rss0) / 1048576)} MiB while reading a 100 MiB line`,
      );
    },
  },
  {
    id: 12,
    input: 'multi-GB file',
    disposition: 'processed streaming (bounded chunks)',
    pending:
      'not run in the suite (minutes of I/O); measured by `npm run bench -- --big-file 2` (build-evidence on one 2 GiB file, peak RSS checked against 512 MB). The reader holds one 1 MiB chunk plus one line at most, shown here with bounded RSS on the 100 MB line (#11).',
  },
  {
    id: 13,
    input: 'input is a symlink, or a symlinked folder leads outside the root',
    disposition: 'E SOURCE_REFUSED; accepted or optional source: QF SYMLINK_INPUT / QF PATH_ESCAPE',
    run: async () => {
      await fileCase(
        jsonl(r1),
        {
          units: 0,
          evidence: 0,
          refused: 'SYMLINK_INPUT',
          quarantine: [{ reason: 'SYMLINK_INPUT', line: null, offset: null, detail: /symbolic link/ }],
        },
        {
          name: 'case.jsonl',
          prepare: (root) => {
            writeFileSync(join(root, 'data/_kb/real.jsonl'), jsonl(r1));
            // replace the case file by a link to a real file inside the root
            execFileSync('ln', ['-sf', '../real.jsonl', inSrc(root, 'case.jsonl')]);
          },
        },
      );
      const outside = tempDir('distill-outside-');
      writeFileSync(join(outside, 'case.jsonl'), jsonl(r2));
      await fileCase(
        jsonl(r1),
        {
          units: 0,
          evidence: 0,
          refused: 'PATH_ESCAPE',
          quarantine: [
            { reason: 'PATH_ESCAPE', line: null, offset: null, detail: /leads outside the project root/ },
          ],
        },
        {
          name: 'linked/case.jsonl',
          source: { files: [`${SRC_DIR}/*.jsonl`, `${SRC_DIR}/linked/*.jsonl`] },
          prepare: (root) => {
            execFileSync('rm', ['-r', inSrc(root, 'linked')]);
            symlinkSync(outside, inSrc(root, 'linked'));
          },
        },
      );
    },
  },
  {
    id: 14,
    input: 'FIFO, device, socket or a directory named x.jsonl',
    disposition: 'E SOURCE_REFUSED; accepted or optional source: QF NOT_REGULAR_FILE',
    run: async () => {
      for (const make of [(p: string) => execFileSync('mkfifo', [p]), (p: string) => mkdirSync(p)]) {
        await fileCase(
          '',
          {
            units: 0,
            evidence: 0,
            refused: 'NOT_REGULAR_FILE',
            quarantine: [
              { reason: 'NOT_REGULAR_FILE', line: null, offset: null, detail: /not a regular file/ },
            ],
          },
          {
            prepare: (root) => {
              execFileSync('rm', ['-f', inSrc(root, 'case.jsonl')]);
              make(inSrc(root, 'case.jsonl'));
            },
          },
        );
      }
    },
  },
  {
    id: 15,
    input: 'hard link or byte-identical copy of a listed file',
    disposition: 'QF DUPLICATE_SOURCE (ref = the file read)',
    run: async () => {
      const first = `${SRC_DIR}/a-control.jsonl`;
      const ctl = jsonl(reward('ctl-1'), reward('ctl-2'));
      await fileCase(ctl, {
        units: 0,
        evidence: 0,
        refused: 'DUPLICATE_SOURCE',
        quarantine: [
          {
            reason: 'DUPLICATE_SOURCE',
            line: null,
            offset: null,
            bytes: len(ctl),
            lineSha: sha256(ctl),
            ref: first,
            detail: /^byte-identical to data\/_kb\/src\/a-control\.jsonl, which was read instead$/,
          },
        ],
      });
      await fileCase(
        '',
        {
          units: 0,
          evidence: 0,
          refused: 'DUPLICATE_SOURCE',
          quarantine: [{ reason: 'DUPLICATE_SOURCE', line: null, offset: null, ref: first }],
        },
        {
          prepare: (root) => {
            execFileSync('rm', [inSrc(root, 'case.jsonl')]);
            linkSync(inSrc(root, 'a-control.jsonl'), inSrc(root, 'case.jsonl'));
          },
        },
      );
    },
  },
  {
    id: 16,
    input: 'file vanishes after listing (ENOENT) / unreadable (EACCES)',
    disposition: 'E SOURCE_UNREADABLE (exit 2, nothing published)',
    note: 'Tests run as root, where chmod 000 does not block reads, so both errors are injected at open with DISTILL_FAULT=read:<n>:<errno>.',
    run: async () => {
      const root = oneSourceProject({
        [`${SRC_DIR}/a-control.jsonl`]: jsonl(reward('ctl-1')),
        [CASE]: jsonl(r1),
      });
      await build(root);
      const before = outputs(root);
      // one after the other (two concurrent runs would meet the phase lock): through the bin, and
      // through the phase's shell in a lean child
      const gone = await runCli(['build-evidence', '--root', root], {
        env: { DISTILL_FAULT: 'read:2:ENOENT' },
      });
      const denied = await runChild('build-evidence', root, { DISTILL_FAULT: 'read:1:EACCES' });
      assert.equal(gone.code, 2, gone.stderr);
      assert.match(
        gone.stderr ?? '',
        /✖ build-evidence: SOURCE_UNREADABLE: data\/_kb\/src\/case\.jsonl: it was listed but vanished before it could be opened \(ENOENT\); nothing was published\./,
      );
      assert.equal(denied.code, 2, denied.stderr);
      assert.match(
        denied.stderr ?? '',
        /SOURCE_UNREADABLE: data\/_kb\/src\/a-control\.jsonl: permission denied \(EACCES\)/,
      );
      assert.deepEqual(outputs(root), before, 'the previous evidence is untouched');
      assert.deepEqual(ls(join(root, '.distill/staging')), []);
    },
  },
  {
    id: 17,
    input: 'a writer appends while we read',
    disposition: 'snapshot [0, size at open) + file flags grew_during_read, unterminated_tail_deferred',
    run: async () => {
      const row = (i: number): string => reward(`w${i}`);
      const cut = 12;
      const initial = `${r1}\n${r2}\n${row(0).slice(0, cut)}`;
      const root = oneSourceProject({ [CASE]: initial });
      const path = inSrc(root, 'case.jsonl');
      // the writer finishes the line it is in the middle of and starts the next one, so the file
      // always ends in a partial line, as a live log does; it keeps writing until the build ends
      let k = 0;
      let stop = false;
      const append = (): void => {
        if (stop) return;
        appendFileSync(path, `${row(k).slice(cut)}\n${row(k + 1).slice(0, cut)}`);
        k++;
        setImmediate(append);
      };
      setImmediate(append);
      const out = await build(root).finally(() => (stop = true));
      assert.ok(k > 0, 'the writer appended during the build');
      const h = out.health.files.find((f) => f.file === CASE);
      const input = out.manifest.inputs.find((i) => i.path === CASE);
      assert.ok(h && input);
      assert.deepEqual(h.flags, ['grew_during_read', 'unterminated_tail_deferred']);
      // what was read is exactly the complete lines of the snapshot taken at open; the partial line
      // being written then, and everything appended after, is not read (and not quarantined)
      const prefix = readFileSync(path).subarray(0, input.bytes).toString('utf8');
      assert.ok(prefix.endsWith('\n'));
      const linesAtOpen = prefix.split('\n').length - 1;
      assert.deepEqual([h.units, h.evidence_units, h.quarantined_units], [linesAtOpen, linesAtOpen, 0]);
      assert.equal(input.sha256, sha256(prefix));
      // the writer finishes; the next run reads the rest, and the prefix read before still matches
      appendFileSync(path, `${row(k).slice(cut)}\n`);
      const total = readFileSync(path, 'utf8').split('\n').length - 1;
      assert.equal(total, 2 + k + 1);
      assert.ok(
        linesAtOpen < total,
        `the build read ${linesAtOpen} of ${total} lines: the writer appended after the open`,
      );
      const again = await build(root);
      const h2 = again.health.files.find((f) => f.file === CASE);
      assert.deepEqual([h2?.units, h2?.evidence_units, h2?.flags], [total, total, []]);
    },
  },
  {
    id: 18,
    input: 'source truncated, rotated or edited since the last run',
    disposition:
      'E SOURCE_TRUNCATED / SOURCE_MISSING (nothing published; --accept-source-changes rebuilds; rotation to a listed name is recognised)',
    run: async () => {
      const root = oneSourceProject({
        [`${SRC_DIR}/a-control.jsonl`]: jsonl(reward('ctl-1')),
        [CASE]: jsonl(r1, r2),
      });
      await build(root);
      const before = outputs(root);
      const path = inSrc(root, 'case.jsonl');
      const expectTruncated = async (re: RegExp): Promise<void> => {
        await assert.rejects(build(root), (e: unknown) => {
          assert.ok(e instanceof UserError);
          assert.equal(e.code, 'SOURCE_TRUNCATED');
          assert.match(e.message, re);
          // the rows at stake and the command that accepts the change
          assert.match(
            e.message,
            /the last build made 2 evidence records from its 2 rows, and they would be lost/,
          );
          assert.match(e.message, /`npx distill build-evidence --accept-source-changes`/);
          return true;
        });
        assert.deepEqual(outputs(root), before, 'the previous evidence is untouched');
        assert.deepEqual(ls(join(root, '.distill/staging')), []);
      };
      truncateSync(path, len(r1) + 1);
      await expectTruncated(
        new RegExp(
          `^SOURCE_TRUNCATED: .*\n  - \\[SOURCE_TRUNCATED\\] source src: data/_kb/src/case\\.jsonl: the file is ${len(r1) + 1} bytes now, but the last build read ${len(r1) + len(r2) + 2} bytes of it \\(truncated or rotated\\);`,
        ),
      );
      // same size, one byte changed: the prefix hash differs
      writeFileSync(path, jsonl(r1, r2.replace('"reward":1', '"reward":0')));
      await expectTruncated(
        /\[SOURCE_TRUNCATED\] source src: data\/_kb\/src\/case\.jsonl: its first \d+ bytes changed since the last build \(sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\)/,
      );
      // appending is what a log does: fine
      writeFileSync(path, jsonl(r1, r2, reward('t3')));
      assert.equal((await build(root)).health.files.find((f) => f.file === CASE)?.units, 3);
      // an intended rewrite
      writeFileSync(path, jsonl(reward('t9')));
      await assert.rejects(build(root), /SOURCE_TRUNCATED/);
      const out = await build(root, { acceptSourceChanges: true });
      assert.deepEqual(
        out.evidence.filter((r) => r.provenance.source_file === CASE).map((r) => r.trace_id),
        ['t9'],
      );
    },
  },
  {
    id: 19,
    input: 'hostile names: control characters, NFC/NFD or case collisions, ../x and /etc/passwd globs',
    disposition:
      'E SOURCE_REFUSED (name escaped); accepted or optional source: QF UNSAFE_SOURCE_NAME; globs leaving the root → E (config error)',
    note: 'A 4 KB name cannot be created on Linux (NAME_MAX 255), so the >255-byte component check is defensive only.',
    run: async () => {
      await fileCase(
        jsonl(r1),
        {
          units: 0,
          evidence: 0,
          refused: 'UNSAFE_SOURCE_NAME',
          quarantine: [
            {
              reason: 'UNSAFE_SOURCE_NAME',
              line: null,
              offset: null,
              detail: /^file name contains control characters$/,
            },
          ],
        },
        { name: 'new\nline.jsonl' },
      );
      const nfd = 'cafe\u0301.jsonl';
      const nfc = 'caf\u00e9.jsonl';
      const { out } = await fileCase(
        jsonl(r2),
        {
          units: 0,
          evidence: 0,
          refused: 'UNSAFE_SOURCE_NAME',
          quarantine: [
            {
              reason: 'UNSAFE_SOURCE_NAME',
              line: null,
              offset: null,
              ref: `${SRC_DIR}/${nfd}`,
              detail: /only by Unicode normalization or case/,
            },
          ],
        },
        {
          name: nfc,
          extraFiles: {
            [`${SRC_DIR}/${nfd}`]: jsonl(reward('nfd')),
            [`${SRC_DIR}/Day.jsonl`]: jsonl(reward('upper')),
            [`${SRC_DIR}/day.jsonl`]: jsonl(reward('lower')),
          },
        },
      );
      const day = out.quarantine.filter((q) => q.source_file === `${SRC_DIR}/day.jsonl`);
      assert.deepEqual(
        day.map((q) => [q.reason, q.ref]),
        [['UNSAFE_SOURCE_NAME', `${SRC_DIR}/Day.jsonl`]],
      );
      assert.deepEqual(out.evidence.map((r) => r.trace_id).sort(), ['ctl-1', 'ctl-2', 'nfd', 'upper']);
      for (const glob of ['../outside/*.jsonl', '/etc/passwd']) {
        const root = oneSourceProject({ [CASE]: jsonl(r1) }, { files: [glob] });
        await assert.rejects(
          build(root),
          new RegExp(
            `source src: glob "${glob.replace(/[.*/]/g, '\\$&')}" leaves the project root; copy the files under data/ instead`,
          ),
        );
      }
    },
  },
];
