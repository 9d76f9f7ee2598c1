/** What other modules may know of index-rag: its output folder and the command that builds it. */

export const PHASE = 'index-rag';
/** The BM25 retrieval index over exports/rag/ (read by distill replay / replay-eval). */
export const RAG_INDEX_DIR = 'data/rag-index';
export const REBUILD = 'npm run index-rag';

/** index-rag drops nothing: a bad RAG row is an error of export-rag's output, not a row to skip. */
export const REASONS = [] as const;
export type Reason = (typeof REASONS)[number];

export const EXCLUDED = [] as const satisfies readonly Reason[];
