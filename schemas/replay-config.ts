import { z } from 'zod';

/**
 * The optional `replay` section of distill.config.json: which models `distill replay` and
 * `distill replay-eval` call, how much context they retrieve, and how the call log is bounded.
 * Environment variables override these (tasks/replay/settings.ts lists them).
 */

/** Version of the replay section's shape. */
export const SCHEMA_VERSION = 1;

const ENV_NAME = /^([A-Za-z_][A-Za-z0-9_]*)?$/;

/** One OpenAI-compatible chat completions endpoint (Ollama, llama.cpp server, vLLM, LM Studio, a cloud API), with its defaults. */
function endpoint(d: { base_url: string; model: string; timeout_ms: number }) {
  return z
    .strictObject({
      base_url: z
        .string()
        .default(d.base_url)
        .describe('Base URL of the OpenAI-compatible API, usually ending in /v1; "" = not configured'),
      model: z.string().default(d.model).describe('Model name as the server knows it'),
      api_key_env: z
        .string()
        .regex(ENV_NAME, 'expected an environment variable name, or "" for none')
        .default('')
        .describe(
          'Name of the environment variable holding the API key ("" = none; local servers ignore keys)',
        ),
      timeout_ms: z
        .number()
        .int()
        .positive()
        .default(d.timeout_ms)
        .describe('Per-call timeout in milliseconds'),
    })
    .prefault({});
}

/** The `replay` section: endpoints, retrieval depth, sampling settings, log rotation, eval threshold. */
export const ReplayConfig = z.strictObject({
  k: z.number().int().positive().max(50).default(5).describe('Documents retrieved per task'),
  max_context_chars: z
    .number()
    .int()
    .positive()
    .default(12000)
    .describe('Upper bound on the retrieved text put into one prompt'),
  local: endpoint({
    base_url: 'http://127.0.0.1:11434/v1',
    model: 'qwen2.5:7b-instruct',
    timeout_ms: 120_000,
  }).describe('The local model (default: Ollama on 127.0.0.1:11434 with qwen2.5:7b-instruct)'),
  escalation: endpoint({ base_url: '', model: '', timeout_ms: 60_000 }).describe(
    'The stronger model --allow-escalation retries on; not configured by default',
  ),
  temperature: z.number().min(0).max(2).default(0),
  seed: z
    .number()
    .int()
    .nullable()
    .default(0)
    .describe(
      'Sampling seed sent with every call (null = none); servers that ignore it stay non-deterministic',
    ),
  max_tokens: z.number().int().positive().default(1024),
  agreement_threshold: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('replay-eval: token-F1 at or above which an answer agrees with the recorded outcome'),
  log: z
    .strictObject({
      max_bytes: z
        .number()
        .int()
        .positive()
        .default(5 * 1024 * 1024)
        .describe('calls.jsonl is rotated before it would grow past this'),
      keep: z
        .number()
        .int()
        .nonnegative()
        .default(5)
        .describe('Rotated files kept (calls.1.jsonl … calls.<keep>.jsonl); older ones are deleted'),
    })
    .prefault({}),
});
export type ReplayConfig = z.infer<typeof ReplayConfig>;
/** One configured endpoint, after defaults. */
export type ModelEndpoint = ReplayConfig['local'];
