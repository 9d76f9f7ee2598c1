import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { DistillConfig } from '../../schemas/config.ts';
import { materializeUnit } from '../../tasks/phases/build-evidence/core.ts';
import { getAdapter } from '../../tasks/adapters/registry.ts';
import type { Adapter } from '../../tasks/adapters/adapter.ts';
import { quarantineRow } from '../../tasks/lib/quarantine.ts';
import { openSource, readLines } from '../../tasks/lib/source-reader.ts';
import { runCli } from '../helpers/project.ts';
import { build, oneSourceProject, reward, SRC_DIR, tempDir } from './fixture.ts';

/**
 * RELIABILITY.md T11: over arbitrary byte sequences mixing valid rows, garbage, over-long lines,
 * CR / LF / CRLF, BOMs, blank lines and invalid UTF-8, every line ends as evidence or as a
 * quarantine row with a reason code: evidence + quarantine = lines, the units' bytes and
 * terminators add up to the file size, offsets are exact and each quarantine hash is the hash of
 * exactly the bytes it points at.
 */

const MAX_LINE = 300;
const config = DistillConfig.parse({
  schema_version: 1,
  as_of: '2026-11-01T00:00:00.000Z',
  limits: { max_line_bytes: MAX_LINE },
  sources: [{ stream: 'src', adapter: 'reward', files: ['x'] }],
});
const adapter = getAdapter('reward') as Adapter;

/** The content of one line (or of what a writer meant as one): mostly valid rows, and every kind of damage. */
const lineContent = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(
        reward('a'),
        reward('b', '2026-10-03T00:00:00Z', 0.5),
        reward('c'),
        reward('d', '2026-10-05T00:00:00+05:00', 0),
      )
      .map((s) => Buffer.from(s)),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        reward('e', '2026-02-30T00:00:00Z'),
        reward('f', '2099-01-01T00:00:00Z'),
        '{"trace_id":"x"}',
        '[1,2]',
        '{"a":1,"a":2}',
        '{"a":1}{"b":2}',
        '{"x":1e400}',
      )
      .map((s) => Buffer.from(s)),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX_LINE - 5, max: 3 * MAX_LINE })
      .map((n) => Buffer.from(reward('big', '2026-10-02T10:00:00Z', 1, { pad: 'x'.repeat(n) }))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' \t ', '{', '}', '\u2028', '"\\ud800"').map((s) => Buffer.from(s)),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from([0xc3, 0x28]),
        Buffer.from([0xff]),
        Buffer.from([0xe2, 0x82]),
      )
      .map((b) => Buffer.concat([b, Buffer.from(reward('g'))])),
  },
);
const separator = fc.constantFrom('\n', '\n', '\n', '\n', '\r\n', '\r', '').map((s) => Buffer.from(s));
const fileBytes = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(lineContent, separator), { maxLength: 40, size: 'medium' }))
  .map(([bom, lines]) =>
    Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), ...lines.flat()]),
  );

