import type { ChatMessage, ToolDef } from '../../schemas/chat.ts';
import type { Drop } from '../lib/result.ts';
import { toolDefOf } from './any-message.ts';
import type { OutputRead } from './any-output.ts';
import { readPart } from './content-parts.ts';
import { readConversation } from './loose-chat.ts';
import { readOutput } from './model-output.ts';
import { Conversation } from './message-builder.ts';

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

/** Text of a system instruction: a string, a Gemini Content `{parts}` or a list of text parts. */
function instructionText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  const parts = isObj(v) && Array.isArray(v.parts) ? v.parts : Array.isArray(v) ? v : null;
  if (!parts) return null;
  const texts = parts.map((p) => readPart(p).piece).filter((p) => p.kind === 'text');
  return texts.map((p) => (p as { text: string }).text).join('\n\n');
}

/** Gemini `tools: [{function_declarations: [...]}]` and plain OpenAI / flat tool lists → ToolDefs. */
function toolList(v: unknown): ToolDef[] {
  const out: ToolDef[] = [];
  for (const t of Array.isArray(v) ? v : []) {
    const decls = isObj(t) ? (t.function_declarations ?? t.functionDeclarations) : undefined;
    for (const d of Array.isArray(decls) ? decls : [t]) {
      const def = toolDefOf(d);
      if (def) out.push(def);
    }
  }
  return out;
}

/** A call's input → prompt messages and offered tools. */
export function readInputMessages(
  raw: unknown,
  path: string,
): Read<{ messages: ChatMessage[]; tools: ToolDef[] }> {
  const v = parseJsonText(raw);
  if (typeof v === 'string')
    return { ok: true, value: { messages: [{ role: 'user', content: v }], tools: [] }, flags: [] };
  if (Array.isArray(v)) return readConversation(v, path);
  // a request body: OpenAI / Anthropic {messages, tools, system}, Responses {input, instructions},
  // Gemini {contents, config: {system_instruction, tools}}
  const body = isObj(v)
    ? Array.isArray(v.messages)
      ? { list: v.messages, key: 'messages', role: undefined }
      : 'contents' in v
        ? { list: v.contents, key: 'contents', role: 'user' }
        : 'input' in v && ('instructions' in v || 'model' in v)
          ? { list: v.input, key: 'input', role: 'user' }
          : null
    : null;
  if (isObj(v) && body) {
    const config = isObj(v.config) ? v.config : isObj(v.generation_config) ? v.generation_config : {};
    const system = instructionText(
      v.system ??
        v.instructions ??
        v.system_instruction ??
        v.systemInstruction ??
        config.system_instruction ??
        config.systemInstruction,
    );
    const conv = new Conversation();
    if (system !== null && system !== '') conv.push({ role: 'system', content: system });
    const list = typeof body.list === 'string' ? [{ role: 'user', content: body.list }] : body.list;
    if (!Array.isArray(list))
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_TYPE',
          detail: `${path}.${body.key}: expected a list of messages or a prompt string`,
        },
      };
    const m = readConversation(list, `${path}.${body.key}`, conv, body.role);
    if (!m.ok) return m;
    for (const t of [...toolList(v.tools), ...toolList(config.tools)]) conv.addTool(t);
    return { ok: true, value: { messages: conv.messages, tools: conv.tools }, flags: [...conv.flags] };
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
export function readOutputMessage(raw: unknown, path: string): Read<OutputRead> {
  const v = parseJsonText(raw);
  const r = readOutput(v, path);
  // a malformed message / choice stays a drop; only an app-level object becomes text
  if (r.ok || !isObj(v) || ['choices', 'generations', 'role', 'lc', 'candidates'].some((k) => k in v))
    return r;
  return {
    ok: true,
    value: { message: { role: 'assistant', content: objectText(v) }, finish: null },
    flags: ['output_stringified'],
  };
}
