import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { CALL_LOG_IDS, CALL_LOG_STATUS, readInput, unknownFieldsCheck } from './input-schema.ts';
import { MessageIn, ToolDefIn, UsageIn, toChatMessage, toToolDef } from './openai-messages.ts';
import { UNTRUSTED_LABEL_KEYS, mergeFlags, untrustedLabelFlag } from './row-flags.ts';
import { taskKeyFor } from './task-key.ts';

/** An OpenAI API error body (`type` and `code` may be null), bare or wrapped in `{error: ...}`. */
export const OpenAIErrorIn = z.object({
  message: z.string(),
  type: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
  param: z.string().nullish(),
  status: z.number().int().nullish(),
});
const ErrorField = z.union([z.object({ error: OpenAIErrorIn }), OpenAIErrorIn]);

/** A Chat Completion object as the API returns (and stores) it. */
export const ChatCompletionIn = z.object({
  id: z.string().min(1).nullish(),
  object: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({ index: z.number().int().nullish(), message: MessageIn, finish_reason: z.string().nullish() }),
  ),
  usage: UsageIn.nullish(),
});

const OpenAIChatLogRow = z.object({
  ...CALL_LOG_IDS,
  request: z.object({
    model: z.string().min(1),
    messages: z.array(MessageIn).min(1),
    tools: z.array(ToolDefIn).nullish(),
  }),
  // a failed call's log may hold the API's error body where the completion would be
  response: ChatCompletionIn.extend({
    choices: ChatCompletionIn.shape.choices.nullish(),
    error: OpenAIErrorIn.nullish(),
  }).nullish(),
  error: ErrorField.nullish(),
  ...CALL_LOG_STATUS,
  metadata: z
    .looseObject({ tier: z.enum(['local', 'cloud']).nullish(), provider: z.string().nullish() })
    .nullish(),
});

const unknownFields = unknownFieldsCheck([...Object.keys(OpenAIChatLogRow.shape), ...UNTRUSTED_LABEL_KEYS]);

/** The canonical run error of an OpenAI error body: `type`, else `code`, else "api_error". */
export function openaiError(
  e: z.infer<typeof OpenAIErrorIn>,
  status: number | null | undefined,
): { type: string; message: string; status: number | null } {
  return {
    type: e.type ?? (e.code != null ? String(e.code) : 'api_error'),
    message: e.message,
    status: e.status ?? status ?? null,
  };
}

/**
 * OpenAI Chat Completions request/response logs, as wrappers and proxies write them: one call per
 * line, `{request, response, error}` → one run. The first choice is the answer (more choices are
 * flagged `extra_choices`); tool-call `arguments` stay JSON strings; `finish_reason` "length"
 * marks a truncated answer; an error (bare, or `{error:{...}}` as the API returns it) becomes the
 * run's error.
 */
export const openaiChatLog: Adapter = {
  name: 'openai-chat-log',
  description:
    'OpenAI Chat Completions logs: {request:{model, messages, tools}, response: chat.completion | null, error} per line',
  shape: 'jsonl',
  sniff(row) {
    const req = row.request as Record<string, unknown> | undefined;
    if (!req || typeof req !== 'object' || !Array.isArray(req.messages))
      return { confidence: 0, reason: 'no request.messages list' };
    const res = row.response as Record<string, unknown> | null | undefined;
    const completion =
      res && typeof res === 'object' && (Array.isArray(res.choices) || res.object === 'chat.completion');
    const failed =
      (res && typeof res === 'object' && 'error' in res) ||
      (row.error !== null && typeof row.error === 'object');
    // 0.9 at most: a generic request/response log; a more specific adapter (gateway-call) wins ties
    if (completion)
      return { confidence: 0.9, reason: 'request.messages with a chat.completion response (choices)' };
    if (failed)
      return { confidence: 0.9, reason: 'request.messages with an API error instead of a response' };
    return {
      confidence: 0.5,
      reason: 'request.messages, but neither a chat.completion response nor an error',
    };
  },
  toEvidence(row): AdapterOutput {
    const read = readInput(OpenAIChatLogRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const flags: string[] = [];
    const res = r.response?.choices ? { ...r.response, choices: r.response.choices } : null;
    const resError = r.response && !r.response.choices ? (r.response.error ?? null) : null;
    const rawErr = r.error ? ('error' in r.error ? r.error.error : r.error) : resError;
    const choices = res?.choices ?? [];
    if (choices.length > 1) flags.push('extra_choices');
    if (!res && !rawErr) flags.push('no_response');
    const messages = r.request.messages.map(toChatMessage);
    const choice = choices[0];
    if (choice) messages.push(toChatMessage(choice.message));
    return {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: r.trace_id ?? res?.id ?? r.id ?? r.request_id ?? null,
          task_key: taskKeyFor(r.task_key, messages),
          recorded_at: r.timestamp ?? r.created_at ?? res?.created ?? null,
          flags: mergeFlags(flags, unknownFields(row), untrustedLabelFlag(row, r.metadata)),
          run: {
            messages,
            tools: (r.request.tools ?? []).map(toToolDef),
            model: res?.model ?? r.request.model,
            provider: r.metadata?.provider ?? null,
            tier: r.metadata?.tier ?? 'unknown',
            usage: res?.usage
              ? { prompt_tokens: res.usage.prompt_tokens, completion_tokens: res.usage.completion_tokens }
              : null,
            latency_ms: r.latency_ms ?? null,
            finish_reason: choice?.finish_reason ?? null,
            error: rawErr ? openaiError(rawErr, r.status_code) : null,
            escalated_from: null,
          },
        },
      ],
    };
  },
};
