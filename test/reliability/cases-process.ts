import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { CatalogueCase } from './catalogue.ts';
import { build, jsonl, ls, oneSourceProject, reward, SRC_DIR, tree } from './fixture.ts';

/** Section D of the catalogue: process level. Most are whole test files of their own. */
export const PROCESS_CASES: CatalogueCase[] = [
  {
    id: 58,
    input: 'a second concurrent run',
    disposition:
      'E LOCKED: exit 75 "locked by pid N since T", nothing touched; a dead holder\'s lock is taken over',
    elsewhere: {
      file: 'test/reliability/concurrency.test.ts',
      test: "a second run of every writing phase, while another process holds its lock, exits 75 naming the holder and touches nothing; a dead holder's lock is taken over",
    },
  },
  {
    id: 59,
    input: 'SIGKILL at any durability point',
    disposition: 'previous outputs intact, no partial file visible; rerun → byte-identical to a clean build',
    elsewhere: {
      file: 'test/reliability/crash.test.ts',
      test: 'SIGKILL at every durability point of build-evidence, score and export-sft: previous outputs intact, rerun byte-identical to a clean build',
    },
  },
  {
    id: 60,
    input: 'ENOSPC / EIO on write, fsync or rename',
    disposition: 'E exit 74, nothing published, no fsync retry; rerun OK',
    elsewhere: {
      file: 'test/reliability/faults.test.ts',
      test: 'ENOSPC / EIO on write, fsync and each rename of the publish: exit 74, nothing published, rerun byte-identical (build-evidence, export-sft)',
    },
  },
  {
    id: 61,
    input: 'audit file truncated or edited externally',
    disposition: 'E AUDIT_CHAIN_BROKEN',
    elsewhere: { file: 'test/lib/baseline.test.ts', test: 'an edited row is detected and named' },
  },
  {
    id: 62,
    input: 'a published file modified after publish',
    disposition: '`distill verify` fails (exit 1) naming the file and what differs',
    elsewhere: {
      file: 'test/reliability/verify.test.ts',
      test: 'verify names a truncated file, a flipped byte, a missing file and a stray file, and exits 1',
    },
    note: 'Published files are not made read-only (0444); verify detects the change instead.',
  },
  {
    id: 63,
    input: 'different TZ / locale / cwd / input order / thread count / umask',
    disposition: 'identical outputs (`npm run verify:determinism`)',
    elsewhere: {
      file: 'test/reliability/determinism.test.ts',
      test: 'verify:determinism builds the whole pipeline twice, perturbed (TZ, tr_TR locale, cwd, root, source order, threads, umask), and finds every output byte-identical',
    },
  },
  {
    id: 64,
    input: 'input unchanged but mtime touched',
    disposition: 'outputs byte-identical (nothing depends on mtimes; wireit fingerprints content)',
    note: "That wireit then skips the script is wireit's content fingerprint (docs/architecture.md), not re-tested here.",
    run: async () => {
      const root = oneSourceProject({
        [`${SRC_DIR}/a.jsonl`]: jsonl(reward('t1'), reward('t2')),
        [`${SRC_DIR}/b.jsonl`]: jsonl(reward('t3')),
      });
      await build(root);
      const first = tree(join(root, 'data/evidence'));
      for (const f of ls(join(root, SRC_DIR)))
        utimesSync(
          join(root, SRC_DIR, f),
          new Date('2030-01-01T00:00:00Z'),
          new Date('2030-01-01T00:00:00Z'),
        );
      await build(root);
      assert.deepEqual(tree(join(root, 'data/evidence')), first);
    },
  },
];
