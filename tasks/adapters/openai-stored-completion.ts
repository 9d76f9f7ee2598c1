import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { ChatCompletionIn } from './openai-chat-log.ts';
import { MessageIn, ToolDefIn, toChatMessage, toToolDef } from './openai-messages.ts';
import { mergeFlags, untrustedLabelFlag } from './row-flags.ts';
import { taskKeyFor } from './task-key.ts';

/**
 * A stored completion (`store: true`) as `GET /v1/chat/completions` lists it, with its input
 * messages (`GET /v1/chat/completions/{id}/messages`) added as `messages`. `metadata` is the
 * string map set at request time.
 */
const StoredCompletionRow = ChatCompletionIn.extend({
  id: z.string().min(1),
  created: z.number(),
  model: z.string().min(1),
  messages: z.array(MessageIn).nullish(),
  tools: z.array(ToolDefIn).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  request_id: z.string().nullish(),
});

// known: what the adapter reads (its schema) and the fields the source writes that it leaves alone
const unknownFields = unknownFieldsCheck([
  ...Object.keys(StoredCompletionRow.shape),
  'tool_choice',
  'seed',
  'temperature',
  'top_p',
  'presence_penalty',
  'frequency_penalty',
  'input_user',
  'service_tier',
  'system_fingerprint',
  'response_format',
  'reasoning_effort',
  'store',
]);

/**
 * OpenAI stored-completion exports → one run per completion. The trace id is the completion id,
 * unless `metadata.trace_id` names the caller's own; `metadata.task_key` groups attempts;
 * `metadata.tier` / `metadata.provider` are read like the gateway's. Label-like metadata keys
 * (`quality`, `label`, ...) are ignored and flagged `untrusted_label`, as everywhere.
 */
export const openaiStoredCompletion: Adapter = {
  name: 'openai-stored-completion',
  description:
    'OpenAI stored completions: chat.completion objects (metadata, choices, usage) with their input `messages` added, one per line',
  shape: 'jsonl',
  sniff(row) {
    const chatCompletion = row.object === 'chat.completion' && Array.isArray(row.choices);
    if (!chatCompletion) return { confidence: 0, reason: 'not a chat.completion object (object, choices)' };
    if (Array.isArray(row.messages))
      return { confidence: 1, reason: 'chat.completion object with its input messages' };
    return { confidence: 0.8, reason: 'chat.completion object without its input messages' };
  },
  toEvidence(row): AdapterOutput {
    const read = readInput(StoredCompletionRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    if (!r.messages || r.messages.length === 0) {
      return {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: `$.messages: stored completion ${r.id} has no input messages; fetch them with GET /v1/chat/completions/${r.id}/messages and add them as "messages"`,
      };
    }
    const messages = r.messages.map(toChatMessage);
    const choice = r.choices[0];
    if (choice) messages.push(toChatMessage(choice.message));
    const md = r.metadata ?? {};
    // a stored completion ran on OpenAI's API unless the metadata says otherwise
    const tier = md['tier'] === 'local' ? 'local' : 'cloud';
    return {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: md['trace_id'] ?? r.id,
          task_key: taskKeyFor(md['task_key'], messages),
          recorded_at: r.created,
          flags: mergeFlags(
            r.choices.length > 1 ? ['extra_choices'] : [],
            unknownFields(row),
            untrustedLabelFlag(row, md),
          ),
          run: {
            messages,
            tools: (r.tools ?? []).map(toToolDef),
            model: r.model,
            provider: md['provider'] ?? 'openai',
            tier,
            usage: r.usage
              ? { prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens }
              : null,
            latency_ms: null,
            finish_reason: choice?.finish_reason ?? null,
            error: null,
            escalated_from: null,
          },
        },
      ],
    };
  },
};
