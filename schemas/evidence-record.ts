import { z } from 'zod';
import { ChatMessage, ToolDef } from './chat.ts';
import { IsoTimestamp, Provenance } from './provenance.ts';

/** Version of the EvidenceRecord shape. */
export const SCHEMA_VERSION = 1;

/** Token usage of one call or a whole run. */
export const Usage = z.strictObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});

/** A unit of work: one conversation with a model (a gateway call, an agent trajectory). */
export const RunBody = z.strictObject({
  messages: z
    .array(ChatMessage)
    .describe('The conversation in OpenAI chat shape, final assistant turn included'),
  tools: z.array(ToolDef).describe('Tools offered to the model; empty when none'),
  model: z.string().nullable(),
  provider: z.string().nullable(),
  tier: z.enum(['local', 'cloud', 'unknown']).describe('Whether the model ran locally or on a cloud API'),
  usage: Usage.nullable(),
  latency_ms: z.number().nonnegative().nullable(),
  finish_reason: z
    .string()
    .nullable()
    .describe('OpenAI finish_reason of the final call ("stop", "length", "tool_calls", ...)'),
  error: z
    .strictObject({ type: z.string(), message: z.string(), status: z.number().int().nullable() })
    .nullable()
    .describe('API or runtime error that ended the run'),
  escalated_from: z
    .string()
    .nullable()
    .describe('trace_id of the failed local attempt this run escalated from'),
});
export type RunBody = z.infer<typeof RunBody>;

/** An outcome signal that judges a run, joined to it by trace_id. */
export const SignalBody = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('human_review'),
    verdict: z.enum(['approve', 'reject', 'edit', 'unsure']),
    corrected_answer: z.string().nullable(),
    reviewer: z.string().nullable(),
    comment: z.string().nullable(),
  }),
  z.strictObject({
    type: z.literal('test_result'),
    passed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    suite: z.string().nullable(),
  }),
  z.strictObject({ type: z.literal('tool_exit'), tool: z.string(), exit_code: z.number().int() }),
  z.strictObject({
    type: z.literal('auditor_verdict'),
    verdict: z.enum(['pass', 'fail', 'uncertain']),
    confidence: z.number().min(0).max(1),
    auditor: z.string().nullable(),
  }),
  z.strictObject({
    type: z.literal('reward'),
    value: z.number().min(0).max(1),
    source: z.string().nullable(),
  }),
  z.strictObject({ type: z.literal('error'), error_type: z.string(), message: z.string() }),
]);
export type SignalBody = z.infer<typeof SignalBody>;

/** A knowledge document / playbook for the RAG corpus. */
export const DocumentBody = z.strictObject({
  doc_id: z.string().min(1),
  title: z.string(),
  text: z.string().min(1),
  tags: z.array(z.string()),
});
export type DocumentBody = z.infer<typeof DocumentBody>;

/** An imported human preference judgment between two answers to one prompt. */
export const JudgmentBody = z.strictObject({
  prompt: z.array(ChatMessage).min(1),
  chosen: z.string().min(1),
  rejected: z.string().min(1),
  judge: z.string().nullable(),
  strength: z.number().nullable().describe('How strongly chosen was preferred, when the source says'),
});
export type JudgmentBody = z.infer<typeof JudgmentBody>;

const common = {
  schema_version: z.literal(SCHEMA_VERSION),
  evidence_id: z
    .string()
    .regex(/^ev_[0-9a-f]{24}$/)
    .describe('Content-derived id: stream + sig_hash + sub-index'),
  stream: z.string().min(1).describe('Source stream name from the source config'),
  trace_id: z
    .string()
    .min(1)
    .nullable()
    .describe('The run this row is or judges; null for documents and judgments'),
  task_key: z.string().min(1).nullable().describe('Groups attempts at the same task (pairing, splits)'),
  recorded_at: IsoTimestamp.nullable(),
  flags: z
    .array(z.string())
    .describe('Sorted, de-duplicated notes on accepted anomalies (e.g. crlf, untrusted_label)'),
  provenance: Provenance,
};

/** One source row, normalised. Exactly one of run / signal / document / judgment, by `kind`. */
export const EvidenceRecord = z
  .discriminatedUnion('kind', [
    z.strictObject({ ...common, kind: z.literal('run'), run: RunBody }),
    z.strictObject({ ...common, kind: z.literal('signal'), signal: SignalBody }),
    z.strictObject({ ...common, kind: z.literal('document'), document: DocumentBody }),
    z.strictObject({ ...common, kind: z.literal('judgment'), judgment: JudgmentBody }),
  ])
  .describe('EvidenceRecord: one normalised source row with provenance');
export type EvidenceRecord = z.infer<typeof EvidenceRecord>;
