import type { ChatMessage } from '../../../schemas/chat.ts';

/**
 * Pure helpers over a run's conversation (OpenAI chat shape) shared by the exporters: what the
 * final answer is, what the prompt before it is, and whether the conversation is fit to train on.
 */

/** True when a string has visible text. */
export function hasText(s: string | null | undefined): s is string {
  return typeof s === 'string' && s.trim() !== '';
}

/** Text compared for "identical" chosen / rejected: NFC, whitespace collapsed and trimmed. */
export function normaliseForCompare(s: string): string {
  return s.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** A message without assistant reasoning / thinking text (never a training target). */
export function withoutReasoning(m: ChatMessage): ChatMessage {
  if (m.role !== 'assistant' || m.reasoning === undefined) return m;
  const { reasoning: _r, ...rest } = m;
  return rest;
}

/** The conversation cut after its last assistant turn (trailing user / tool / system turns dropped). */
export function endOnAssistant(messages: readonly ChatMessage[]): ChatMessage[] {
  let last = messages.length - 1;
  while (last >= 0 && (messages[last] as ChatMessage).role !== 'assistant') last--;
  return messages.slice(0, last + 1);
}

/** The last assistant turn with visible text: its index and text; null when there is none. */
export function finalAnswer(messages: readonly ChatMessage[]): { index: number; text: string } | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role === 'assistant' && hasText(m.content)) return { index: i, text: m.content };
  }
  return null;
}

/** The first user message's text (the task prompt), or null. */
export function firstUserText(messages: readonly ChatMessage[]): string | null {
  const m = messages.find((x) => x.role === 'user');
  return m && hasText(m.content) ? m.content : null;
}

/**
 * The first tool call whose `arguments` is not a JSON object (invalid JSON, or an array / number /
 * null), as a human-readable detail; null when every call is fine. TRL needs the arguments as an
 * object, so anything else cannot be exported faithfully.
 */
export function invalidToolArgs(messages: readonly ChatMessage[]): string | null {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ChatMessage;
    if (m.role !== 'assistant' || !m.tool_calls) continue;
    for (let j = 0; j < m.tool_calls.length; j++) {
      const c = m.tool_calls[j] as NonNullable<typeof m.tool_calls>[number];
      const where = `messages[${i}].tool_calls[${j}] (${c.function.name})`;
      let v: unknown;
      try {
        v = JSON.parse(c.function.arguments);
      } catch (e) {
        return `${where}: arguments is not valid JSON (${(e as Error).message}); got ${clip(c.function.arguments)}`;
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        return `${where}: arguments must encode a JSON object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`;
      }
    }
  }
  return null;
}

/**
 * The first tool result that answers no earlier assistant tool call (or comes before any), as a
 * detail; null when every tool message follows the call it answers.
 */
export function orphanToolResult(messages: readonly ChatMessage[]): string | null {
  const open = new Set<string>();
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ChatMessage;
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) open.add(c.id);
    else if (m.role === 'tool' && !open.has(m.tool_call_id)) {
      return `messages[${i}] is a tool result for call "${m.tool_call_id}", which no earlier assistant turn made`;
    }
  }
  return null;
}

/** Parsed tool-call arguments (callers have checked them with `invalidToolArgs`). */
export function parseArgs(json: string): Record<string, unknown> {
  return JSON.parse(json) as Record<string, unknown>;
}

function clip(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}
