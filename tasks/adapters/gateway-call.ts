import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { ErrorIn, MessageIn, ToolDefIn, UsageIn, toChatMessage, toToolDef } from './openai-messages.ts';
import { UNTRUSTED_LABEL_KEYS, mergeFlags, untrustedLabelFlag } from './row-flags.ts';
import { sniffByKeys } from './sniff-keys.ts';
import { taskKeyFor } from './task-key.ts';

/** One gateway log row: an OpenAI Chat Completions request and its response or error. */
const GatewayCallRow = z.object({
  request_id: z.string().min(1),
  trace_id: z.string().min(1),
  timestamp: z.string().describe('RFC 3339; validated strictly by the shell'),
  task_key: z.string().min(1).nullish(),
  request: z.object({
    model: z.string().min(1),
    messages: z.array(MessageIn).min(1),
    tools: z.array(ToolDefIn).nullish(),
  }),
  response: z
    .object({
      id: z.string().nullish(),
      model: z.string().nullish(),
      choices: z.array(z.object({ message: MessageIn, finish_reason: z.string().nullish() })),
      usage: UsageIn.nullish(),
    })
    .nullable(),
  error: ErrorIn.nullable(),
  latency_ms: z.number().nonnegative().nullish(),
  metadata: z
    .looseObject({
      tier: z.enum(['local', 'cloud']).nullish(),
      provider: z.string().nullish(),
      escalated_from: z.string().min(1).nullish(),
    })
    .nullish(),
});

const unknownFields = unknownFieldsCheck([...Object.keys(GatewayCallRow.shape), ...UNTRUSTED_LABEL_KEYS]);

/** Gateway request/response logs (OpenAI Chat Completions shape) → one run per call. */
export const gatewayCall: Adapter = {
  name: 'gateway-call',
  description:
    'LLM gateway logs: OpenAI Chat Completions request + response (or API error) per line, with tier/provider metadata',
  shape: 'jsonl',
  sniff: (row) =>
    sniffByKeys(row, ['request_id', 'trace_id', 'request', 'response', 'error', 'metadata'], 'gateway-call'),
  toEvidence(row): AdapterOutput {
    const read = readInput(GatewayCallRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const flags: string[] = [];
    const choices = r.response?.choices ?? [];
    if (choices.length > 1) flags.push('extra_choices'); // n > 1: the first choice is the answer kept
    if (r.response === null && r.error === null) flags.push('no_response');
    const messages = r.request.messages.map(toChatMessage);
    const choice = choices[0];
    if (choice) messages.push(toChatMessage(choice.message));
    const usage = r.response?.usage;
    const rawMeta = row.metadata as Record<string, unknown> | null | undefined;
    return {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: r.trace_id,
          task_key: taskKeyFor(r.task_key, messages),
          recorded_at: r.timestamp,
          flags: mergeFlags(flags, unknownFields(row), untrustedLabelFlag(row, rawMeta)),
          run: {
            messages,
            tools: (r.request.tools ?? []).map(toToolDef),
            model: r.response?.model ?? r.request.model,
            provider: r.metadata?.provider ?? null,
            tier: r.metadata?.tier ?? 'unknown',
            usage: usage
              ? { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens }
              : null,
            latency_ms: r.latency_ms ?? null,
            finish_reason: choice?.finish_reason ?? null,
            error: r.error
              ? { type: r.error.type, message: r.error.message, status: r.error.status ?? null }
              : null,
            escalated_from: r.metadata?.escalated_from ?? null,
          },
        },
      ],
    };
  },
};
