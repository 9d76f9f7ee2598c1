import type { PipelinePhase } from '../../phases/registry.ts';
import { lastCommitTouching, type CommitRef } from './git.ts';

/** A wireit script as package.json declares it (only what the phase map reads). */
export interface WireitScript {
  files?: string[];
}

/** One phase's own source files (globs relative to the project root). */
export interface PhaseSource {
  phase: string;
  globs: string[];
}

/** Sources of the commands after the pipeline, in order: their own files. */
const FIXED: Readonly<Record<string, string[]>> = {
  acceptance: ['tasks/gates/acceptance/invariants.ts', 'tasks/gates/acceptance/**'],
  'audit-full': ['tasks/gates/audit/audit-full.ts', 'tasks/gates/audit/**'],
  'release-freeze': ['tasks/gates/release/release-freeze.ts', 'tasks/gates/release/**'],
};

/** The `tasks/` entries of a phase's inputs: its own code, not data, fixtures or the shared library. */
function ownCode(inputs: readonly string[]): string[] {
  return [...new Set(inputs.filter((g) => g.startsWith('tasks/') && !g.startsWith('tasks/lib/')))];
}

/**
 * Pure core: the source globs of every phase, in build order: each pipeline phase's own code from
 * its module list (`code`: tasks/phases/code-inputs.json, phase → modules, whose hashes are its
 * wireit input) and its wireit `files`, then acceptance, audit-full and release-freeze from fixed
 * lists (their own folders: acceptance's wireit `files` cover all of tasks/, which is what it
 * reads, not what it is).
 */
export function phaseSources(
  wireit: Readonly<Record<string, WireitScript>>,
  phases: readonly PipelinePhase[],
  code: Readonly<Record<string, readonly string[]>> = {},
): PhaseSource[] {
  const out: PhaseSource[] = phases.map((p) => ({
    phase: p.phase,
    globs: ownCode([...(wireit[p.script]?.files ?? []), ...(code[p.phase] ?? [])]),
  }));
  for (const [phase, globs] of Object.entries(FIXED)) out.push({ phase, globs: [...globs] });
  return out;
}

/** One row of the phase → commit map. */
export interface PhaseCommit extends PhaseSource {
  /** The last commit that touched the phase's sources; null when none is committed. */
  commit: CommitRef | null;
}

/** The phase → commit map: the last commit (git log) that touched each phase's source files. */
export function phaseCommitMap(root: string, sources: readonly PhaseSource[]): PhaseCommit[] {
  return sources.map((s) => ({ ...s, commit: lastCommitTouching(root, s.globs) }));
}
