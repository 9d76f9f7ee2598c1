/** Output folders of the phases, relative to the project root. Each phase owns exactly one. */
export const EVIDENCE_DIR = 'data/evidence';
export const SCORED_DIR = 'data/scored-runs';
/** Scored runs, documents and judgments after secret / PII / dedup / decontamination screening (phase screen). */
export const SCREENED_DIR = 'data/screened';
export const EXPORT_DIRS = {
  rag: 'exports/rag',
  sft: 'exports/sft',
  sftPartial: 'exports/sft-partial',
  preference: 'exports/preference',
} as const;
/** The BM25 retrieval index over exports/rag/ (phase index-rag). */
export const RAG_INDEX_DIR = 'data/rag-index';
/** Replay call logs and eval reports (not a phase output: written by replay / replay-eval). */
export const REPLAY_REPORTS_DIR = 'reports/replay';
