import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliInProcess, keepLastDays, tempProject, treeHashes } from '../helpers/project.ts';

// The day-sharded exports (docs/exports.md, "Layout" and "Incremental builds"): a build after new
// screened days reuses the unchanged day shards, and what it publishes is byte for byte what a
// cold build of the same inputs publishes. Each case removes some days from the bundled corpus
// (the generator's output: one file per stream and day, data/_kb/<stream>/<YYYY-MM-DD>.jsonl),
// builds, puts the days back (one at a time: each step is one added day), builds again, and
// compares every file under exports/ with a cold build of the whole corpus. The corpus here is the
// last 6 days of the bundled one (keepLastDays: a fifth of its rows, every stream), so each build
// costs a fifth.

const EXPORTS = [
  ['export-sft'],
  ['export-sft', '--include-partial'],
  ['export-rag'],
  ['export-preference'],
] as const;

/** Runs the pipeline up to every export; returns the output of the export phases. */
async function build(root: string, env: Record<string, string> = {}): Promise<string> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let log = '';
    for (const args of [['build-evidence'], ['score'], ['screen'], ...EXPORTS]) {
      const r = await cliInProcess([...args, '--root', root]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      if (args[0].startsWith('export-')) log += r.out + r.err;
    }
    return log;
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** Every source day of the bundled corpus, sorted. */
function days(root: string): string[] {
  const out = new Set<string>();
  for (const stream of readdirSync(join(root, 'data/_kb'), { withFileTypes: true }))
    if (stream.isDirectory())
      for (const f of readdirSync(join(root, 'data/_kb', stream.name)))
        if (/^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f)) out.add(f.slice(0, 10));
  return [...out].sort();
}

