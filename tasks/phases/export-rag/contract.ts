import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as RAG_V } from '../../../schemas/rag-sample.ts';

/** What other modules may know of export-rag: its output folder, file names, reasons and versions. */

export const PHASE = 'export-rag';
export const RAG_DIR = 'exports/rag';
/** The RAG documents (runs and knowledge documents, chunked): `documents/<shard>.jsonl` (lib/export/shards.ts). */
export const RAG_FAMILY = 'documents';
/** The dataset card of exports/rag/. */
export const RAG_CARD = 'README.md';
export const REBUILD = 'npm run export-rag';

export const REASONS = ['CATEGORY_EXCLUDED', 'NO_USER_TURN', 'NO_SUBSTANCE', 'DUPLICATE_TEXT'] as const;
export type Reason = (typeof REASONS)[number];

/**
 * Rows left out by policy, not because they are bad: counted apart as `excluded` (the receipt's
 * `counts.excluded`), never as quarantined. Runs of a category RAG does not take, and a text
 * already exported.
 */
export const EXCLUDED = ['CATEGORY_EXCLUDED', 'DUPLICATE_TEXT'] as const satisfies readonly Reason[];

export const SCHEMA_VERSIONS = { RagSample: RAG_V, QuarantineRecord: QUARANTINE_V } as const;
