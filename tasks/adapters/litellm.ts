import { z } from 'zod';
import type { ChatMessage } from '../../schemas/chat.ts';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { parseJsonText } from './conversation-io.ts';
import { readMessages } from './loose-chat.ts';
import { readOutput } from './model-output.ts';
import { utcIfNaive } from './naive-time.ts';
import { ToolDefIn, toToolDef } from './openai-messages.ts';
import { mergeFlags, untrustedLabelFlag } from './row-flags.ts';
import { taskKeyFor } from './task-key.ts';

/** The chat call types; embeddings, images, audio and the like hold no conversation. */
const CHAT_CALLS = new Set(['completion', 'acompletion', 'text_completion', 'atext_completion']);

const Timestamp = z.union([z.string(), z.number()]);
/** Providers that serve models on the caller's own machine. */
const LOCAL_PROVIDERS = new Set(['ollama', 'ollama_chat', 'lm_studio', 'llamafile']);

/** A LiteLLM spend-log row (`LiteLLM_SpendLogs`) or a StandardLoggingPayload, read loosely. */
const LiteLLMRow = z.object({
  request_id: z.string().min(1).nullish(),
  id: z.string().min(1).nullish(),
  call_type: z.string().nullish(),
  model: z.string().nullish(),
  custom_llm_provider: z.string().nullish(),
  startTime: Timestamp,
  endTime: Timestamp.nullish(),
  status: z.string().nullish(),
  prompt_tokens: z.number().int().nonnegative().nullish(),
  completion_tokens: z.number().int().nonnegative().nullish(),
  messages: z.unknown().optional(),
  response: z.unknown().optional(),
  model_parameters: z.looseObject({ tools: z.array(ToolDefIn).nullish() }).nullish(),
  error_str: z.string().nullish(),
  error_information: z
    .looseObject({
      error_code: z.union([z.string(), z.number()]).nullish(),
      error_class: z.string().nullish(),
      error_message: z.string().nullish(),
    })
    .nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

// known: what the adapter reads (its schema) and the fields the source writes that it leaves alone
const unknownFields = unknownFieldsCheck([
  ...Object.keys(LiteLLMRow.shape),
  'trace_id',
  'api_key',
  'spend',
  'response_cost',
  'total_tokens',
  'completionStartTime',
  'response_time',
  'model_id',
  'model_group',
  'model_map_information',
  'api_base',
  'user',
  'cache_hit',
  'cache_key',
  'saved_cache_cost',
  'request_tags',
  'team_id',
  'end_user',
  'requester_ip_address',
  'session_id',
  'proxy_server_request',
  'mcp_namespaced_tool_name',
  'stream',
  'hidden_params',
  'guardrail_information',
  'standard_built_in_tools_params',
  'cost_breakdown',
  'response_cost_failure_debug_info',
  'status_fields',
  'agent_id',
  'organization_id',
]);

/** Fields LiteLLM's spend-log table keeps as JSON strings. */
const STRINGIFIED = [
  'metadata',
  'messages',
  'response',
  'model_parameters',
  'error_information',
  'request_tags',
  'proxy_server_request',
] as const;

/** Empty when prompt storage is off: `{}`, `[]`, "" or null. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function millis(v: string | number): number | null {
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v;
  const t = Date.parse(utcIfNaive(v).value as string);
  return Number.isFinite(t) ? t : null;
}

/**
 * LiteLLM proxy spend logs (`/spend/logs`, the `LiteLLM_SpendLogs` table) and StandardLoggingPayload
 * rows (custom loggers) → one run per request. `messages` / `response` are empty unless prompt
 * storage is on: such a row drops as NO_CONVERSATION (nothing to learn from), as do non-chat call
 * types. `status: "failure"` gives the run an error from `error_information` / `error_str`.
 */
export const litellm: Adapter = {
  name: 'litellm',
  description:
    'LiteLLM spend logs / StandardLoggingPayload: {request_id | id, call_type, model, messages, response, startTime, status, ...} per line',
  shape: 'jsonl',
  sniff(row) {
    const keys = ['call_type', 'startTime', 'endTime', 'messages', 'response', 'model'];
    const present = keys.filter((k) => Object.hasOwn(row, k));
    const hasId = Object.hasOwn(row, 'request_id') || Object.hasOwn(row, 'id');
    const confidence = Math.round(((present.length + (hasId ? 1 : 0)) / (keys.length + 1)) * 100) / 100;
    return {
      confidence,
      reason: `has ${present.length + (hasId ? 1 : 0)}/${keys.length + 1} LiteLLM log keys (call_type, startTime, endTime, messages, response, model, request_id | id)`,
    };
  },
  toEvidence(raw): AdapterOutput {
    // spend logs store these fields as JSON text (`"metadata": "{...}"`, `"messages": "{}"`)
    const row: Record<string, unknown> = { ...raw };
    for (const k of STRINGIFIED) if (typeof row[k] === 'string') row[k] = parseJsonText(row[k]);
    const read = readInput(LiteLLMRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const traceId = r.request_id ?? r.id ?? null;
    if (r.call_type && !CHAT_CALLS.has(r.call_type)) {
      return {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: `$.call_type: "${r.call_type}" is not a chat completion (${[...CHAT_CALLS].join(', ')}); nothing to learn from`,
      };
    }
    const failed = r.status === 'failure';
    // the prompt not stored: a response alone is not a conversation (one rule for every adapter)
    if (isEmpty(r.messages)) {
      return {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail:
          '$.messages: empty; LiteLLM stores messages and response only when prompt storage is on (general_settings.store_prompts_in_spend_logs)',
      };
    }
    const flags: string[] = [];
    let messages: ChatMessage[];
    if (typeof r.messages === 'string') messages = [{ role: 'user', content: r.messages }];
    else if (Array.isArray(r.messages)) {
      const m = readMessages(r.messages, '$.messages');
      if (!m.ok) return { type: 'drop', ...m.drop };
      messages = m.value;
      flags.push(...m.flags);
    } else {
      return {
        type: 'drop',
        reason: 'SCHEMA_TYPE',
        detail: `$.messages: expected a list of messages or a prompt string, got ${typeof r.messages}`,
      };
    }
    let finish: string | null = null;
    let servedModel: string | null = null;
    if (!isEmpty(r.response) && !failed) {
      const out = readOutput(r.response, '$.response');
      if (!out.ok) return { type: 'drop', ...out.drop };
      messages.push(out.value.message);
      finish = out.value.finish;
      flags.push(...out.flags);
      const rm = (r.response as { model?: unknown }).model;
      if (typeof rm === 'string' && rm !== '') servedModel = rm;
    }
    const ts = utcIfNaive(r.startTime);
    const start = millis(r.startTime);
    const end = r.endTime != null ? millis(r.endTime) : null;
    const info = r.error_information;
    const code =
      info?.error_code != null && /^\d+$/.test(String(info.error_code)) ? Number(info.error_code) : null;
    const md = r.metadata ?? {};
    const tier =
      md['tier'] === 'local' || md['tier'] === 'cloud'
        ? md['tier']
        : LOCAL_PROVIDERS.has(r.custom_llm_provider ?? '')
          ? 'local'
          : 'unknown';
    return {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: traceId,
          task_key: taskKeyFor(typeof md['task_key'] === 'string' ? md['task_key'] : null, messages),
          recorded_at: ts.value,
          flags: mergeFlags(flags, ts.flags, unknownFields(row), untrustedLabelFlag(row, md)),
          run: {
            messages,
            tools: (r.model_parameters?.tools ?? []).map(toToolDef),
            model: servedModel ?? r.model ?? null,
            provider: r.custom_llm_provider ?? null,
            tier,
            usage:
              r.prompt_tokens != null && r.completion_tokens != null
                ? { prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens }
                : null,
            latency_ms: start !== null && end !== null && end >= start ? Math.round(end - start) : null,
            finish_reason: finish,
            error: failed
              ? {
                  type: info?.error_class ?? 'litellm_error',
                  message: r.error_str ?? info?.error_message ?? 'request failed',
                  status: code,
                }
              : null,
            escalated_from: null,
          },
        },
      ],
    };
  },
};
