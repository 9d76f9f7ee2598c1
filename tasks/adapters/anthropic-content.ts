import type { ChatMessage, ToolCall } from '../../schemas/chat.ts';
import type { Drop } from '../lib/result.ts';
import { readPart } from './content-parts.ts';

/**
 * Anthropic Messages content → our canonical OpenAI chat shape. A message's content is a string
 * or a list of blocks: assistant `text` blocks become `content` (joined by a blank line),
 * `tool_use {id, name, input}` a tool call with `input` JSON-encoded, `thinking` the turn's
 * `reasoning`; `redacted_thinking` is skipped (flag `redacted_thinking`). A user message's
 * `tool_result` blocks become `tool` messages, placed before the user's own text (OpenAI wants a
 * tool result right after the call); `is_error` results keep their text (flag `tool_error`).
 * Other blocks follow the shared part rule (content-parts.ts): text documents and search results
 * become text, images and binary documents a typed placeholder, server-side tool blocks
 * (`server_tool_use`, `web_search_tool_result`, ...) are skipped (flag `server_tool_calls_skipped`).
 */

type Result<T> = { ok: true; value: T; flags: string[] } | { ok: false; drop: Drop };

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function typeDrop(path: string, expected: string, got: unknown): { ok: false; drop: Drop } {
  const what = got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got;
  return { ok: false, drop: { reason: 'SCHEMA_TYPE', detail: `${path}: expected ${expected}, got ${what}` } };
}

/** Text of a string or a list of `text` blocks (a system prompt, a tool result). */
export function blockText(v: unknown, path: string): Result<string> {
  if (typeof v === 'string') return { ok: true, value: v, flags: [] };
  if (v === undefined || v === null) return { ok: true, value: '', flags: [] };
  if (!Array.isArray(v)) return typeDrop(path, 'a string or a list of text blocks', v);
  const texts: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const b = v[i];
    if (!isObj(b)) return typeDrop(`${path}[${i}]`, 'a content block object', b);
    if (b.type !== 'text') {
      const r = readPart(b);
      flags.push(...r.flags);
      if (r.piece.kind === 'text') texts.push(r.piece.text);
      continue;
    }
    if (typeof b.text !== 'string') return typeDrop(`${path}[${i}].text`, 'a string', b.text);
    texts.push(b.text);
  }
  return { ok: true, value: texts.join('\n\n'), flags };
}

/** One Anthropic message (`{role, content}`) → one or more canonical messages. */
export function anthropicMessage(m: unknown, path: string): Result<ChatMessage[]> {
  if (!isObj(m)) return typeDrop(path, 'a message object', m);
  const role = m.role;
  if (role !== 'user' && role !== 'assistant') {
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_ENUM',
        detail: `${path}.role: expected "user" or "assistant", got ${JSON.stringify(role)}`,
      },
    };
  }
  const content = m.content;
  if (typeof content === 'string')
    return { ok: true, value: [role === 'user' ? { role, content } : { role, content }], flags: [] };
  if (!Array.isArray(content))
    return typeDrop(`${path}.content`, 'a string or a list of content blocks', content);
  const flags: string[] = [];
  const texts: string[] = [];
  if (role === 'user') {
    const tools: ChatMessage[] = [];
    for (let i = 0; i < content.length; i++) {
      const b = content[i];
      const bp = `${path}.content[${i}]`;
      if (!isObj(b)) return typeDrop(bp, 'a content block object', b);
      if (b.type === 'text') {
        if (typeof b.text !== 'string') return typeDrop(`${bp}.text`, 'a string', b.text);
        texts.push(b.text);
      } else if (b.type === 'tool_result') {
        if (typeof b.tool_use_id !== 'string' || b.tool_use_id === '')
          return typeDrop(`${bp}.tool_use_id`, 'a non-empty string', b.tool_use_id);
        const text = blockText(b.content, `${bp}.content`);
        if (!text.ok) return text;
        if (b.is_error === true) flags.push('tool_error');
        flags.push(...text.flags);
        tools.push({ role: 'tool', tool_call_id: b.tool_use_id, content: text.value });
      } else {
        // documents, images, search results, server-side blocks: the shared part rule
        const r = readPart(b);
        flags.push(...r.flags);
        if (r.piece.kind === 'text') texts.push(r.piece.text);
      }
    }
    const out = [...tools];
    if (texts.length > 0 || tools.length === 0) out.push({ role: 'user', content: texts.join('\n\n') });
    return { ok: true, value: out, flags };
  }
  const calls: ToolCall[] = [];
  const thinking: string[] = [];
  for (let i = 0; i < content.length; i++) {
    const b = content[i];
    const bp = `${path}.content[${i}]`;
    if (!isObj(b)) return typeDrop(bp, 'a content block object', b);
    if (b.type === 'text') {
      if (typeof b.text !== 'string') return typeDrop(`${bp}.text`, 'a string', b.text);
      texts.push(b.text);
    } else if (b.type === 'tool_use') {
      if (typeof b.id !== 'string' || b.id === '') return typeDrop(`${bp}.id`, 'a non-empty string', b.id);
      if (typeof b.name !== 'string' || b.name === '')
        return typeDrop(`${bp}.name`, 'a non-empty string', b.name);
      calls.push({
        id: b.id,
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
      });
    } else if (b.type === 'thinking') {
      if (typeof b.thinking !== 'string') return typeDrop(`${bp}.thinking`, 'a string', b.thinking);
      thinking.push(b.thinking);
    } else if (b.type === 'redacted_thinking') {
      flags.push('redacted_thinking');
    } else {
      // server-side tool blocks, media, citations' sources: the shared part rule
      const r = readPart(b);
      flags.push(...r.flags);
      if (r.piece.kind === 'text') texts.push(r.piece.text);
    }
  }
  const out: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('\n\n') : null };
  if (calls.length > 0) out.tool_calls = calls;
  if (thinking.length > 0) out.reasoning = thinking.join('\n\n');
  return { ok: true, value: [out], flags };
}

/** A system prompt (string or text blocks) and a message list → the canonical conversation. */
export function anthropicConversation(
  system: unknown,
  messages: readonly unknown[],
  path: string,
  systemPath: string,
): Result<ChatMessage[]> {
  const out: ChatMessage[] = [];
  const flags: string[] = [];
  if (system !== undefined && system !== null) {
    const s = blockText(system, systemPath);
    if (!s.ok) return s;
    if (s.value !== '') out.push({ role: 'system', content: s.value });
  }
  for (let i = 0; i < messages.length; i++) {
    const r = anthropicMessage(messages[i], `${path}[${i}]`);
    if (!r.ok) return r;
    out.push(...r.value);
    flags.push(...r.flags);
  }
  return { ok: true, value: out, flags };
}

/** Anthropic `stop_reason` → OpenAI `finish_reason` (`max_tokens` → "length" = truncated); unknown ones pass through. */
export function finishReasonOf(stop: string | null | undefined): string | null {
  if (stop === null || stop === undefined) return null;
  const map: Record<string, string> = {
    end_turn: 'stop',
    stop_sequence: 'stop',
    max_tokens: 'length',
    model_context_window_exceeded: 'length',
    tool_use: 'tool_calls',
    refusal: 'content_filter',
  };
  return map[stop] ?? stop;
}

/** Anthropic usage → prompt (input + cache writes + cache reads) and completion tokens. */
export function usageOf(u: {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}): { prompt_tokens: number; completion_tokens: number } {
  return {
    prompt_tokens: u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0),
    completion_tokens: u.output_tokens,
  };
}
