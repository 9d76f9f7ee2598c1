import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../tasks/lib/result.ts';
import { openSource, readLines, type SourceUnit } from '../../tasks/lib/source-reader.ts';
import { build, jsonl, ls, outputs, reward, tempDir, writeFiles } from '../reliability/fixture.ts';
import { inProcess } from '../helpers/project.ts';

/** Issue 20: gzip sources are read as they are; a file that changes under the reader fails the phase. */

const A = 'data/_kb/a';

function project(glob: string, files: Record<string, string | Buffer>, adapter = 'reward'): string {
  const root = tempDir('distill-gz-');
  const cfg = {
    schema_version: 1,
    as_of: '2026-11-01T00:00:00.000Z',
    sources: [{ stream: 'alpha', adapter, files: [glob] }],
    exports: { test_fraction: 0 },
  };
  writeFileSync(join(root, 'distill.config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  writeFiles(root, files);
  return root;
}

/** Many rows (some bad) past several 1 MiB read chunks, a CRLF line, a torn-free end. */
function corpus(rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    if (i % 997 === 5) lines.push('{"trace_id": not json');
    else if (i % 1409 === 7) lines.push('');
    else
      lines.push(
        reward(`t${i}`, `2026-10-0${1 + (i % 9)}T10:00:00Z`, (i % 10) / 10, { pad: 'x'.repeat(i % 300) }),
      );
  }
  return `${lines.join('\n')}\n`;
}

/** The comparable part of a build: evidence (without the file name) and quarantine rows (reason, line, offset). */
function shape(out: Awaited<ReturnType<typeof build>>): unknown {
  return {
    evidence: out.evidence
      .map((r) => [r.trace_id, r.provenance.line_offset, r.provenance.sig_hash])
      .sort((a, b) => Number(a[1]) - Number(b[1])),
    quarantine: out.quarantine.map((q) => [q.reason, q.line_offset, q.byte_offset, q.bytes, q.line_sha256]),
    totals: out.health.totals,
  };
}

test('a .jsonl.gz source is read decompressed: counts, line numbers and byte offsets equal the uncompressed file', async () => {
  const text = corpus(12_000); // ~2.5 MB decompressed: several read chunks and gunzip outputs
  assert.ok(Buffer.byteLength(text) > 2 * (1 << 20));
  const plain = await build(project(`${A}/*.jsonl`, { [`${A}/x.jsonl`]: text }));
  const gzRoot = project(`${A}/*.jsonl.gz`, { [`${A}/x.jsonl.gz`]: gzipSync(text) });
  const gz = await build(gzRoot);
  assert.ok(plain.evidence.length > 11_000);
  assert.ok(plain.quarantine.length > 10);
  assert.deepEqual(shape(gz), shape(plain));
  assert.ok(gz.evidence.every((r) => r.provenance.source_file === `${A}/x.jsonl.gz`));
  // provenance points into the decompressed stream: the line at byte_offset is the quarantined line
  const lines = text.split('\n');
  for (const q of gz.quarantine.filter((r) => r.reason === 'JSON_PARSE')) {
    assert.equal(lines[q.line_offset as number], '{"trace_id": not json');
    assert.equal(
      Buffer.from(text)
        .subarray(q.byte_offset as number, (q.byte_offset as number) + 21)
        .toString(),
      '{"trace_id": not json',
    );
  }
  // the manifest input is the .gz file itself (its bytes as stored); a rebuild from the cache is the same
  const again = await build(gzRoot);
  assert.deepEqual(shape(again), shape(gz));
});

test('adapter "auto" and `distill sniff` see through .gz', async () => {
  const text = jsonl(reward('t1'), reward('t2'), reward('t3'));
  const root = project(`${A}/*.gz`, { [`${A}/x.jsonl.gz`]: gzipSync(text) }, 'auto');
  const out = await build(root);
  assert.deepEqual(
    out.health.files.map((h) => [h.file, h.adapter, h.units, h.evidence_units]),
    [[`${A}/x.jsonl.gz`, 'reward', 3, 3]],
  );
  const r = await inProcess(['sniff', join(root, A, 'x.jsonl.gz')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /x\.jsonl\.gz: reward \(confidence \d\.\d\d\)/);
});

test('damaged gzip data stops the build (SOURCE_UNREADABLE), nothing published; gzip under a .jsonl name is refused whole', async () => {
  const whole = gzipSync(corpus(3000));
  const root = project(`${A}/*.gz`, { [`${A}/x.jsonl.gz`]: whole.subarray(0, Math.floor(whole.length / 2)) });
  await assert.rejects(build(root), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.code, 'SOURCE_UNREADABLE');
    assert.match(
      e.message,
      /data\/_kb\/a\/x\.jsonl\.gz: the gzip data is damaged or incomplete after \d+ decompressed bytes/,
    );
    return true;
  });
  assert.deepEqual(ls(join(root, 'data/evidence')), []);
  const misnamed = project(`${A}/*.jsonl`, { [`${A}/x.jsonl`]: gzipSync(jsonl(reward('t1'))) });
  await assert.rejects(
    build(misnamed),
    /SOURCE_REFUSED[^]*refused whole \(BINARY_FILE: gzip data \(magic 1f 8b\) under a name without \.gz/,
  );
});

/** A project whose one source file is larger than one read chunk (1 MiB), built once. */
async function builtBig(): Promise<{ root: string; path: string }> {
  const root = project(`${A}/*.jsonl`, { [`${A}/x.jsonl`]: corpus(12_000) });
  await build(root);
  return { root, path: join(root, A, 'x.jsonl') };
}

for (const [action, what] of [
  ['truncate', /it ended after \d+ bytes|it shrank to \d+ bytes/],
  ['replace', /another file was put in its place/],
  ['rewrite', /its bytes changed|its first \d+ bytes changed/],
] as const) {
  test(`a source ${action === 'truncate' ? 'truncated' : action === 'replace' ? 'replaced' : 'rewritten in place'} while it is read fails the phase with SOURCE_CHANGED and publishes nothing`, async () => {
    const { root, path } = await builtBig();
    // grow it, so this build has to read it again (not from the cache)
    writeFileSync(path, `${readFileSync(path, 'utf8')}${jsonl(reward('late'))}`);
    const before = outputs(root);
    process.env['DISTILL_SOURCE_CHANGE'] = `${action}:1`;
    try {
      await assert.rejects(build(root), (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.equal(e.code, 'SOURCE_CHANGED');
        assert.match(e.message, /^SOURCE_CHANGED: data\/_kb\/a\/x\.jsonl: /);
        assert.match(e.message, what);
        assert.match(e.message, /nothing was published/);
        return true;
      });
    } finally {
      delete process.env['DISTILL_SOURCE_CHANGE'];
    }
    assert.deepEqual(outputs(root), before, 'the previous evidence is untouched');
    assert.deepEqual(ls(join(root, '.distill/staging')), []);
  });
}

test('the reader itself: a file cut mid-read throws SOURCE_CHANGED instead of yielding a torn last line', async () => {
  const dir = tempDir('distill-gz-');
  const path = join(dir, 'x.jsonl');
  writeFileSync(path, corpus(12_000));
  const opened = await openSource(path, 'x.jsonl');
  assert.ok(opened.ok);
  const src = opened.src;
  const seen: SourceUnit[] = [];
  try {
    await assert.rejects(
      (async () => {
        for await (const u of readLines(src, 1 << 20)) {
          if (seen.length === 0) writeFileSync(path, readFileSync(path).subarray(0, 1_500_000)); // O_TRUNC + shorter
          seen.push(u);
        }
      })(),
      (e: unknown) => e instanceof UserError && e.code === 'SOURCE_CHANGED',
    );
  } finally {
    await src.fh.close();
  }
  assert.ok(
    seen.every((u) => u.terminated),
    'no torn line was yielded',
  );
});

test('a gzipped JSON array (tau-bench) and a multi-member gzip file read the same as their plain files', async () => {
  const tau = readFileSync(join(import.meta.dirname, '../../data/_kb/tau_bench/synthetic-airline.json'));
  const plain = await build(project('data/_kb/t/*.json', { 'data/_kb/t/r.json': tau }, 'tau-bench'));
  const gz = await build(
    project('data/_kb/t/*.json.gz', { 'data/_kb/t/r.json.gz': gzipSync(tau) }, 'tau-bench'),
  );
  assert.ok(plain.evidence.length > 0);
  assert.deepEqual(shape(gz), shape(plain));
  // `cat a.gz b.gz > c.gz` is one stream of both
  const a = jsonl(reward('t1'), reward('t2'));
  const b = jsonl(reward('t3'));
  const multi = await build(
    project(`${A}/*.gz`, { [`${A}/x.jsonl.gz`]: Buffer.concat([gzipSync(a), gzipSync(b)]) }),
  );
  assert.deepEqual(multi.evidence.map((r) => [r.trace_id, r.provenance.line_offset]).sort(), [
    ['t1', 0],
    ['t2', 1],
    ['t3', 2],
  ]);
});
