import { z } from 'zod';
import type { ChatMessage, ToolCall, ToolDef } from '../../schemas/chat.ts';
import { joinText, readPart } from './content-parts.ts';

/**
 * Loose readers for OpenAI chat shapes as they appear in vendor logs, and their conversion to our
 * canonical `ChatMessage`. Liberal in what they read: content may be a string, null or a list of
 * text parts; `developer` is read as `system`; tool-call `arguments` given as an object is
 * re-encoded as a JSON string; legacy extras (`name`, `refusal`, `annotations`) are accepted and
 * not kept. Images, audio and files become a typed placeholder text (`[image: image/png]`).
 */

/**
 * Joins content parts into one string: text parts as they are, images / audio / files as a typed
 * placeholder (the shared part rule, content-parts.ts); anything else is left for the schema to refuse.
 */
function joinTextParts(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const texts: Array<{ text: string; media?: true }> = [];
  for (const part of v) {
    if (part === null || typeof part !== 'object') return v;
    const r = readPart(part);
    if (r.piece.kind !== 'text' || r.flags.includes('unknown_parts')) return v;
    texts.push(r.piece);
  }
  return joinText(texts, '');
}

/** Object arguments (some SDK logs) become the JSON string OpenAI itself sends. */
function encodeArguments(v: unknown): unknown {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v;
}

const Content = z.preprocess(joinTextParts, z.string().nullable());

/** A tool call as logged: `arguments` a string (or an object, re-encoded). */
export const ToolCallIn = z.object({
  id: z.string().min(1),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string().min(1), arguments: z.preprocess(encodeArguments, z.string()) }),
});

/** One logged chat message, by role. */
export const MessageIn = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content: Content }),
  z.object({ role: z.literal('user'), content: Content }),
  z.object({
    role: z.literal('assistant'),
    content: Content.optional(),
    tool_calls: z.array(ToolCallIn).nullish(),
    refusal: z.string().nullish(),
    reasoning_content: z.string().nullish(),
    reasoning: z.string().nullish(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: Content }),
]);
export type MessageIn = z.infer<typeof MessageIn>;

/** A logged `tools` entry. */
export const ToolDefIn = z.object({
  type: z.literal('function').optional(),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});
export type ToolDefIn = z.infer<typeof ToolDefIn>;

/** Token usage as logged; totals and `*_details` are accepted and not kept. */
export const UsageIn = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});

/** An API / runtime error as logged. */
export const ErrorIn = z.object({
  type: z.string(),
  message: z.string(),
  status: z.number().int().nullish(),
});

/** Converts one logged message to the canonical shape. */
export function toChatMessage(m: MessageIn): ChatMessage {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: m.content ?? '' };
    case 'user':
      return { role: 'user', content: m.content ?? '' };
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content ?? '' };
    case 'assistant': {
      const calls: ToolCall[] = (m.tool_calls ?? []).map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.function.name, arguments: c.function.arguments },
      }));
      // A refusal is the model's answer when it gave no content.
      const content = m.content ?? (calls.length === 0 ? (m.refusal ?? null) : null);
      const out: ChatMessage = { role: 'assistant', content };
      if (calls.length > 0) out.tool_calls = calls;
      const reasoning = m.reasoning ?? m.reasoning_content;
      if (reasoning) out.reasoning = reasoning;
      return out;
    }
  }
}

/** Converts a logged `tools` entry to the canonical shape (absent optional parts stay absent). */
export function toToolDef(t: ToolDefIn): ToolDef {
  const fn: ToolDef['function'] = { name: t.function.name };
  if (t.function.description != null) fn.description = t.function.description;
  if (t.function.parameters != null) fn.parameters = t.function.parameters;
  return { type: 'function', function: fn };
}
