import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError, type ErrorCode } from '../../tasks/lib/result.ts';
import { build, jsonl, ls, outputs, reward, tempDir, writeFiles } from '../reliability/fixture.ts';
import { inProcess } from '../helpers/project.ts';

/**
 * Issue 20: a source's rows leave the datasets only when the operator says so. Every case builds
 * in-process with the phase core the CLI runs; the CLI cases check what an operator sees.
 */

interface Src {
  stream: string;
  files: string[];
  adapter?: string;
  optional?: boolean;
}

function project(sources: Src[], files: Record<string, string | Buffer>): string {
  const root = tempDir('distill-vanish-');
  writeConfig(root, sources);
  writeFiles(root, files);
  return root;
}

function writeConfig(root: string, sources: Src[]): void {
  const cfg = {
    schema_version: 1,
    as_of: '2026-11-01T00:00:00.000Z',
    sources: sources.map((s) => ({ adapter: 'reward', ...s })),
    exports: { test_fraction: 0 },
  };
  writeFileSync(join(root, 'distill.config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
}

/** Asserts the build stops with `code`, names every `mentions`, offers the accept command, and publishes nothing new. */
async function expectStop(root: string, code: ErrorCode, mentions: RegExp[]): Promise<UserError> {
  const before = outputs(root);
  let caught: UserError | null = null;
  await assert.rejects(build(root), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    caught = e;
    return true;
  });
  const e = caught as unknown as UserError;
  assert.equal(e.code, code, e.message);
  assert.equal(e.exitCode, 2);
  for (const m of mentions) assert.match(e.message, m);
  assert.match(e.message, /`npx distill build-evidence --accept-source-changes`/);
  assert.deepEqual(outputs(root), before, 'nothing was published');
  assert.deepEqual(ls(join(root, '.distill/staging')), []);
  return e;
}

const A = 'data/_kb/a';
const B = 'data/_kb/b';
const traces = (out: { evidence: { trace_id: string | null }[] }): string[] =>
  out.evidence.map((r) => String(r.trace_id)).sort();

test('an empty glob stops the first build: names the source, the glob, and both ways to accept it', async () => {
  const root = project(
    [
      { stream: 'alpha', files: [`${A}/*.jsonl`] },
      { stream: 'beta', files: [`${B}/*.jsonl`] }, // typo'd folder: nothing there
    ],
    { [`${A}/x.jsonl`]: jsonl(reward('t1')) },
  );
  const e = await expectStop(root, 'NO_SOURCES', [
    /\[NO_SOURCES\] source beta: no file matches "data\/_kb\/b\/\*\.jsonl" \(a typo, or the files moved\?\); nothing was built from it before/,
    /"optional": true/,
  ]);
  assert.doesNotMatch(e.message, /source alpha/);
  assert.equal(existsSync(join(root, 'data/evidence')), false);
  // accepted once: builds what there is
  assert.deepEqual(traces(await build(root, { acceptSourceChanges: true })), ['t1']);
});

test('an empty glob stops a later build too, with the rows the last build made from that source', async () => {
  const root = project(
    [
      { stream: 'alpha', files: [`${A}/*.jsonl`] },
      { stream: 'beta', files: [`${B}/*.jsonl`] },
    ],
    {
      [`${A}/x.jsonl`]: jsonl(reward('t1')),
      [`${B}/y.jsonl`]: jsonl(reward('t2'), reward('t3')),
    },
  );
  await build(root);
  // the glob is edited into a typo: the files are still there, but nothing matches
  writeConfig(root, [
    { stream: 'alpha', files: [`${A}/*.jsonl`] },
    { stream: 'beta', files: ['data/_kb/bb/*.jsonl'] },
  ]);
  await expectStop(root, 'NO_SOURCES', [
    /source beta: no file matches "data\/_kb\/bb\/\*\.jsonl" .*the last build made 2 evidence records from 1 files of it/,
    /\[SOURCE_MISSING\] source beta: data\/_kb\/b\/y\.jsonl: no glob of the source matches it any more .*the last build made 2 evidence records from its 2 rows/,
  ]);
});

test('"optional": true lets a source match nothing (first build and later builds)', async () => {
  const root = project(
    [
      { stream: 'alpha', files: [`${A}/*.jsonl`] },
      { stream: 'beta', files: [`${B}/*.jsonl`], optional: true },
    ],
    { [`${A}/x.jsonl`]: jsonl(reward('t1')) },
  );
  assert.deepEqual(traces(await build(root)), ['t1']);
  assert.deepEqual(traces(await build(root)), ['t1']);
});

test('a deleted file stops the build with its stream, name and rows at stake; restoring it or accepting continues', async () => {
  const rows = jsonl(reward('t2'), reward('t3'));
  const root = project([{ stream: 'alpha', files: [`${A}/*.jsonl`] }], {
    [`${A}/x.jsonl`]: jsonl(reward('t1')),
    [`${A}/y.jsonl`]: rows,
  });
  await build(root);
  unlinkSync(join(root, A, 'y.jsonl'));
  await expectStop(root, 'SOURCE_MISSING', [
    /\[SOURCE_MISSING\] source alpha: data\/_kb\/a\/y\.jsonl: it is gone \(deleted, moved or rotated away\); the last build made 2 evidence records from its 2 rows/,
  ]);
  // the stop holds until something changes: a second try stops the same way
  await expectStop(root, 'SOURCE_MISSING', [/data\/_kb\/a\/y\.jsonl/]);
  writeFileSync(join(root, A, 'y.jsonl'), rows);
  assert.deepEqual(traces(await build(root)), ['t1', 't2', 't3']);
  unlinkSync(join(root, A, 'y.jsonl'));
  assert.deepEqual(traces(await build(root, { acceptSourceChanges: true })), ['t1']);
  // accepted: the next build has nothing to complain about
  assert.deepEqual(traces(await build(root)), ['t1']);
});

test('DISTILL_ACCEPT_SOURCE_CHANGES=1 accepts like the flag (how `npm run run-all` passes it)', async () => {
  const root = project([{ stream: 'alpha', files: [`${A}/*.jsonl`] }], {
    [`${A}/x.jsonl`]: jsonl(reward('t1')),
    [`${A}/y.jsonl`]: jsonl(reward('t2')),
  });
  await build(root);
  unlinkSync(join(root, A, 'y.jsonl'));
  process.env['DISTILL_ACCEPT_SOURCE_CHANGES'] = '1';
  try {
    assert.deepEqual(traces(await build(root)), ['t1']);
  } finally {
    delete process.env['DISTILL_ACCEPT_SOURCE_CHANGES'];
  }
});

test('a rotated file (x.jsonl → x.jsonl.1, new x.jsonl) is recognised: no row lost, none counted twice', async () => {
  const root = project([{ stream: 'alpha', files: [`${A}/x.jsonl*`] }], {
    [`${A}/x.jsonl`]: jsonl(reward('t1'), reward('t2')),
  });
  assert.deepEqual(traces(await build(root)), ['t1', 't2']);
  renameSync(join(root, A, 'x.jsonl'), join(root, A, 'x.jsonl.1'));
  writeFileSync(join(root, A, 'x.jsonl'), jsonl(reward('t3')));
  const out = await build(root);
  assert.deepEqual(traces(out), ['t1', 't2', 't3']);
  assert.deepEqual(
    out.evidence.map((r) => [r.trace_id, r.provenance.source_file, r.provenance.line_offset]).sort(),
    [
      ['t1', `${A}/x.jsonl.1`, 0],
      ['t2', `${A}/x.jsonl.1`, 1],
      ['t3', `${A}/x.jsonl`, 0],
    ],
  );
  // and rotated again, compressed this time (logrotate's `compress`): x.jsonl.1 → x.jsonl.2.gz, x.jsonl → x.jsonl.1
  writeFileSync(join(root, A, 'x.jsonl.2.gz'), gzipSync(readFileSync(join(root, A, 'x.jsonl.1'))));
  unlinkSync(join(root, A, 'x.jsonl.1'));
  renameSync(join(root, A, 'x.jsonl'), join(root, A, 'x.jsonl.1'));
  writeFileSync(join(root, A, 'x.jsonl'), jsonl(reward('t4')));
  assert.deepEqual(traces(await build(root)), ['t1', 't2', 't3', 't4']);
});

test('copy rotation (x.jsonl.1 a copy, x.jsonl still growing) counts no row twice', async () => {
  const root = project([{ stream: 'alpha', files: [`${A}/x.jsonl*`] }], {
    [`${A}/x.jsonl`]: jsonl(reward('t1'), reward('t2')),
  });
  await build(root);
  writeFileSync(join(root, A, 'x.jsonl.1'), readFileSync(join(root, A, 'x.jsonl')));
  writeFileSync(join(root, A, 'x.jsonl'), jsonl(reward('t1'), reward('t2'), reward('t3')));
  const out = await build(root);
  assert.deepEqual(traces(out), ['t1', 't2', 't3']);
  assert.deepEqual(
    out.quarantine.map((q) => [q.source_file, q.reason]),
    [
      [`${A}/x.jsonl.1`, 'DUPLICATE_RECORD'],
      [`${A}/x.jsonl.1`, 'DUPLICATE_RECORD'],
    ],
  );
});

test('a file rotated to a name no glob matches stops the build and says where it went', async () => {
  const root = project([{ stream: 'alpha', files: [`${A}/*.jsonl`] }], {
    [`${A}/x.jsonl`]: jsonl(reward('t1'), reward('t2')),
  });
  await build(root);
  renameSync(join(root, A, 'x.jsonl'), join(root, A, 'x.jsonl.1'));
  // the glob now matches nothing, and the file the last build read is gone: both are named
  await expectStop(root, 'NO_SOURCES', [
    /\[NO_SOURCES\] source alpha: no file matches "data\/_kb\/a\/\*\.jsonl" .*the last build made 2 evidence records from 1 files of it/,
    /\[SOURCE_MISSING\] source alpha: data\/_kb\/a\/x\.jsonl: it is gone, and looks rotated to data\/_kb\/a\/x\.jsonl\.1, which no glob matches .*the last build made 2 evidence records from its 2 rows/,
  ]);
  // a new file at the old name with other content is not the old rows either
  writeFileSync(join(root, A, 'x.jsonl'), jsonl(reward('t9')));
  await expectStop(root, 'SOURCE_TRUNCATED', [/source alpha: data\/_kb\/a\/x\.jsonl: /]);
});

test('a file refused whole stops the first build; an optional source quarantines it and goes on', async () => {
  const files = {
    [`${A}/x.jsonl`]: jsonl(reward('t1')),
    [`${A}/y.jsonl`]: Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00, 0x10]),
  };
  const root = project([{ stream: 'alpha', files: [`${A}/*.jsonl`] }], files);
  await expectStop(root, 'SOURCE_REFUSED', [
    /\[SOURCE_REFUSED\] source alpha: data\/_kb\/a\/y\.jsonl: refused whole \(BINARY_FILE: NUL byte at offset 0/,
  ]);
  const opt = project([{ stream: 'alpha', files: [`${A}/*.jsonl`], optional: true }], files);
  const out = await build(opt);
  assert.deepEqual(traces(out), ['t1']);
  assert.deepEqual(
    out.quarantine.map((q) => [q.source_file, q.reason]),
    [[`${A}/y.jsonl`, 'BINARY_FILE']],
  );
});

test('run-all fails (exit 2) and shows the message when a glob matches nothing', async () => {
  const root = project(
    [
      { stream: 'alpha', files: [`${A}/*.jsonl`] },
      { stream: 'beta', files: [`${B}/*.jsonl`] },
    ],
    { [`${A}/x.jsonl`]: jsonl(reward('t1')) },
  );
  mkdirSync(join(root, B), { recursive: true });
  const r = await inProcess(['run-all', '--root', root]);
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /build-evidence: NO_SOURCES: .*\n {2}- \[NO_SOURCES\] source beta: no file matches "data\/_kb\/b\/\*\.jsonl"/,
  );
  assert.match(r.stderr, /--accept-source-changes/);
  const ok = await inProcess(['run-all', '--root', root, '--accept-source-changes']);
  assert.equal(ok.code, 0, ok.stderr);
  rmSync(join(root, 'reports'), { recursive: true, force: true });
});