/** Moves the source files of `day` out of data/_kb into `aside` (or back when `back`). */
function moveDay(root: string, aside: string, day: string, back = false): void {
  for (const stream of readdirSync(join(root, 'data/_kb'), { withFileTypes: true })) {
    if (!stream.isDirectory()) continue;
    const from = join(root, 'data/_kb', stream.name, `${day}.jsonl`);
    const to = join(aside, stream.name, `${day}.jsonl`);
    try {
      if (back) {
        cpSync(to, from);
      } else {
        cpSync(from, to);
        rmSync(from);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/** A fresh project holding the corpus of this file (the last 6 days of the bundled one), nothing built. */
function project(prefix: string): string {
  const root = tempProject(prefix);
  keepLastDays(root, 6);
  return root;
}

let coldBuild: { root: string; hashes: Record<string, string> } | null = null;

/** A cold build of the whole corpus (every phase, one command each, in a fresh project), built once: every case compares with it. */
async function coldProject(): Promise<{ root: string; hashes: Record<string, string> }> {
  if (coldBuild) return coldBuild;
  const root = project('distill-exports-cold-');
  const log = await build(root);
  assert.equal(log.match(/^✔ export-/gm)?.length, EXPORTS.length, `every export ran cold: ${log}`);
  assert.doesNotMatch(log, /incremental/, 'a first build reuses nothing');
  coldBuild = { root, hashes: treeHashes(join(root, 'exports')) };
  return coldBuild;
}
const cold = async (): Promise<Record<string, string>> => (await coldProject()).hashes;

/** A copy of the cold build to change. */
async function copyOfCold(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'distill-exports-copy-'));
  cpSync((await coldProject()).root, root, { recursive: true });
  return root;
}

/** A project without `missing` days, built once; returns it and where the days wait. */
async function builtWithout(missing: readonly string[]): Promise<{ root: string; aside: string }> {
  const root = project('distill-exports-incr-');
  const aside = join(root, '.aside');
  for (const d of missing) moveDay(root, aside, d);
  await build(root);
  return { root, aside };
}

function assertSameAsCold(root: string, want: Record<string, string>): void {
  const got = treeHashes(join(root, 'exports'));
  assert.deepEqual(Object.keys(got), Object.keys(want), 'the same files');
  for (const [path, hash] of Object.entries(want)) assert.equal(got[path], hash, path);
}

test('three added days, built one at a time, reuse the unchanged shards and end byte-identical to a cold build', async () => {
  const want = await cold();
  const all = days(project('distill-exports-days-'));
  const added = all.slice(-3);
  const { root, aside } = await builtWithout(added);
  for (const d of added) {
    moveDay(root, aside, d, true);
    const log = await build(root);
    assert.match(log, /export-sft.*incremental: \d+ day shards built, \d+ unchanged reused/s, d);
    assert.match(log, /export-rag.*incremental: \d+ shards built, \d+ unchanged reused/s, d);
    // preference decides again only from the added day on (a day's rows depend on the days before
    // it, never on later ones): no earlier day is written
    assert.match(
      log,
      new RegExp(
        `export-preference.*incremental: \\d+ shards built, \\d+ unchanged reused; \\d+ outcome runs decided from ${d} on\\)`,
        's',
      ),
      d,
    );
  }
  assertSameAsCold(root, want);
});

test('one backfilled day (older than every built day) ends byte-identical to a cold build', async () => {
  const want = await cold();
  const all = days(project('distill-exports-days-'));
  const first = all[0] as string;
  const { root, aside } = await builtWithout([first]);
  moveDay(root, aside, first, true);
  await build(root);
  assertSameAsCold(root, want);
});

test('a reused shard edited by hand is built again, not linked', async () => {
  const root = await copyOfCold();
  const dir = join(root, 'exports/sft/instruction_response');
  const shard = readdirSync(dir).filter((f) => readFileSync(join(dir, f), 'utf8') !== '')[0] as string;
  const before = readFileSync(join(dir, shard), 'utf8');
  writeFileSync(join(dir, shard), `${before}${before.split('\n')[0]}\n`);
  const r = await cliInProcess(['export-sft', '--root', root]);
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(join(dir, shard), 'utf8'), before, 'the shard was rebuilt from its input');
});

test('a folder in the old single-file layout is rebuilt once in the day-sharded layout, with a message', async () => {
  const root = await copyOfCold();
  const manifest = join(root, 'exports/rag/_manifest.json');
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as { parameters: Record<string, unknown> };
  delete m.parameters['export_layout'];
  writeFileSync(manifest, `${JSON.stringify(m, null, 2)}\n`);
  writeFileSync(join(root, 'exports/rag/documents.jsonl'), '{"old":true}\n');
  const r = await cliInProcess(['export-rag', '--root', root]);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out + r.err,
    /exports\/rag: the previous build has the single-file layout .*rebuilding it once/,
  );
  assert.deepEqual(
    readdirSync(join(root, 'exports/rag')).sort(),
    ['README.md', '_manifest.json', '_quarantine', 'documents'],
    'the old file is gone',
  );
});

test('a state written while another secretlint version was installed makes the next build cold: every shard written and rescanned', async () => {
  const root = await copyOfCold();
  const warm = await cliInProcess(['export-sft', '--root', root]);
  assert.equal(warm.code, 0, warm.err);
  assert.match(warm.out + warm.err, /0 day shards built/, 'unchanged inputs: every shard reused');
  // the state names the second engine's versions beside the code fingerprint
  const statePath = join(root, '.distill/cache/exports/export-sft.json');
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as { code: string };
  assert.match(
    state.code,
    /@secretlint\/core@\d+\.\d+\.\d+ @secretlint\/secretlint-rule-preset-recommend@\d+/,
  );
  state.code = state.code.replace(/@secretlint\/core@[^ ]+/, '@secretlint/core@0.0.1');
  writeFileSync(statePath, JSON.stringify(state));
  const r = await cliInProcess(['export-sft', '--root', root]);
  assert.equal(r.code, 0, r.err);
  // a cold build: its summary has no "(incremental: N day shards built, M unchanged reused)"
  assert.doesNotMatch(r.out + r.err, /incremental:/);
  assert.match(r.out + r.err, /✔ export-sft: \d+ runs/);
});
