import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtProject } from './helpers/built.ts';
import { inProcess, tempProject, treeHashes } from './helpers/project.ts';

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
  // in this process, in the repository as cwd: the worker threads inherit this process's
  // `--import tsx`, which node resolves from the cwd, so in a temp cwd no worker could start (what
  // made earlier in-process attempts of this file hang); runCli runs the launcher, whose threads
  // run precompiled code
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
  // the plain build: `distill run-all` with the default knobs (the suite's template, built in-process once)
  const plain = await builtProject('run-all');
  const want = Object.fromEntries(OUT.map((d) => [d, treeHashes(join(plain, d))]));
  assert.ok(
    Object.keys(want['data/evidence'] ?? {}).length > 10,
    'the bundled corpus builds many evidence files',
  );
  const forced = tempProject();
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
