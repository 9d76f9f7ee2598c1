import { z } from 'zod';
import { Provenance } from './provenance.ts';

/** Version of the RagSample shape. */
export const SCHEMA_VERSION = 1;

/** Flat metadata: strings and numbers only, so vector stores (Chroma, Qdrant, Pinecone) accept it. */
export const FlatMetadata = z.record(z.string(), z.union([z.string(), z.number()]));

/** One retrieval document (or chunk of one) for the RAG corpus. */
export const RagSample = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    id: z.string().regex(/^rag_[0-9a-f]{24}(-\d+)?$/),
    text: z.string().min(1),
    metadata: FlatMetadata.describe(
      'source, stream, trace_id, task_key, category, recorded_at, chunk_index, chunk_count',
    ),
    provenance: Provenance,
  })
  .describe('RagSample: a grounded document for retrieval');
export type RagSample = z.infer<typeof RagSample>;
