import type { ChatMessage, ToolDef } from '../../schemas/chat.ts';
import { finishReasonOf } from './anthropic-content.ts';
import { toolDefOf } from './any-message.ts';
import { readConversation, type Read } from './loose-chat.ts';
import { Conversation } from './message-builder.ts';

/**
 * Model outputs in the shapes LLM frameworks record beside the OpenAI / LangChain ones that
 * loose-chat.ts reads: a list of output messages (OpenTelemetry GenAI `{role, parts}`, Vercel AI SDK
 * tool calls `[{toolCallId, toolName, input}]`), an OpenAI Responses object (`{object: "response",
 * output: [items], instructions, tools}`), a Gemini `GenerateContentResponse` (`{candidates:
 * [{content: {role, parts}, finish_reason}]}`) or Google ADK `LlmResponse` (`{content, finish_reason}`)
 * and an Anthropic message (`{type: "message", content: [blocks], stop_reason}`). The output of one
 * model call is one assistant turn: assistant messages it holds are merged (calls and reasoning
 * kept), tool results it carries follow it.
 */

export interface OutputRead {
  message: ChatMessage;
  finish: string | null;
  /** Tool results the output itself carries (multi-step SDK outputs), after the turn. */
  after?: ChatMessage[];
  /** The system prompt the response records (Responses `instructions`). */
  system?: string;
  /** Tools the response records as offered. */
  tools?: ToolDef[];
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Gemini / Vertex finish reasons (`STOP`, `MAX_TOKENS`, ...) → OpenAI's. */
export function geminiFinish(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return null;
  const map: Record<string, string> = {
    STOP: 'stop',
    MAX_TOKENS: 'length',
    SAFETY: 'content_filter',
    RECITATION: 'content_filter',
    PROHIBITED_CONTENT: 'content_filter',
    BLOCKLIST: 'content_filter',
    SPII: 'content_filter',
    MALFORMED_FUNCTION_CALL: 'error',
  };
  return map[v.toUpperCase()] ?? v.toLowerCase();
}

/** Merges one call's output messages into one assistant turn, tool results after it. */
function oneTurn(messages: readonly ChatMessage[]): { message: ChatMessage; after: ChatMessage[] } | null {
  const turns = messages.filter((m) => m.role === 'assistant');
  if (turns.length === 0) return null;
  const texts = turns.map((m) => m.content).filter((c): c is string => c !== null && c !== '');
  const calls = turns.flatMap((m) => m.tool_calls ?? []);
  const reasoning = turns.map((m) => m.reasoning).filter((r): r is string => r !== undefined && r !== '');
  const message: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('\n\n') : null };
  if (calls.length > 0) message.tool_calls = calls;
  if (reasoning.length > 0) message.reasoning = reasoning.join('\n\n');
  return { message, after: messages.filter((m) => m.role === 'tool') };
}

function fromList(list: readonly unknown[], path: string): Read<OutputRead> {
  // Vercel AI SDK records the call's tool calls bare: [{toolCallId, toolName, input | args}]
  const items = list.map((x) =>
    isObj(x) && typeof x.toolCallId === 'string' && typeof x.toolName === 'string' && !('type' in x)
      ? { ...x, type: 'tool-call' }
      : typeof x === 'string'
        ? { role: 'assistant', content: x }
        : x,
  );
  const conv = new Conversation();
  const r = readConversation(items, path, conv, 'assistant');
  if (!r.ok) return r;
  const turn = oneTurn(r.value.messages);
  if (!turn)
    return {
      ok: false,
      drop: { reason: 'SCHEMA_MISSING_FIELD', detail: `${path}: the output list holds no assistant message` },
    };
  const finish = list
    .map((x) => (isObj(x) && typeof x.finish_reason === 'string' ? x.finish_reason : null))
    .find((x) => x !== null);
  return {
    ok: true,
    value: {
      ...turn,
      finish: finish ?? (turn.message.role === 'assistant' && turn.message.tool_calls ? 'tool_calls' : null),
    },
    flags: r.flags,
  };
}

/** The structured output shapes above, or null when `v` is none of them. */
export function readStructuredOutput(v: unknown, path: string): Read<OutputRead> | null {
  if (Array.isArray(v)) return fromList(v, path);
  if (!isObj(v)) return null;
  if (Array.isArray(v.output) && (v.object === 'response' || 'status' in v || 'instructions' in v)) {
    const r = fromList(v.output, `${path}.output`);
    if (!r.ok) return r;
    const tools = (Array.isArray(v.tools) ? v.tools : [])
      .map(toolDefOf)
      .filter((t): t is NonNullable<typeof t> => t !== null);
    const incomplete = isObj(v.incomplete_details) ? v.incomplete_details.reason : null;
    const value: OutputRead = {
      ...r.value,
      finish:
        incomplete === 'max_output_tokens'
          ? 'length'
          : incomplete === 'content_filter'
            ? 'content_filter'
            : r.value.message.role === 'assistant' && r.value.message.tool_calls
              ? 'tool_calls'
              : v.status === 'completed'
                ? 'stop'
                : r.value.finish,
      tools,
    };
    if (typeof v.instructions === 'string' && v.instructions !== '') value.system = v.instructions;
    return { ok: true, value, flags: r.flags };
  }
  if (Array.isArray(v.candidates)) {
    const c = v.candidates[0];
    if (!isObj(c) || !isObj(c.content))
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_MISSING_FIELD',
          detail: `${path}.candidates[0].content: no candidate content`,
        },
      };
    const r = fromList([{ role: 'model', ...c.content }], `${path}.candidates[0].content`);
    if (!r.ok) return r;
    return {
      ok: true,
      value: { ...r.value, finish: geminiFinish(c.finish_reason ?? c.finishReason) },
      flags: [...r.flags, ...(v.candidates.length > 1 ? ['extra_choices'] : [])],
    };
  }
  if (isObj(v.content) && Array.isArray(v.content.parts) && !('role' in v)) {
    const r = fromList([{ role: 'model', ...v.content }], `${path}.content`);
    if (!r.ok) return r;
    return {
      ok: true,
      value: { ...r.value, finish: geminiFinish(v.finish_reason ?? v.finishReason) },
      flags: r.flags,
    };
  }
  if (v.type === 'message' && v.role === 'assistant' && Array.isArray(v.content)) {
    const r = fromList([{ role: 'assistant', content: v.content }], path);
    if (!r.ok) return r;
    return {
      ok: true,
      value: { ...r.value, finish: finishReasonOf(typeof v.stop_reason === 'string' ? v.stop_reason : null) },
      flags: r.flags,
    };
  }
  return null;
}
