import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatVerify, phaseFolders, verifyProject } from '../../tasks/inspect/verify.ts';
import { inProcess, runCli } from '../helpers/project.ts';
import { pipeline, pipelineProject, tempDir } from './fixture.ts';

/**
 * RELIABILITY.md T7 / §5 #62: `distill verify` re-hashes every published file against its phase's
 * _manifest.json and fails, naming the file and what differs, on a truncation, a bit flip, a
 * missing file or a stray one.
 */

/**
 * What `distill verify` prints and returns (the command is these two calls; the CLI's `main` runs it
 * in-process twice below, the bin once).
 */
async function verify(root: string): Promise<{ code: number; stdout: string }> {
  const report = await verifyProject(root);
  return { code: report.ok ? 0 : 1, stdout: `${formatVerify(report)}\n` };
}

let built: Promise<string> | null = null;
/** One fully built project, copied per test (building is the slow part). */
async function project(): Promise<string> {
  built ??= (async () => {
    const root = pipelineProject();
    await pipeline(root);
    return root;
  })();
  const src = await built;
  const dst = join(tempDir('distill-verify-'), 'p');
  const { cpSync } = await import('node:fs');
  cpSync(src, dst, { recursive: true });
  return dst;
}

test('verify passes on a fresh build and lists every phase folder', async () => {
  const root = await project();
  const r = await inProcess(['verify', '--root', root]);
  assert.equal(r.code, 0, r.stdout);
  const folders = await phaseFolders(root);
  assert.ok(
    folders.includes('data/evidence') &&
      folders.includes('data/scored-runs') &&
      folders.includes('exports/sft'),
    folders.join(', '),
  );
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('✔ ')).length, folders.length + 1);
  assert.match(r.stdout, new RegExp(`\\n✔ verify: ${folders.length} phase folders intact\\n$`));
  assert.match(r.stdout, /^✔ data\/evidence: \d+ files match _manifest\.json$/m);
});

test('verify names a truncated file, a flipped byte, a missing file and a stray file, and exits 1', async () => {
  const root = await project();
  // the first day shard of the SFT rows that holds some
  const sftRel = `exports/sft/instruction_response/${readdirSync(
    join(root, 'exports/sft/instruction_response'),
  )
    .sort()
    .find((f) => readFileSync(join(root, 'exports/sft/instruction_response', f)).length > 10)}`;
  const sft = join(root, sftRel);
  const sftBytes = readFileSync(sft).length;
  truncateSync(sft, sftBytes - 10);
  const ev = join(root, 'data/evidence/2026/10/02/gateway_calls.jsonl');
  const buf = readFileSync(ev);
  buf[20] = (buf[20] as number) ^ 0x01;
  writeFileSync(ev, buf);
  rmSync(join(root, 'data/scored-runs/_summary.json'));
  appendFileSync(join(root, 'exports/rag/stray.jsonl'), '{}\n');
  const r = await verify(root);
  assert.equal(r.code, 1);
  const problems = r.stdout.split('\n').filter((l) => l.startsWith('    '));
  assert.equal(problems.length, 4, r.stdout);
  assert.match(
    r.stdout,
    /^✖ data\/evidence: 1 problem against _manifest\.json\n {4}data\/evidence\/2026\/10\/02\/gateway_calls\.jsonl: content differs: sha256 [0-9a-f]{12}…, manifest says [0-9a-f]{12}…$/m,
  );
  assert.match(
    r.stdout,
    /^ {4}data\/scored-runs\/_summary\.json: missing: listed in the manifest but not on disk$/m,
  );
  assert.match(r.stdout, /^ {4}exports\/rag\/stray\.jsonl: extra file: on disk but not in the manifest$/m);
  assert.match(
    r.stdout,
    new RegExp(
      `^ {4}${sftRel.replace(/[.]/g, '\\.')}: content differs: size ${sftBytes - 10} bytes, manifest says ${sftBytes} \\(truncated\\); sha256 [0-9a-f]{12}…, manifest says [0-9a-f]{12}…; \\d+ rows, manifest says \\d+$`,
      'm',
    ),
  );
  assert.match(
    r.stdout,
    /\n✖ verify: 4 of \d+ phase folders changed after they were published; rebuild them \(e\.g\. `npm run export-all`\) or restore the files\n$/,
  );
  const json = await inProcess(['verify', '--json', '--root', root]);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as Awaited<ReturnType<typeof verifyProject>>;
  assert.equal(report.ok, false);
  assert.deepEqual(report.folders.flatMap((f) => f.problems.map((p) => p.file)).sort(), [
    'data/evidence/2026/10/02/gateway_calls.jsonl',
    'data/scored-runs/_summary.json',
    'exports/rag/stray.jsonl',
    sftRel,
  ]);
});

test('verify fails on every single-byte flip and every truncation of a published file (sampled offsets)', async () => {
  const root = await project();
  const file = join(root, 'data/scored-runs/2026/10/02/runs.jsonl');
  const orig = readFileSync(file);
  for (const at of [
    0,
    1,
    Math.floor(orig.length / 3),
    Math.floor(orig.length / 2),
    orig.length - 2,
    orig.length - 1,
  ]) {
    const flipped = Buffer.from(orig);
    flipped[at] = (flipped[at] as number) ^ 0x20;
    writeFileSync(file, flipped);
    assert.equal((await verifyProject(root)).ok, false, `flip at ${at}`);
    writeFileSync(file, orig.subarray(0, at));
    assert.equal((await verifyProject(root)).ok, false, `truncate to ${at}`);
  }
  writeFileSync(file, orig);
  assert.equal((await verifyProject(root)).ok, true);
});

test('verify of a damaged manifest and of a project with nothing built', async () => {
  const root = await project();
  writeFileSync(join(root, 'exports/sft/_manifest.json'), '{"schema_version":1,');
  const r = await verify(root);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /^ {4}exports\/sft\/_manifest\.json: the manifest is unreadable or invalid \(.+\); rebuild this phase$/m,
  );
  const empty = tempDir();
  writeFileSync(join(empty, 'distill.config.json'), readFileSync(join(root, 'distill.config.json')));
  const viaBin = await runCli(['verify', '--root', empty]);
  assert.equal(viaBin.code, 2);
  assert.equal(
    viaBin.stderr,
    '✖ nothing to verify: no phase folder with a _manifest.json under data/ or exports/; build first with `npm run export-all` [NOTHING_BUILT]\n',
  );
});
