import { z } from 'zod';
import type { ToolDef } from '../../schemas/chat.ts';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { anthropicConversation, anthropicMessage, finishReasonOf, usageOf } from './anthropic-content.ts';
import { CALL_LOG_IDS, CALL_LOG_STATUS, readInput, unknownFieldsCheck } from './input-schema.ts';
import { UNTRUSTED_LABEL_KEYS, mergeFlags, untrustedLabelFlag } from './row-flags.ts';
import { taskKeyFor } from './task-key.ts';

/** Anthropic usage; cache counts are optional. */
export const AnthropicUsageIn = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
  cache_read_input_tokens: z.number().int().nonnegative().nullish(),
});

/** A tool as offered in the request: custom tools carry `input_schema`; server tools carry a `type`. */
const ToolIn = z.object({
  type: z.string().nullish(),
  name: z.string().min(1),
  description: z.string().nullish(),
  input_schema: z.record(z.string(), z.unknown()).nullish(),
});

/** `{type:"error", error:{type, message}}` as the API returns it, or the inner object alone. */
const ErrorIn = z.union([
  z.object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }) }),
  z.object({ type: z.string(), message: z.string() }),
]);

const AnthropicLogRow = z.object({
  ...CALL_LOG_IDS,
  request: z.object({
    model: z.string().min(1),
    system: z.unknown().optional(),
    messages: z.array(z.unknown()).min(1),
    tools: z.array(ToolIn).nullish(),
  }),
  response: z
    .object({
      id: z.string().nullish(),
      type: z.string().nullish(),
      model: z.string().nullish(),
      role: z.literal('assistant').nullish(),
      content: z.array(z.unknown()).nullish(),
      stop_reason: z.string().nullish(),
      usage: AnthropicUsageIn.nullish(),
      error: z.object({ type: z.string(), message: z.string() }).nullish(),
    })
    .nullish(),
  error: ErrorIn.nullish(),
  ...CALL_LOG_STATUS,
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

const unknownFields = unknownFieldsCheck([...Object.keys(AnthropicLogRow.shape), ...UNTRUSTED_LABEL_KEYS]);

/** Custom tools → ToolDefs (`input_schema` → `parameters`); server tools (web search, ...) are skipped. */
export function anthropicTools(tools: ReadonlyArray<z.infer<typeof ToolIn>>): {
  tools: ToolDef[];
  flags: string[];
} {
  const out: ToolDef[] = [];
  let skipped = false;
  for (const t of tools) {
    if (t.type && t.type !== 'custom') {
      skipped = true;
      continue;
    }
    const fn: ToolDef['function'] = { name: t.name };
    if (t.description != null) fn.description = t.description;
    if (t.input_schema != null) fn.parameters = t.input_schema;
    out.push({ type: 'function', function: fn });
  }
  return { tools: out, flags: skipped ? ['server_tools_skipped'] : [] };
}

/**
 * Anthropic Messages request/response logs (one call per line) → one run. The response's content
 * blocks become the final assistant turn (thinking → `reasoning`), `stop_reason` maps to an OpenAI
 * `finish_reason` (`max_tokens` → "length"), an API error (`{type:"error", error:{...}}`) becomes
 * the run's error.
 */
export const anthropicMessages: Adapter = {
  name: 'anthropic-messages',
  description:
    'Anthropic Messages API logs: {request:{model, system, messages, tools}, response:{content blocks, stop_reason, usage} | null, error} per line',
  shape: 'jsonl',
  sniff(row) {
    const req = row.request as Record<string, unknown> | undefined;
    const res = row.response as Record<string, unknown> | null | undefined;
    if (!req || typeof req !== 'object' || !Array.isArray(req.messages))
      return { confidence: 0, reason: 'no request.messages list' };
    const blocks = (req.messages as unknown[]).flatMap((m) =>
      m && typeof m === 'object' && Array.isArray((m as { content?: unknown }).content)
        ? (m as { content: unknown[] }).content
        : [],
    );
    const markers = [
      res && typeof res === 'object' && res.type === 'message' ? 'response.type "message"' : null,
      res && typeof res === 'object' && 'stop_reason' in res ? 'response.stop_reason' : null,
      'system' in req ? 'request.system' : null,
      blocks.some(
        (b) =>
          b &&
          typeof b === 'object' &&
          ['tool_use', 'tool_result', 'thinking'].includes(String((b as { type?: unknown }).type)),
      )
        ? 'tool_use / tool_result / thinking blocks'
        : null,
      (row.error as { type?: unknown } | null | undefined)?.type === 'error' ? 'error.type "error"' : null,
    ].filter((x): x is string => x !== null);
    if (markers.length === 0)
      return {
        confidence: 0.3,
        reason:
          'request.messages, but no Anthropic marker (response.type "message", stop_reason, request.system, tool_use blocks)',
      };
    return { confidence: 1, reason: `request.messages with Anthropic markers: ${markers.join(', ')}` };
  },
  toEvidence(row): AdapterOutput {
    const read = readInput(AnthropicLogRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const conv = anthropicConversation(
      r.request.system,
      r.request.messages,
      '$.request.messages',
      '$.request.system',
    );
    if (!conv.ok) return { type: 'drop', ...conv.drop };
    const messages = conv.value;
    const flags = [...conv.flags];
    const res = r.response ?? null;
    if (res && res.content) {
      const answer = anthropicMessage({ role: 'assistant', content: res.content }, '$.response');
      if (!answer.ok) return { type: 'drop', ...answer.drop };
      messages.push(...answer.value);
      flags.push(...answer.flags);
    }
    const rawErr = r.error ?? (res?.error ? res.error : null);
    const err = rawErr ? ('error' in rawErr ? rawErr.error : rawErr) : null;
    if (!res?.content && !err) flags.push('no_response');
    const tools = anthropicTools(r.request.tools ?? []);
    return {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: r.trace_id ?? res?.id ?? r.id ?? r.request_id ?? null,
          task_key: taskKeyFor(r.task_key, messages),
          recorded_at: r.timestamp ?? r.created_at ?? null,
          flags: mergeFlags(flags, tools.flags, unknownFields(row), untrustedLabelFlag(row, r.metadata)),
          run: {
            messages,
            tools: tools.tools,
            model: res?.model ?? r.request.model,
            provider: 'anthropic',
            tier: 'cloud',
            usage: res?.usage ? usageOf(res.usage) : null,
            latency_ms: r.latency_ms ?? null,
            finish_reason: finishReasonOf(res?.stop_reason),
            error: err ? { type: err.type, message: err.message, status: r.status_code ?? null } : null,
            escalated_from: null,
          },
        },
      ],
    };
  },
};
