import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../lib/result.ts';
import * as buildEvidence from './build-evidence/contract.ts';
import * as exportPreference from './export-preference/contract.ts';
import * as exportRag from './export-rag/contract.ts';
import * as exportSft from './export-sft/contract.ts';
import * as indexRag from './index-rag/contract.ts';
import * as score from './score/contract.ts';
import * as screen from './screen/contract.ts';

/** Output folders of the phases, relative to the project root (each phase owns exactly one; its contract names it). */
export const EVIDENCE_DIR = buildEvidence.EVIDENCE_DIR;
export const SCORED_DIR = score.SCORED_DIR;
export const SCREENED_DIR = screen.SCREENED_DIR;
export const EXPORT_DIRS = {
  rag: exportRag.RAG_DIR,
  sft: exportSft.SFT_DIR,
  sftPartial: exportSft.SFT_PARTIAL_DIR,
  preference: exportPreference.PREFERENCE_DIR,
} as const;
export const RAG_INDEX_DIR = indexRag.RAG_INDEX_DIR;

/** One phase of the pipeline: how to run it, where its outputs live, what it adds to the funnel. */
export interface PipelinePhase {
  /** Phase name, as written in its receipt (`reports/distillation/<run_id>/<phase>.receipt.json`). */
  phase: string;
  /** `distill` arguments that run it (`distill run-all` runs them in list order). */
  argv: readonly string[];
  /** The wireit npm script that builds it (`npm run run-all` depends on all of them). */
  script: string;
  /** The one folder it owns; its `_manifest.json` lists the outputs currently on disk. */
  outDir: string;
  /** Export rows it adds to the run-all funnel: export name → key of its receipt `stats`. */
  exports?: Readonly<Record<string, string>>;
  /** Its code folder under `tasks/phases/`; `run.ts` there is what its CLI command loads. */
  folder: string;
  /** Phases whose published `_manifest.json` it reads (its wireit dependencies, `cascade: false`). */
  upstream: readonly string[];
  /** Other files it reads besides code and upstream manifests (globs, for its wireit `files`). */
  data?: readonly string[];
  /** Every reason code its quarantine rows can carry (its contract's closed list). */
  reasons: readonly string[];
  /** The reasons among them that mean "left out by policy" (excluded), not "bad" (quarantined). */
  excluded: readonly string[];
  /** What one of its `counts.in` is, for every count printed (source rows, evidence records, ...). */
  unit: string;
}

/**
 * The modules each phase can load (phase → root-relative paths), derived from the import graph by
 * `npm run wireit:inputs`; `run-all --begin` hashes them into each phase's wireit code input
 * (tasks/run/code-digest.ts).
 */
export const CODE_INPUTS = 'tasks/phases/code-inputs.json';

/**
 * The module lists of `CODE_INPUTS` in `dir` (a checkout); refuses (CONFIG_INVALID) when the file is
 * missing, unreadable, not phase → list of paths, or without the list of one of `phases`: without
 * it that phase's code is not fingerprinted (its old fingerprint would stay, and wireit would take
 * the phase as fresh), and release-freeze could not map the phase to its commit.
 */
export function readCodeInputs(
  dir: string,
  phases: readonly string[] = PIPELINE.map((p) => p.phase),
): Record<string, string[]> {
  const fix =
    "it lists the modules of each phase (wireit's code inputs); restore it from git or run `npm run wireit:inputs`";
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, CODE_INPUTS), 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError('CONFIG_INVALID', `${CODE_INPUTS} cannot be read (${why}): ${fix}`);
  }
  const ok =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((v) => Array.isArray(v) && v.every((f) => typeof f === 'string'));
  if (!ok)
    throw new UserError('CONFIG_INVALID', `${CODE_INPUTS} is not an object of phase → module paths: ${fix}`);
  const missing = phases.filter((p) => !Object.hasOwn(parsed as object, p));
  if (missing.length > 0)
    throw new UserError(
      'CONFIG_INVALID',
      `${CODE_INPUTS} has no module list for ${missing.join(', ')}: ${fix}`,
    );
  return parsed as Record<string, string[]>;
}

/**
 * Every phase, in build order (each phase comes after everything it reads). Adding a phase is one
 * line here plus its folder under `tasks/phases/`; `npm run wireit:inputs` then writes its wireit entry.
 */
