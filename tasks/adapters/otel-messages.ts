import type { ChatMessage, ToolCall, ToolDef } from '../../schemas/chat.ts';
import type { Drop } from '../lib/result.ts';
import { readPart, type Piece } from './content-parts.ts';
import { canonicalRole, Conversation } from './message-builder.ts';
import { jsonish } from './otel-attributes.ts';

/**
 * GenAI message content of an OpenTelemetry span → canonical chat messages, for the three ways
 * instrumentations record it:
 * - current conventions: `gen_ai.system_instructions`, `gen_ai.input.messages`,
 *   `gen_ai.output.messages`, each a list of `{role, parts:[{type:"text", content} |
 *   {type:"tool_call", id, name, arguments} | {type:"tool_call_response", id, response} |
 *   {type:"reasoning", content}]}` (often a JSON string);
 * - older per-message span events: `gen_ai.system.message`, `gen_ai.user.message`,
 *   `gen_ai.assistant.message`, `gen_ai.tool.message`, `gen_ai.choice` (attributes `content`,
 *   `tool_calls`, `id`, `message`, `finish_reason`, `index`), and `gen_ai.content.prompt` /
 *   `gen_ai.content.completion` events holding `gen_ai.prompt` / `gen_ai.completion` JSON;
 * - indexed attributes: `gen_ai.prompt.N.role|content|tool_call_id`,
 *   `gen_ai.completion.N.role|content|finish_reason`, `...N.tool_calls.M.id|name|arguments`.
 * A tool call without an id gets `call_<n>`, and a result without one answers the oldest open call
 * (flag `tool_call_id_synthesised`). Parts follow the shared rule of content-parts.ts (media → a
 * typed placeholder, server-side tool calls skipped); several output messages are several choices:
 * the first is kept (flag `extra_choices`).
 */

type Result<T> = { ok: true; value: T } | { ok: false; drop: Drop };
const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const what = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

export { Conversation } from './message-builder.ts';

function args(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v ?? {});
}

/** One `{role, parts}` message (current conventions) into the conversation. */
function partsMessage(
  conv: Conversation,
  m: unknown,
  path: string,
  defaultRole: string,
): Result<string | null> {
  if (!isObj(m))
    return {
      ok: false,
      drop: { reason: 'SCHEMA_TYPE', detail: `${path}: expected a message object, got ${what(m)}` },
    };
  const role = typeof m.role === 'string' ? m.role : defaultRole;
  const parts = Array.isArray(m.parts)
    ? m.parts
    : typeof m.content === 'string'
      ? [{ type: 'text', content: m.content }]
      : null;
  if (!parts)
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_MISSING_FIELD',
        detail: `${path}.parts: expected a list of parts, got ${what(m.parts)}`,
      },
    };
  const pieces: Piece[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!isObj(p))
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_TYPE',
          detail: `${path}.parts[${i}]: expected a part object, got ${what(p)}`,
        },
      };
    if (p.type === 'tool_call' && (typeof p.name !== 'string' || p.name === ''))
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_MISSING_FIELD',
          detail: `${path}.parts[${i}].name: a tool call needs a name`,
        },
      };
    const r = readPart(p);
    for (const f of r.flags) conv.flags.add(f);
    if (r.piece.kind !== 'none') pieces.push(r.piece);
  }
  const canonical = canonicalRole(role);
  if (canonical === null)
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_ENUM',
        detail: `${path}.role: expected system, user, assistant or tool, got ${JSON.stringify(role)}`,
      },
    };
  // a user turn made only of server-side blocks holds nothing to keep
  if (canonical === 'user' && pieces.length === 0 && parts.length > 0) return { ok: true, value: null };
  conv.add(canonical, pieces);
  return { ok: true, value: typeof m.finish_reason === 'string' ? m.finish_reason : null };
}

