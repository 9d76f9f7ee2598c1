import type { ChatMessage, ToolDef } from '../../schemas/chat.ts';
import type { Drop } from '../lib/result.ts';
import { readMessages, readOutput } from './loose-chat.ts';
import { ToolDefIn, toToolDef } from './openai-messages.ts';

/**
 * A traced call's `input` / `output` as observability tools store them (Langfuse, LangSmith): a
 * message list, `{messages, tools}`, a plain prompt string, a JSON string of any of these, or an
 * app-level object such as `{question}`. Objects that are not messages become one user turn of
 * text (a single string field is used as is, anything else as JSON; flag `input_stringified`).
 */

type Read<T> = { ok: true; value: T; flags: string[] } | { ok: false; drop: Drop };
const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON string that holds an object or list → parsed; anything else unchanged. */
export function parseJsonText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

/** Prompt text of an app-level object: its only string field, else its JSON. */
function objectText(v: Record<string, unknown>): string {
  const strings = Object.values(v).filter((x): x is string => typeof x === 'string');
  return Object.keys(v).length === 1 && strings.length === 1 ? (strings[0] as string) : JSON.stringify(v);
}

/** A call's input → prompt messages and offered tools. */
export function readInputMessages(
  raw: unknown,
  path: string,
): Read<{ messages: ChatMessage[]; tools: ToolDef[] }> {
  const v = parseJsonText(raw);
  if (typeof v === 'string')
    return { ok: true, value: { messages: [{ role: 'user', content: v }], tools: [] }, flags: [] };
  if (Array.isArray(v)) {
    const m = readMessages(v, path);
    return m.ok ? { ok: true, value: { messages: m.value, tools: [] }, flags: m.flags } : m;
  }
  if (isObj(v) && Array.isArray(v.messages)) {
    const m = readMessages(v.messages, `${path}.messages`);
    if (!m.ok) return m;
    const tools: ToolDef[] = [];
    for (const t of Array.isArray(v.tools) ? v.tools : []) {
      const r = ToolDefIn.safeParse(t);
      if (r.success) tools.push(toToolDef(r.data));
    }
    return { ok: true, value: { messages: m.value, tools }, flags: m.flags };
  }
  if (isObj(v))
    return {
      ok: true,
      value: { messages: [{ role: 'user', content: objectText(v) }], tools: [] },
      flags: ['input_stringified'],
    };
  return {
    ok: false,
    drop: {
      reason: 'SCHEMA_TYPE',
      detail: `${path}: expected messages, a prompt string or an object, got ${v === null ? 'null' : typeof v}`,
    },
  };
}

/** A call's output → the assistant turn and its finish reason; app-level objects become JSON text. */
export function readOutputMessage(
  raw: unknown,
  path: string,
): Read<{ message: ChatMessage; finish: string | null }> {
  const v = parseJsonText(raw);
  const r = readOutput(v, path);
  // a malformed message / choice stays a drop; only an app-level object becomes text
  if (r.ok || !isObj(v) || ['choices', 'generations', 'role', 'lc'].some((k) => k in v)) return r;
  return {
    ok: true,
    value: { message: { role: 'assistant', content: objectText(v) }, finish: null },
    flags: ['output_stringified'],
  };
}
