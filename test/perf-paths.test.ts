import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { inProcess, keepLastDays, tempProject, treeHashes } from './helpers/project.ts';

/** Every output folder of the pipeline (receipts and caches excluded). */
const OUT = [
  'data/evidence',
  'data/scored-runs',
  'data/screened',
  'exports/rag',
  'exports/sft',
  'exports/sft-partial',
  'exports/preference',
  'data/rag-index',
];

async function runAll(
  dir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Record<string, Record<string, string>>> {
  // in this process, in the repository as cwd: run through tsx (DISTILL_TSX=1 npm test, or the file
  // alone with `node --import tsx --test`), the worker threads inherit this process's `--import tsx`,
  // which node resolves from the cwd, so in a temp cwd no worker could start (what made earlier
  // in-process attempts of this file hang); under npm test they run the precompiled code
  // (test/helpers/compiled.mjs), as the launcher's do
  const r = await inProcess(['run-all', '--root', dir], { env });
  assert.equal(r.code, 0, `run-all failed: ${r.stderr}`);
  return Object.fromEntries(OUT.map((d) => [d, treeHashes(join(dir, d))]));
}

// every knob at a value that forces the path it guards on the 1,300-row bundled corpus
const FORCED: NodeJS.ProcessEnv = {
  DISTILL_THREADS: '2',
  DISTILL_WORKER_MIN_BYTES: '0',
  DISTILL_WORKERS_AFTER: '0',
  DISTILL_BATCH_CHARS: '4096',
  DISTILL_SCORE_PARTITION_BYTES: '65536',
  DISTILL_SORT_MEMORY_PERMILLE: '1',
};

test('worker threads, hash partitions, spilled sorts and the per-file caches give byte-identical outputs', async () => {
  // the last 6 days of the bundled corpus (a fifth of its rows): the knobs force every path on it too
  const project = (): string => {
    const dir = tempProject();
    keepLastDays(dir, 6);
    return dir;
  };
  // the plain build: `distill run-all` with the default knobs
  const want = await runAll(project());
  assert.ok(Object.keys(want['data/evidence'] ?? {}).length > 10, 'the corpus builds many evidence files');
  const forced = project();
  // cold: every phase on workers and spill files
  assert.deepEqual(await runAll(forced, FORCED), want);
  const caches = readdirSync(join(forced, '.distill', 'cache'));
  assert.deepEqual(caches.sort(), [
    'build-evidence',
    'build-evidence-state',
    'exports',
    'score',
    'screen',
    'screen-dedup',
  ]);
  assert.ok(
    readdirSync(join(forced, '.distill', 'cache', 'build-evidence')).length > 10,
    'build-evidence cached each source file',
  );
  // warm: unchanged sources and screen inputs come back from the caches
  for (const d of OUT) rmSync(join(forced, d), { recursive: true, force: true });
  assert.deepEqual(await runAll(forced, FORCED), want);
  assert.deepEqual(await runAll(forced, { DISTILL_THREADS: '1' }), want);
  assert.ok(
    !existsSync(join(forced, '.distill', 'scratch')) ||
      readdirSync(join(forced, '.distill', 'scratch')).length === 0,
    'scratch folders are removed',
  );
});