/** A content attribute (JSON string or structured list) → a list, or a drop naming the attribute. */
function listAttr(v: unknown, path: string): Result<unknown[]> {
  const parsed = jsonish(v);
  if (!parsed.ok)
    return {
      ok: false,
      drop: { reason: 'SCHEMA_INVALID', detail: `${path}: is not valid JSON (${parsed.error})` },
    };
  if (Array.isArray(parsed.value)) return { ok: true, value: parsed.value };
  return {
    ok: false,
    drop: {
      reason: 'SCHEMA_TYPE',
      detail: `${path}: expected a list of messages, got ${what(parsed.value)}`,
    },
  };
}

/** Current conventions: system instructions + input + output messages; returns the output's finish reason. */
export function currentConventions(
  conv: Conversation,
  attrs: Record<string, unknown>,
  path: string,
): Result<string | null> {
  const sys = attrs['gen_ai.system_instructions'];
  if (sys !== undefined) {
    // a list of parts (often a JSON string); plain text that is not one ("[SYSTEM] ...") is the instruction itself
    const asList = listAttr(sys, `${path}["gen_ai.system_instructions"]`);
    const parts =
      typeof sys === 'string' && !asList.ok
        ? { ok: true as const, value: [{ type: 'text', content: sys }] }
        : asList;
    if (!parts.ok) return parts;
    const r = partsMessage(
      conv,
      { role: 'system', parts: parts.value },
      `${path}["gen_ai.system_instructions"]`,
      'system',
    );
    if (!r.ok) return r;
  }
  let finish: string | null = null;
  for (const [key, role] of [
    ['gen_ai.input.messages', 'user'],
    ['gen_ai.output.messages', 'assistant'],
  ] as const) {
    if (attrs[key] === undefined) continue;
    const list = listAttr(attrs[key], `${path}["${key}"]`);
    if (!list.ok) return list;
    let answers = 0;
    for (let i = 0; i < list.value.length; i++) {
      // several output messages are several choices: the first is the answer (OpenAI-log rule)
      if (key === 'gen_ai.output.messages') {
        const m = list.value[i];
        const r0 = isObj(m) && typeof m.role === 'string' ? m.role : role;
        if (canonicalRole(r0) === 'assistant' && answers++ > 0) {
          conv.flags.add('extra_choices');
          continue;
        }
      }
      const r = partsMessage(conv, list.value[i], `${path}["${key}"][${i}]`, role);
      if (!r.ok) return r;
      if (key === 'gen_ai.output.messages' && r.value !== null) finish ??= r.value;
    }
  }
  return { ok: true, value: finish };
}

/** OpenAI-style `tool_calls` (JSON string or list) → canonical tool calls. */
function toolCallsOf(conv: Conversation, v: unknown, path: string): Result<ToolCall[]> {
  if (v === undefined || v === null) return { ok: true, value: [] };
  const list = listAttr(v, path);
  if (!list.ok) return list;
  const out: ToolCall[] = [];
  for (let i = 0; i < list.value.length; i++) {
    const c = list.value[i];
    if (!isObj(c))
      return {
        ok: false,
        drop: { reason: 'SCHEMA_TYPE', detail: `${path}[${i}]: expected a tool call object, got ${what(c)}` },
      };
    const fn = isObj(c.function) ? c.function : c;
    if (typeof fn.name !== 'string' || fn.name === '')
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_MISSING_FIELD',
          detail: `${path}[${i}].function.name: a tool call needs a name`,
        },
      };
    out.push({
      id: conv.callId(c.id),
      type: 'function',
      function: { name: fn.name, arguments: args(fn.arguments) },
    });
  }
  return { ok: true, value: out };
}

