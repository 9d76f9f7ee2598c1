import { EVIDENCE_DIR, EXPORT_DIRS, SCORED_DIR } from './lib/layout.ts';

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
}

/**
 * Every phase, in build order (each phase comes after everything it reads). Adding a phase is one
 * line here plus its wireit script.
 */
export const PIPELINE: readonly PipelinePhase[] = [
  { phase: 'build-evidence', argv: ['build-evidence'], script: 'build-evidence', outDir: EVIDENCE_DIR },
  { phase: 'score', argv: ['score'], script: 'score', outDir: SCORED_DIR },
  { phase: 'screen', argv: ['screen'], script: 'screen', outDir: 'data/screened', optional: true },
  { phase: 'export-rag', argv: ['export-rag'], script: 'export-rag', outDir: EXPORT_DIRS.rag, exports: { rag: 'chunks' } },
  { phase: 'export-sft', argv: ['export-sft'], script: 'export-sft', outDir: EXPORT_DIRS.sft, exports: { sft: 'rows' } },
  { phase: 'export-sft-partial', argv: ['export-sft', '--include-partial'], script: 'export-sft:partial', outDir: EXPORT_DIRS.sftPartial, exports: { 'sft-partial': 'rows' } },
  { phase: 'export-preference', argv: ['export-preference'], script: 'export-preference', outDir: EXPORT_DIRS.preference, exports: { preference: 'pairs', kto: 'kto' } },
  { phase: 'index-rag', argv: ['index-rag'], script: 'index-rag', outDir: 'data/rag-index', optional: true },
];

/** The phases run-all builds: every required phase, and each optional one whose command exists. */
export function activePhases(hasCommand: (name: string) => boolean): PipelinePhase[] {
  return PIPELINE.filter((p) => !p.optional || hasCommand(p.argv[0] as string));
}

/** The phase that owns a path (the path lies inside its output folder), or null for a source file. */
export function ownerOf(phases: readonly PipelinePhase[], path: string): PipelinePhase | null {
  return phases.find((p) => path.startsWith(`${p.outDir}/`)) ?? null;
}