/** Lines as the JSON Lines spec counts them: split on LF; a final segment without LF is a line when not empty. */
function countLines(b: Buffer): { lines: number; terminators: number } {
  let terminators = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) terminators++;
  const lastNl = b.lastIndexOf(0x0a);
  return { lines: terminators + (b.length > lastNl + 1 ? 1 : 0), terminators };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('accounting property (reader + materializeUnit, in-process): evidence + quarantine = lines, bytes and offsets add up, every drop has a reason', async (t) => {
  const dir = tempDir('distill-prop-');
  const path = join(dir, 'f.jsonl');
  let runs = 0;
  let totalLines = 0;
  let totalEvidence = 0;
  const reasons = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fileBytes, async (bytes) => {
      runs++;
      writeFileSync(path, bytes);
      const opened = await openSource(path);
      assert.ok(opened.ok);
      let evidence = 0;
      let quarantine = 0;
      let sumBytes = 0;
      let expectOffset = 0;
      try {
        for await (const unit of readLines(opened.src, MAX_LINE)) {
          assert.equal(unit.offset, expectOffset, 'offset of each line');
          expectOffset = unit.offset + unit.bytes + 1;
          sumBytes += unit.bytes;
          const out = materializeUnit(unit, adapter, { stream: 'src', file: 'f.jsonl' }, config);
          if (out.type === 'keep') {
            evidence++;
            assert.ok(out.records.length >= 1);
          } else {
            quarantine++;
            assert.match(out.reason, /^[A-Z][A-Z0-9_]*$/);
            assert.ok(out.detail.length > 0);
            reasons.set(out.reason, (reasons.get(out.reason) ?? 0) + 1);
            const lineSha = unit.raw ? sha(unit.raw) : unit.rawSha256;
            assert.equal(
              lineSha,
              sha(bytes.subarray(unit.offset, unit.offset + unit.bytes)),
              "the quarantine hash is the hash of the line's bytes",
            );
            quarantineRow(
              {
                reason: out.reason,
                detail: out.detail,
                file: 'f.jsonl',
                index: unit.index,
                offset: unit.offset,
                bytes: unit.bytes,
                lineSha,
                sig: out.sigHash,
                record: null,
                trace: out.traceId,
                ref: out.ref ?? null,
              },
              'build-evidence',
            );
          }
        }
      } finally {
        await opened.src.fh.close();
      }
      const { lines, terminators } = countLines(bytes);
      totalLines += lines;
      totalEvidence += evidence;
      assert.equal(evidence + quarantine, lines, 'evidence + quarantine = lines');
      assert.equal(sumBytes + terminators, bytes.length, 'line bytes + terminators = file size');
    }),
    { numRuns: 1000 },
  );
  t.diagnostic(
    `${runs} generated files, ${totalLines} lines, ${totalEvidence} evidence; quarantine reasons seen: ${[
      ...reasons.entries(),
    ]
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  assert.ok(reasons.size >= 8, 'the generator reaches many reasons');
});

test('accounting property end to end (build-evidence in-process on 13 generated files, and once through the CLI): health and quarantine reconcile with the lines', async (t) => {
  const samples = fc.sample(fileBytes, { numRuns: 13, seed: 20261101 });
  const files = Object.fromEntries(
    samples.map((b, i) => [`${SRC_DIR}/f${String(i).padStart(2, '0')}.jsonl`, b]),
  );
  const root = oneSourceProject(files, {}, { limits: { max_line_bytes: MAX_LINE } });
  // some generated files are binary: refused whole, which stops a build until accepted (test/sources/vanish.test.ts)
  const out = await build(root, { acceptSourceChanges: true }); // asserts units = evidence + quarantined per file and in total, and one quarantine row each
  for (const [file, bytes] of Object.entries(files)) {
    const h = out.health.files.find((f) => f.file === file);
    assert.ok(h);
    if (h.file_refused) assert.equal(h.units, 0, `${file} refused as ${h.file_refused}`);
    else assert.equal(h.units, countLines(bytes).lines, `${file}: units = lines`);
    const q = out.quarantine.filter((r) => r.source_file === file);
    assert.equal(q.length, h.quarantined_units + (h.file_refused ? 1 : 0));
    for (const r of q)
      if (r.line_offset !== null)
        assert.equal(
          r.line_sha256,
          sha(bytes.subarray(r.byte_offset as number, (r.byte_offset as number) + (r.bytes as number))),
        );
  }
  const cli = await runCli([
    'build-evidence',
    '--root',
    oneSourceProject(files, {}, { limits: { max_line_bytes: MAX_LINE } }),
    '--accept-source-changes',
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  t.diagnostic(
    `${samples.length} files, ${out.health.totals.units} lines: ${out.health.totals.evidence_units} evidence, ${out.health.totals.quarantined_units} quarantined, ${out.health.totals.files_refused} files refused`,
  );
});
