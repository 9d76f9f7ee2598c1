import type { ChatMessage, ToolCall, ToolDef } from '../../schemas/chat.ts';
import type { Drop } from '../lib/result.ts';
import { addAnyMessage } from './any-message.ts';
import { readPart } from './content-parts.ts';
import { Conversation } from './message-builder.ts';
import { MessageIn, toChatMessage } from './openai-messages.ts';

/**
 * Liberal readers for the message lists observability tools store as a call's input and output
 * (Langfuse, LangSmith, LiteLLM): OpenAI chat messages, LangChain messages (serialized
 * `{lc, type:"constructor", id:[..., "HumanMessage"], kwargs}`, `{type:"human", content}` or
 * `{type, data:{content}}`), and a LangChain `LLMResult` (`{generations:[[{message, text}]]}`).
 * LangChain tool calls carry `args` as an object; they are JSON-encoded like OpenAI's.
 */

/** A read value with the flags it set, or a drop with a reason. */
export type Read<T> = { ok: true; value: T; flags: string[] } | { ok: false; drop: Drop };
export const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
export const what = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

export const LC_ROLES: Record<string, string> = {
  HumanMessage: 'user',
  HumanMessageChunk: 'user',
  human: 'user',
  AIMessage: 'assistant',
  AIMessageChunk: 'assistant',
  ai: 'assistant',
  SystemMessage: 'system',
  SystemMessageChunk: 'system',
  system: 'system',
  ToolMessage: 'tool',
  ToolMessageChunk: 'tool',
  tool: 'tool',
  ChatMessage: 'chat',
  ChatMessageChunk: 'chat',
  chat: 'chat',
};

/**
 * Text of LangChain content: a string, or parts read by the shared part rule (content-parts.ts);
 * tool_use and thinking parts are skipped here because they repeat `tool_calls` / the reasoning.
 */
function contentText(v: unknown, path: string): Read<string> {
  if (typeof v === 'string') return { ok: true, value: v, flags: [] };
  if (v === null || v === undefined) return { ok: true, value: '', flags: [] };
  if (!Array.isArray(v))
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_TYPE',
        detail: `${path}: expected a string or a list of parts, got ${what(v)}`,
      },
    };
  const texts: string[] = [];
  const flags: string[] = [];
  for (const p of v) {
    const r = readPart(p);
    flags.push(...r.flags);
    if (r.piece.kind === 'text') texts.push(r.piece.text);
  }
  return { ok: true, value: texts.join(''), flags };
}

function lcToolCalls(kw: Record<string, unknown>, path: string): Read<ToolCall[]> {
  const out: ToolCall[] = [];
  const flags: string[] = [];
  const list = Array.isArray(kw.tool_calls) ? kw.tool_calls : [];
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (!isObj(c) || typeof c.name !== 'string' || c.name === '' || typeof c.id !== 'string' || c.id === '') {
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_MISSING_FIELD',
          detail: `${path}.tool_calls[${i}]: a tool call needs a name and an id`,
        },
      };
    }
    out.push({
      id: c.id,
      type: 'function',
      function: {
        name: c.name,
        arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args ?? {}),
      },
    });
  }
  // calls whose arguments did not parse are kept with their raw text; the exporters decide
  const invalid = Array.isArray(kw.invalid_tool_calls) ? kw.invalid_tool_calls : [];
  for (const c of invalid) {
    if (isObj(c) && typeof c.name === 'string' && typeof c.id === 'string' && c.id !== '') {
      out.push({
        id: c.id,
        type: 'function',
        function: {
          name: c.name,
          arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args ?? null),
        },
      });
      flags.push('invalid_tool_call');
    }
  }
  if (out.length === 0 && isObj(kw.additional_kwargs) && Array.isArray(kw.additional_kwargs.tool_calls)) {
    const r = MessageIn.safeParse({
      role: 'assistant',
      content: null,
      tool_calls: kw.additional_kwargs.tool_calls,
    });
    if (!r.success)
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_INVALID',
          detail: `${path}.additional_kwargs.tool_calls: ${r.error.issues[0]?.message ?? 'invalid'}`,
        },
      };
    const m = toChatMessage(r.data);
    if (m.role === 'assistant') out.push(...(m.tool_calls ?? []));
  }
  return { ok: true, value: out, flags };
}

