import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtProject } from '../helpers/built.ts';
import { inProcess, treeHashes } from '../helpers/project.ts';

// The segment layout of data/rag-index/ (docs/replay.md, "The index"): an incremental build writes
// only the segments whose export-rag shard changed, links the others, recomputes stats.json, and
// publishes byte for byte what a cold build of the same shards publishes. Each case starts from the
// bundled corpus built by every phase, lists some of exports/rag's document shards in its manifest
// (index-rag reads the shards the manifest lists), builds, changes the list, builds again, and
// compares data/rag-index/ with a cold build of the same list.

const INDEX = 'data/rag-index';
const RAG_MANIFEST = 'exports/rag/_manifest.json';
const DOCS = 'exports/rag/documents/';

interface Entry {
  path: string;
}

const template = builtProject('all', 'distill-rag-incr-');

async function project(): Promise<{ root: string; full: { files: Entry[] }; shards: string[] }> {
  const root = await builtProject('all', 'distill-rag-incr-');
  const full = JSON.parse(readFileSync(join(root, RAG_MANIFEST), 'utf8')) as { files: Entry[] };
  const shards = full.files
    .filter((f) => f.path.startsWith(DOCS))
    .map((f) => f.path.slice(DOCS.length, -'.jsonl'.length))
    .sort();
  return { root, full, shards };
}

/** Lists only `keep` of the document shards in exports/rag's manifest. */
function listShards(root: string, full: { files: Entry[] }, keep: readonly string[]): void {
  const files = full.files.filter(
    (f) => !f.path.startsWith(DOCS) || keep.includes(f.path.slice(DOCS.length, -'.jsonl'.length)),
  );
  writeFileSync(join(root, RAG_MANIFEST), `${JSON.stringify({ ...full, files }, null, 2)}\n`);
}

