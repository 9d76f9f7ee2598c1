import { z } from 'zod';
import { IsoTimestamp, Sha256 } from './provenance.ts';

/** Version of the ReplayCall shape. */
export const SCHEMA_VERSION = 1;

/**
 * One model call made by `distill replay` or `distill replay-eval`, as logged to
 * reports/replay/calls.jsonl (rotated by size). A log, not a dataset: it carries a wall-clock time.
 */
export const ReplayCall = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    at: IsoTimestamp.describe('When the call finished'),
    command: z.enum(['replay', 'replay-eval']),
    task_id: z.string().nullable().describe('The held-out SFT row id in replay-eval; null for replay --task'),
    task_sha256: Sha256.describe('sha256 of the full task text'),
    task: z.string().describe('The task text, cut to 500 characters'),
    kind: z
      .enum(['text', 'json'])
      .describe('Task kind: which output contract the answer was validated against'),
    arm: z.enum(['retrieval', 'no-retrieval']),
    retrieved_ids: z.array(z.string()).describe('Top-k document ids, best first'),
    context_ids: z.array(z.string()).describe('The ids that fit into the prompt'),
    endpoint: z.enum(['local', 'escalation']),
    base_url: z.string(),
    model: z.string().describe('Requested model'),
    served_model: z.string().nullable().describe('The model the server says answered'),
    temperature: z.number(),
    seed: z.number().int().nullable(),
    max_tokens: z.number().int(),
    timeout_ms: z.number().int(),
    latency_ms: z.number().int().nonnegative(),
    prompt_tokens: z.number().int().nullable(),
    completion_tokens: z.number().int().nullable(),
    finish_reason: z.string().nullable(),
    error: z
      .strictObject({
        code: z
          .string()
          .describe(
            'NOT_CONFIGURED, NO_API_KEY, UNREACHABLE, TIMEOUT, AUTH, MODEL_NOT_FOUND, HTTP_ERROR or INVALID_RESPONSE',
          ),
        message: z.string(),
      })
      .nullable()
      .describe('Why the call gave no reply; null when it did'),
    validation: z
      .strictObject({
        ok: z.boolean(),
        reason: z
          .string()
          .nullable()
          .describe(
            'EMPTY_ANSWER, TRUNCATED, REFUSAL, NO_CITATION, UNKNOWN_CITATION, INVALID_JSON or SCHEMA_MISMATCH',
          ),
        detail: z.string().nullable(),
        grounded_on: z.array(z.string()).describe('Ids the answer cites that were in the prompt'),
      })
      .nullable()
      .describe('The answer check; null when there was no reply'),
    escalated: z.boolean().describe('True for the retry on the escalation model'),
    escalation_reason: z
      .string()
      .nullable()
      .describe('Why the local answer was escalated (an error or validation code)'),
  })
  .describe('ReplayCall: one logged model call');
export type ReplayCall = z.infer<typeof ReplayCall>;