/** One OpenAI-shaped message object (legacy event bodies, `gen_ai.prompt` JSON) into the conversation. */
function plainMessage(
  conv: Conversation,
  m: Record<string, unknown>,
  path: string,
  defaultRole: string,
): Result<null> {
  const role = typeof m.role === 'string' ? m.role : defaultRole;
  const content = m.content;
  if (content !== undefined && content !== null && typeof content !== 'string') {
    if (Array.isArray(content)) {
      const texts: string[] = [];
      for (let i = 0; i < content.length; i++) {
        const p = content[i];
        if (isObj(p) && p.type === 'text' && typeof p.text === 'string') texts.push(p.text);
        else
          return {
            ok: false,
            drop: {
              reason: 'SCHEMA_TYPE',
              detail: `${path}.content[${i}]: only text parts can be read, got ${JSON.stringify(isObj(p) ? p.type : what(p))}`,
            },
          };
      }
      return plainMessage(conv, { ...m, content: texts.join('') }, path, defaultRole);
    }
    return {
      ok: false,
      drop: { reason: 'SCHEMA_TYPE', detail: `${path}.content: expected a string, got ${what(content)}` },
    };
  }
  const text = typeof content === 'string' ? content : null;
  if (role === 'system' || role === 'developer') conv.push({ role: 'system', content: text ?? '' });
  else if (role === 'user') conv.push({ role: 'user', content: text ?? '' });
  else if (role === 'tool')
    conv.push({ role: 'tool', tool_call_id: conv.resultId(m.id ?? m.tool_call_id), content: text ?? '' });
  else if (role === 'assistant') {
    const calls = toolCallsOf(conv, m.tool_calls, `${path}.tool_calls`);
    if (!calls.ok) return calls;
    const out: ChatMessage = { role: 'assistant', content: text };
    if (calls.value.length > 0) out.tool_calls = calls.value;
    conv.push(out);
  } else {
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_ENUM',
        detail: `${path}.role: expected system, user, assistant or tool, got ${JSON.stringify(role)}`,
      },
    };
  }
  return { ok: true, value: null };
}

const EVENT_ROLES: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

/** True when a span event carries message content in one of the older styles. */
export function isContentEvent(name: string): boolean {
  return (
    name in EVENT_ROLES ||
    name === 'gen_ai.choice' ||
    name === 'gen_ai.content.prompt' ||
    name === 'gen_ai.content.completion'
  );
}

/** Older per-message events, in span order; returns the first choice's finish reason. */
export function eventConventions(
  conv: Conversation,
  events: ReadonlyArray<{ name: string; attrs: Record<string, unknown>; path: string }>,
): Result<string | null> {
  let finish: string | null = null;
  let choices = 0;
  for (const e of events) {
    const role = EVENT_ROLES[e.name];
    if (role) {
      const r = plainMessage(conv, e.attrs, `${e.path}.attributes`, role);
      if (!r.ok) return r;
    } else if (e.name === 'gen_ai.choice') {
      choices++;
      if (choices > 1) {
        conv.flags.add('extra_choices');
        continue;
      }
      const body =
        e.attrs['message'] !== undefined
          ? jsonish(e.attrs['message'])
          : { ok: true as const, value: e.attrs };
      if (!body.ok || !isObj(body.value))
        return {
          ok: false,
          drop: {
            reason: 'SCHEMA_INVALID',
            detail: `${e.path}.attributes.message: expected a message object${body.ok ? '' : ` (${body.error})`}`,
          },
        };
      const r = plainMessage(conv, body.value, `${e.path}.attributes`, 'assistant');
      if (!r.ok) return r;
      if (typeof e.attrs['finish_reason'] === 'string') finish = e.attrs['finish_reason'];
    } else if (e.name === 'gen_ai.content.prompt' || e.name === 'gen_ai.content.completion') {
      const key = e.name === 'gen_ai.content.prompt' ? 'gen_ai.prompt' : 'gen_ai.completion';
      const list = listAttr(e.attrs[key], `${e.path}.attributes["${key}"]`);
      if (!list.ok) return list;
      for (let i = 0; i < list.value.length; i++) {
        let m = list.value[i];
        // completions may be logged as choices: {index, finish_reason, message}
        if (isObj(m) && isObj(m.message)) {
          if (typeof m.finish_reason === 'string') finish ??= m.finish_reason;
          m = m.message;
        }
        if (!isObj(m))
          return {
            ok: false,
            drop: {
              reason: 'SCHEMA_TYPE',
              detail: `${e.path}.attributes["${key}"][${i}]: expected a message object, got ${what(m)}`,
            },
          };
        const r = plainMessage(
          conv,
          m,
          `${e.path}.attributes["${key}"][${i}]`,
          key === 'gen_ai.prompt' ? 'user' : 'assistant',
        );
        if (!r.ok) return r;
      }
    }
  }
  return { ok: true, value: finish };
}