async function indexRag(root: string, env: Record<string, string> = {}): Promise<string> {
  const r = await inProcess(['index-rag', '--root', root], { env });
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

const coldCache = new Map<string, Record<string, string>>();
/** data/rag-index/ of a cold build of `keep` (in a project of its own). */
async function cold(keep: readonly string[]): Promise<Record<string, string>> {
  const key = keep.join(',');
  const hit = coldCache.get(key);
  if (hit) return hit;
  const { root, full } = await project();
  listShards(root, full, keep);
  rmSync(join(root, INDEX), { recursive: true, force: true });
  rmSync(join(root, '.distill/cache/exports/index-rag.json'), { force: true });
  const log = await indexRag(root);
  assert.doesNotMatch(log, /incremental/);
  const hashes = treeHashes(join(root, INDEX));
  coldCache.set(key, hashes);
  rmSync(root, { recursive: true, force: true });
  return hashes;
}

const built = (log: string): [number, number] => {
  const m = /incremental: (\d+) built, (\d+) unchanged reused/.exec(log);
  assert.ok(m, `an incremental build: ${log}`);
  return [Number(m[1]), Number(m[2])];
};

test('the bundled corpus has enough day shards for these cases', async () => {
  await template;
  const { root, shards } = await project();
  assert.ok(shards.length >= 6, `${shards.length} shards`);
  const hashes = treeHashes(join(root, INDEX));
  assert.ok(hashes['stats.json']);
  assert.deepEqual(
    Object.keys(hashes).filter((p) => p.startsWith('segments/')),
    shards.map((s) => `segments/${s}.jsonl`),
    'one segment per shard',
  );
  assert.equal(existsSync(join(root, INDEX, 'index.json')), false);
});

test('one added day: its segment is built, the others are linked, and the folder is the cold build', async () => {
  const { root, full, shards } = await project();
  const days = shards.filter((s) => /^\d{4}-/.test(s));
  listShards(
    root,
    full,
    shards.filter((s) => s !== days.at(-1)),
  );
  await indexRag(root);
  listShards(root, full, shards);
  assert.deepEqual(built(await indexRag(root)), [1, shards.length - 1]);
  assert.deepEqual(treeHashes(join(root, INDEX)), await cold(shards));
});

test('three added days, one at a time: each step builds one segment and equals its cold build', async () => {
  const { root, full, shards } = await project();
  const days = shards.filter((s) => /^\d{4}-/.test(s));
  const last3 = days.slice(-3);
  let keep = shards.filter((s) => !last3.includes(s));
  listShards(root, full, keep);
  await indexRag(root);
  for (const day of last3) {
    keep = [...keep, day].sort();
    listShards(root, full, keep);
    assert.deepEqual(built(await indexRag(root)), [1, keep.length - 1], day);
    assert.deepEqual(treeHashes(join(root, INDEX)), await cold(keep), day);
  }
});

test('a backfilled day (older than every day built) builds its segment alone; the statistics are recomputed', async () => {
  const { root, full, shards } = await project();
  listShards(root, full, shards.slice(1));
  await indexRag(root);
  const before = treeHashes(join(root, INDEX));
  listShards(root, full, shards);
  assert.deepEqual(built(await indexRag(root)), [1, shards.length - 1]);
  const after = treeHashes(join(root, INDEX));
  assert.deepEqual(after, await cold(shards));
  assert.notEqual(after['stats.json'], before['stats.json']);
  assert.equal(after[`segments/${shards[1]}.jsonl`], before[`segments/${shards[1]}.jsonl`]);
});

test('a removed day: its segment is gone, nothing is built, and the folder is the cold build', async () => {
  const { root, full, shards } = await project();
  const gone = shards[Math.floor(shards.length / 2)] as string;
  const keep = shards.filter((s) => s !== gone);
  listShards(root, full, keep);
  assert.deepEqual(built(await indexRag(root)), [0, keep.length]);
  const hashes = treeHashes(join(root, INDEX));
  assert.equal(hashes[`segments/${gone}.jsonl`], undefined);
  assert.deepEqual(hashes, await cold(keep));
});

test('a segment or stats.json edited by hand is written again; the folder is the cold build', async () => {
  const { root, shards } = await project();
  const shard = shards[2] as string;
  const seg = join(root, INDEX, 'segments', `${shard}.jsonl`);
  const text = readFileSync(seg, 'utf8');
  rmSync(seg); // a new file (another inode), as an editor saves it
  writeFileSync(seg, text.replace('"Task: ', '"Task:  '));
  assert.deepEqual(built(await indexRag(root)), [1, shards.length - 1]);
  assert.deepEqual(treeHashes(join(root, INDEX)), await cold(shards));
  writeFileSync(join(root, INDEX, 'stats.json'), '{}\n');
  assert.deepEqual(built(await indexRag(root)), [0, shards.length]);
  assert.deepEqual(treeHashes(join(root, INDEX)), await cold(shards));
});

test('an index of the single-file layout (format version 1) is rebuilt once, cleanly, with a message', async () => {
  const { root, shards } = await project();
  const manifestPath = join(root, INDEX, '_manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  rmSync(join(root, INDEX), { recursive: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(root, INDEX));
  writeFileSync(join(root, INDEX, 'index.json'), '{"format":"distill-rag-index","format_version":1}\n');
  manifest.parameters = { format_version: 1, engine: 'minisearch' };
  manifest.files = [{ path: `${INDEX}/index.json`, sha256: '0'.repeat(64), bytes: 1, rows: null }];
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const replay = await inProcess(['replay', '--task', 'refund', '--dry-run', '--root', root]);
  assert.match(
    replay.stderr,
    /data\/rag-index\/ has the single-file layout of an earlier version \(index\.json, format version 1\); rebuild it once with `npm run index-rag`/,
  );
  const log = await indexRag(root, { DISTILL_QUIET: '0' });
  assert.match(
    log,
    /data\/rag-index: the previous build has the single-file layout \(format_version 1\); rebuilding it once, cleanly, in the segment layout, format_version 2 \(docs\/replay\.md#migration\)/,
  );
  assert.doesNotMatch(log, /incremental/);
  assert.equal(existsSync(join(root, INDEX, 'index.json')), false);
  assert.deepEqual(treeHashes(join(root, INDEX)), await cold(shards));
  assert.deepEqual(
    built(await indexRag(root, { DISTILL_QUIET: '0' })),
    [0, shards.length],
    'the next build is incremental',
  );
});