/** One LangChain message (any serialization) → a canonical message, or null when `v` is not one. */
function langchainMessage(v: Record<string, unknown>, path: string): Read<ChatMessage> | null {
  let cls: string | undefined;
  let kw: Record<string, unknown>;
  let kwPath = path;
  if (v.lc === 1 && v.type === 'constructor' && Array.isArray(v.id)) {
    cls = String(v.id[v.id.length - 1]);
    kw = isObj(v.kwargs) ? v.kwargs : {};
    kwPath = `${path}.kwargs`;
  } else if (typeof v.type === 'string' && LC_ROLES[v.type] !== undefined && !('role' in v)) {
    cls = v.type;
    kw = isObj(v.data) ? v.data : v;
    if (isObj(v.data)) kwPath = `${path}.data`;
  } else {
    return null;
  }
  let role = LC_ROLES[cls];
  if (role === 'chat')
    role =
      typeof kw.role === 'string'
        ? kw.role === 'human'
          ? 'user'
          : kw.role === 'ai'
            ? 'assistant'
            : kw.role
        : undefined;
  if (!role)
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_ENUM',
        detail: `${path}: LangChain message class ${JSON.stringify(cls)} is not one of HumanMessage, AIMessage, SystemMessage, ToolMessage, ChatMessage`,
      },
    };
  const text = contentText(kw.content, `${kwPath}.content`);
  if (!text.ok) return text;
  switch (role) {
    case 'user':
      return { ok: true, value: { role: 'user', content: text.value }, flags: text.flags };
    case 'system':
      return { ok: true, value: { role: 'system', content: text.value }, flags: text.flags };
    case 'tool':
      if (typeof kw.tool_call_id !== 'string' || kw.tool_call_id === '')
        return {
          ok: false,
          drop: {
            reason: 'SCHEMA_MISSING_FIELD',
            detail: `${kwPath}.tool_call_id: a tool message needs the id of the call it answers`,
          },
        };
      return {
        ok: true,
        value: { role: 'tool', tool_call_id: kw.tool_call_id, content: text.value },
        flags: [...text.flags, ...(kw.status === 'error' ? ['tool_error'] : [])],
      };
    case 'assistant': {
      const calls = lcToolCalls(kw, kwPath);
      if (!calls.ok) return calls;
      const m: ChatMessage = {
        role: 'assistant',
        content: text.value === '' && calls.value.length > 0 ? null : text.value,
      };
      if (calls.value.length > 0) m.tool_calls = calls.value;
      const reasoning = isObj(kw.additional_kwargs) ? kw.additional_kwargs.reasoning_content : undefined;
      if (typeof reasoning === 'string' && reasoning !== '') m.reasoning = reasoning;
      return { ok: true, value: m, flags: [...text.flags, ...calls.flags] };
    }
    default:
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_ENUM',
          detail: `${kwPath}.role: expected system, user, assistant or tool, got ${JSON.stringify(role)}`,
        },
      };
  }
}

/** One message in any supported shape, expected to make exactly one canonical message. */
export function readMessage(v: unknown, path: string): Read<ChatMessage> {
  const r = readConversation([v], path);
  if (!r.ok) return r;
  const m = r.value.messages;
  if (m.length !== 1)
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_INVALID',
        detail: `${path}: expected one message, it holds ${m.length}`,
      },
    };
  return { ok: true, value: m[0] as ChatMessage, flags: r.flags };
}

/**
 * A list of messages in any supported shape (LangChain here, the rest in any-message.ts) → the
 * canonical conversation and the tools it declares; a LangChain batch `[[...]]` reads its first
 * conversation.
 */
export function readConversation(
  list: readonly unknown[],
  path: string,
  conv: Conversation = new Conversation(),
  defaultRole?: string,
): Read<{ messages: ChatMessage[]; tools: ToolDef[] }> {
  let items = list;
  let base = path;
  if (items.length > 0 && items.every((x) => Array.isArray(x))) {
    if (items.length > 1) conv.flags.add('extra_batch_items');
    items = items[0] as unknown[];
    base = `${path}[0]`;
  }
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    const lc = isObj(v) ? langchainMessage(v, `${base}[${i}]`) : null;
    if (lc) {
      if (!lc.ok) return lc;
      conv.push(lc.value);
      for (const f of lc.flags) conv.flags.add(f);
      continue;
    }
    const drop = addAnyMessage(conv, v, `${base}[${i}]`, defaultRole);
    if (drop) return { ok: false, drop };
  }
  return { ok: true, value: { messages: conv.messages, tools: conv.tools }, flags: [...conv.flags] };
}

/** A list of messages in any supported shape (see readConversation). */
export function readMessages(list: readonly unknown[], path: string): Read<ChatMessage[]> {
  const r = readConversation(list, path);
  return r.ok ? { ok: true, value: r.value.messages, flags: r.flags } : r;
}