/** Indexed `gen_ai.prompt.N.*` / `gen_ai.completion.N.*` attributes; returns completion 0's finish reason. */
export function indexedConventions(
  conv: Conversation,
  attrs: Record<string, unknown>,
  path: string,
): Result<string | null> {
  const collect = (prefix: string): Map<number, Record<string, unknown>> => {
    const out = new Map<number, Record<string, unknown>>();
    const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.(.+)$`);
    for (const [k, v] of Object.entries(attrs)) {
      const m = re.exec(k);
      if (!m) continue;
      const i = Number(m[1]);
      const rec = out.get(i) ?? {};
      rec[m[2] as string] = v;
      out.set(i, rec);
    }
    return new Map([...out.entries()].sort(([a], [b]) => a - b));
  };
  const asMessage = (rec: Record<string, unknown>): Record<string, unknown> => {
    const toolCalls = new Map<number, Record<string, unknown>>();
    for (const [k, v] of Object.entries(rec)) {
      const m = /^tool_calls\.(\d+)\.(.+)$/.exec(k);
      if (!m) continue;
      const i = Number(m[1]);
      const tc = toolCalls.get(i) ?? {};
      tc[m[2] as string] = v;
      toolCalls.set(i, tc);
    }
    const list = [...toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, tc]) => ({ id: tc['id'], function: { name: tc['name'], arguments: tc['arguments'] } }));
    return {
      role: rec['role'],
      content: rec['content'],
      id: rec['tool_call_id'],
      ...(list.length > 0 ? { tool_calls: list } : {}),
    };
  };
  for (const [i, rec] of collect('gen_ai.prompt')) {
    const r = plainMessage(conv, asMessage(rec), `${path}["gen_ai.prompt.${i}"]`, 'user');
    if (!r.ok) return r;
  }
  let finish: string | null = null;
  for (const [i, rec] of collect('gen_ai.completion')) {
    if (i > 0) {
      conv.flags.add('extra_choices');
      continue;
    }
    const r = plainMessage(conv, asMessage(rec), `${path}["gen_ai.completion.${i}"]`, 'assistant');
    if (!r.ok) return r;
    if (typeof rec['finish_reason'] === 'string') finish = rec['finish_reason'];
  }
  return { ok: true, value: finish };
}

/** `gen_ai.tool.definitions` (list or JSON string of `{type:"function", name, description, parameters}`) → ToolDefs. */
export function toolDefinitions(v: unknown, path: string): Result<ToolDef[]> {
  if (v === undefined || v === null) return { ok: true, value: [] };
  const list = listAttr(v, path);
  if (!list.ok) return list;
  const out: ToolDef[] = [];
  for (let i = 0; i < list.value.length; i++) {
    const t = list.value[i];
    const fn = isObj(t) && isObj(t.function) ? t.function : t;
    if (!isObj(fn) || typeof fn.name !== 'string' || fn.name === '')
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_MISSING_FIELD',
          detail: `${path}[${i}].name: a tool definition needs a name`,
        },
      };
    const def: ToolDef['function'] = { name: fn.name };
    if (typeof fn.description === 'string') def.description = fn.description;
    if (isObj(fn.parameters)) def.parameters = fn.parameters;
    out.push({ type: 'function', function: def });
  }
  return { ok: true, value: out };
}