export const PIPELINE: readonly PipelinePhase[] = [
  {
    phase: buildEvidence.PHASE,
    argv: ['build-evidence'],
    script: 'build-evidence',
    outDir: EVIDENCE_DIR,
    folder: 'build-evidence',
    upstream: [],
    data: ['.distill/sources.fingerprint.json'],
    reasons: buildEvidence.REASONS,
    excluded: buildEvidence.EXCLUDED,
    unit: 'source rows',
  },
  {
    phase: score.PHASE,
    argv: ['score'],
    script: 'score',
    outDir: SCORED_DIR,
    folder: 'score',
    upstream: ['build-evidence'],
    reasons: score.REASONS,
    excluded: score.EXCLUDED,
    unit: 'evidence records',
  },
  {
    phase: screen.PHASE,
    argv: ['screen'],
    script: 'screen',
    outDir: SCREENED_DIR,
    folder: 'screen',
    upstream: ['score', 'build-evidence'],
    data: ['test/fixtures/acceptance/**', 'eval/**'],
    reasons: screen.REASONS,
    excluded: screen.EXCLUDED,
    unit: 'scored units',
  },
  {
    phase: exportRag.PHASE,
    argv: ['export-rag'],
    script: 'export-rag',
    outDir: EXPORT_DIRS.rag,
    exports: { rag: 'chunks' },
    folder: 'export-rag',
    upstream: ['screen'],
    reasons: exportRag.REASONS,
    excluded: exportRag.EXCLUDED,
    unit: 'screened units',
  },
  {
    phase: exportSft.PHASE,
    argv: ['export-sft'],
    script: 'export-sft',
    outDir: EXPORT_DIRS.sft,
    exports: { sft: 'rows' },
    folder: 'export-sft',
    upstream: ['screen'],
    reasons: exportSft.REASONS,
    excluded: exportSft.EXCLUDED,
    unit: 'screened runs',
  },
  {
    phase: exportSft.PARTIAL_PHASE,
    argv: ['export-sft', '--include-partial'],
    script: 'export-sft:partial',
    outDir: EXPORT_DIRS.sftPartial,
    exports: { 'sft-partial': 'rows' },
    folder: 'export-sft',
    upstream: ['screen'],
    reasons: exportSft.REASONS,
    excluded: exportSft.EXCLUDED,
    unit: 'screened runs',
  },
  {
    phase: exportPreference.PHASE,
    argv: ['export-preference'],
    script: 'export-preference',
    outDir: EXPORT_DIRS.preference,
    exports: { preference: 'pairs', kto: 'kto' },
    folder: 'export-preference',
    upstream: ['screen'],
    reasons: exportPreference.REASONS,
    excluded: exportPreference.EXCLUDED,
    unit: 'screened units',
  },
  {
    phase: indexRag.PHASE,
    argv: ['index-rag'],
    script: 'index-rag',
    outDir: RAG_INDEX_DIR,
    folder: 'index-rag',
    upstream: ['export-rag'],
    reasons: indexRag.REASONS,
    excluded: indexRag.EXCLUDED,
    unit: 'RAG rows',
  },
];

/** The phases run-all builds: each one whose `distill` command exists (all of them, unless a phase is being added). */
export function activePhases(hasCommand: (name: string) => boolean): PipelinePhase[] {
  return PIPELINE.filter((p) => hasCommand(p.argv[0] as string));
}

/** The excluded (policy) reasons of a phase by its receipt name; [] for a phase not in the pipeline. */
export function excludedReasons(phase: string): readonly string[] {
  return PIPELINE.find((p) => p.phase === phase)?.excluded ?? [];
}

/** The phase that owns a path (the path lies inside its output folder), or null for a source file. */
export function ownerOf(phases: readonly PipelinePhase[], path: string): PipelinePhase | null {
  return phases.find((p) => path.startsWith(`${p.outDir}/`)) ?? null;
}

/**
 * Every reason code each phase may write in a quarantine row, from the phase contracts (the one
 * list acceptance and audit check against). Screen's `SECRET_DETECTED` rows carry the rule that
 * fired (`SECRET_DETECTED:<rule id>`), so it is expanded over `secretRuleIds`.
 */
export function quarantineReasons(secretRuleIds: readonly string[]): Record<string, ReadonlySet<string>> {
  const out: Record<string, ReadonlySet<string>> = {};
  for (const p of PIPELINE) {
    const codes = p.reasons.flatMap((r) =>
      r === 'SECRET_DETECTED' ? secretRuleIds.map((id) => `${r}:${id}`) : [r],
    );
    out[p.phase] = new Set(codes);
  }
  return out;
}
