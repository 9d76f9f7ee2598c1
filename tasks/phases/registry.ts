import { EVIDENCE_DIR, EXPORT_DIRS, SCORED_DIR } from '../lib/layout.ts';

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
  /** In the pipeline only once its `distill` command exists (a phase being added). */
  optional?: boolean;
  /** Its code folder under `tasks/phases/`; `run.ts` there is what its CLI command loads. */
  folder: string;
  /** Phases whose published `_manifest.json` it reads (its wireit dependencies, `cascade: false`). */
  upstream: readonly string[];
  /** Other files it reads besides code and upstream manifests (globs, for its wireit `files`). */
  data?: readonly string[];
}

/**
 * Every phase, in build order (each phase comes after everything it reads). Adding a phase is one
 * line here plus its folder under `tasks/phases/`; `npm run wireit:inputs` then writes its wireit entry.
 */
export const PIPELINE: readonly PipelinePhase[] = [
  {
    phase: 'build-evidence',
    argv: ['build-evidence'],
    script: 'build-evidence',
    outDir: EVIDENCE_DIR,
    folder: 'build-evidence',
    upstream: [],
    data: ['.distill/sources.fingerprint.json'],
  },
  {
    phase: 'score',
    argv: ['score'],
    script: 'score',
    outDir: SCORED_DIR,
    folder: 'score',
    upstream: ['build-evidence'],
  },
  {
    phase: 'screen',
    argv: ['screen'],
    script: 'screen',
    outDir: 'data/screened',
    optional: true,
    folder: 'screen',
    upstream: ['score', 'build-evidence'],
    data: ['test/fixtures/acceptance/**', 'eval/**'],
  },
  {
    phase: 'export-rag',
    argv: ['export-rag'],
    script: 'export-rag',
    outDir: EXPORT_DIRS.rag,
    exports: { rag: 'chunks' },
    folder: 'export-rag',
    upstream: ['screen'],
  },
  {
    phase: 'export-sft',
    argv: ['export-sft'],
    script: 'export-sft',
    outDir: EXPORT_DIRS.sft,
    exports: { sft: 'rows' },
    folder: 'export-sft',
    upstream: ['screen'],
  },
  {
    phase: 'export-sft-partial',
    argv: ['export-sft', '--include-partial'],
    script: 'export-sft:partial',
    outDir: EXPORT_DIRS.sftPartial,
    exports: { 'sft-partial': 'rows' },
    folder: 'export-sft',
    upstream: ['screen'],
  },
  {
    phase: 'export-preference',
    argv: ['export-preference'],
    script: 'export-preference',
    outDir: EXPORT_DIRS.preference,
    exports: { preference: 'pairs', kto: 'kto' },
    folder: 'export-preference',
    upstream: ['screen'],
  },
  {
    phase: 'index-rag',
    argv: ['index-rag'],
    script: 'index-rag',
    outDir: 'data/rag-index',
    optional: true,
    folder: 'index-rag',
    upstream: ['export-rag'],
  },
];

/** The phases run-all builds: every required phase, and each optional one whose command exists. */
export function activePhases(hasCommand: (name: string) => boolean): PipelinePhase[] {
  return PIPELINE.filter((p) => !p.optional || hasCommand(p.argv[0] as string));
}

/** The phase that owns a path (the path lies inside its output folder), or null for a source file. */
export function ownerOf(phases: readonly PipelinePhase[], path: string): PipelinePhase | null {
  return phases.find((p) => path.startsWith(`${p.outDir}/`)) ?? null;
}
