import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../helpers/project.ts';
import { EVIDENCE_DIR, EXPORT_DIRS, SCORED_DIR } from '../../tasks/phases/registry.ts';
import {
  cliInProcess,
  gateway,
  jsonl,
  laterPhases,
  pipelineProject,
  review,
  tempDir,
  tree,
  writeFiles,
} from './fixture.ts';

/** Helpers for the crash, fault and lock tests: phases run in child processes on small projects. */

/**
 * Runs one phase in a child process: `distill <phase> --root <root>` through the launcher, the
 * precompiled CLI (it starts faster than the TypeScript through tsx: ~24 killed children a phase).
 */
export function runChild(
  phase: string,
  root: string,
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, phase, '--root', root],
      { env: { ...process.env, DISTILL_QUIET: '1', ...env } },
      (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

export interface PhaseSpec {
  /** CLI arguments of the phase. */
  args: string[];
  /** Its output folder. */
  dir: string;
}

export const PHASES: PhaseSpec[] = [
  { args: ['build-evidence'], dir: EVIDENCE_DIR },
  { args: ['score'], dir: SCORED_DIR },
  { args: ['export-sft'], dir: EXPORT_DIRS.sft },
];

/** Runs, in-process, every phase before `p` in pipeline order (and `p` itself when `including`). */
export async function runUpTo(root: string, p: PhaseSpec, including: boolean): Promise<void> {
  const all = [['build-evidence'], ...(await laterPhases())];
  const i = all.findIndex((a) => a.join(' ') === p.args.join(' '));
  assert.ok(i >= 0, `${p.args.join(' ')} is not in the pipeline`);
  for (const argv of all.slice(0, including ? i + 1 : i)) {
    const r = await cliInProcess([...argv, '--root', root]);
    assert.equal(r.code, 0, r.stderr);
  }
}

/** A project where `p` was built once (the previous outputs), whose sources then gained an accepted run, with `p`'s upstream rebuilt. */
export async function staleProject(p: PhaseSpec): Promise<string> {
  const root = pipelineProject();
  await runUpTo(root, p, true);
  writeFiles(root, {
    'data/_kb/gateway/2026-10-04.jsonl': jsonl(
      gateway('g-new', {
        prompt: 'Where is my parcel?',
        answer: 'It ships tomorrow.',
        timestamp: '2026-10-04T08:00:00Z',
      }),
    ),
    'data/_kb/reviews/2026-10-04.jsonl': jsonl(review('g-new', 'approve')),
  });
  await runUpTo(root, p, false);
  return root;
}

/** A copy of `base` (a fresh temp folder). */
export function copyOf(base: string): string {
  const root = join(tempDir('distill-copy-'), 'p');
  cpSync(base, root, { recursive: true });
  return root;
}

/** The phase's output folder after one clean, uninterrupted run on a copy of `base`. */
export async function referenceTree(base: string, p: PhaseSpec): Promise<Record<string, string>> {
  const root = copyOf(base);
  const r = await cliInProcess([...p.args, '--root', root]);
  assert.equal(r.code, 0, r.stderr);
  return tree(join(root, p.dir));
}
