import { readStructuredOutput, type OutputRead } from './any-output.ts';
import { isObj, LC_ROLES, readMessage, what, type Read } from './loose-chat.ts';

/*
 * Reading one model output lives apart from loose-chat.ts: a structured output (any-output.ts)
 * holds a conversation that loose-chat.ts reads, so keeping the two in one module would make an
 * import circle.
 */

/** The finish reason a LangChain generation or message carries, if any. */
function finishOf(gen: Record<string, unknown>): string | null {
  const info = isObj(gen.generation_info) ? gen.generation_info : {};
  if (typeof info.finish_reason === 'string') return info.finish_reason;
  const msg = isObj(gen.message) ? (isObj(gen.message.kwargs) ? gen.message.kwargs : gen.message) : {};
  const meta = isObj(msg.response_metadata) ? msg.response_metadata : {};
  if (typeof meta.finish_reason === 'string') return meta.finish_reason;
  if (typeof meta.stop_reason === 'string') return meta.stop_reason;
  return null;
}

/**
 * One model output → the assistant message and its finish reason: a string, a message (OpenAI or
 * LangChain), `{choices:[{message, finish_reason}]}`, `{generations:[[{message | text}]]}`, or
 * `{output | content: string}`.
 */
export function readOutput(v: unknown, path: string): Read<OutputRead> {
  const structured = readStructuredOutput(v, path);
  if (structured) return structured;
  if (typeof v === 'string')
    return { ok: true, value: { message: { role: 'assistant', content: v }, finish: null }, flags: [] };
  if (!isObj(v))
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_TYPE',
        detail: `${path}: expected a model output (string, message, choices or generations), got ${what(v)}`,
      },
    };
  if (Array.isArray(v.choices)) {
    const c = v.choices[0];
    if (!isObj(c))
      return { ok: false, drop: { reason: 'SCHEMA_MISSING_FIELD', detail: `${path}.choices[0]: no choice` } };
    const m = readMessage(c.message, `${path}.choices[0].message`);
    if (!m.ok) return m;
    return {
      ok: true,
      value: { message: m.value, finish: typeof c.finish_reason === 'string' ? c.finish_reason : null },
      flags: v.choices.length > 1 ? ['extra_choices'] : [],
    };
  }
  if (Array.isArray(v.generations)) {
    const first = Array.isArray(v.generations[0]) ? v.generations[0][0] : v.generations[0];
    if (!isObj(first))
      return {
        ok: false,
        drop: { reason: 'SCHEMA_MISSING_FIELD', detail: `${path}.generations[0][0]: no generation` },
      };
    if (isObj(first.message)) {
      const m = readMessage(first.message, `${path}.generations[0][0].message`);
      if (!m.ok) return m;
      return { ok: true, value: { message: m.value, finish: finishOf(first) }, flags: m.flags };
    }
    if (typeof first.text === 'string')
      return {
        ok: true,
        value: { message: { role: 'assistant', content: first.text }, finish: finishOf(first) },
        flags: [],
      };
    return {
      ok: false,
      drop: {
        reason: 'SCHEMA_MISSING_FIELD',
        detail: `${path}.generations[0][0]: has neither message nor text`,
      },
    };
  }
  if ('role' in v || 'lc' in v || (typeof v.type === 'string' && LC_ROLES[v.type] !== undefined)) {
    const m = readMessage(v, path);
    if (!m.ok) return m;
    if (m.value.role !== 'assistant')
      return {
        ok: false,
        drop: {
          reason: 'SCHEMA_ENUM',
          detail: `${path}: the output message has role ${m.value.role}, expected assistant`,
        },
      };
    return { ok: true, value: { message: m.value, finish: null }, flags: m.flags };
  }
  for (const k of ['output', 'content', 'text', 'answer', 'completion'] as const) {
    if (typeof v[k] === 'string')
      return {
        ok: true,
        value: { message: { role: 'assistant', content: v[k] as string }, finish: null },
        flags: [],
      };
  }
  return {
    ok: false,
    drop: {
      reason: 'SCHEMA_TYPE',
      detail: `${path}: an object that is not a model output (no message, choices, generations or output text); keys: ${Object.keys(v).slice(0, 8).join(', ')}`,
    },
  };
}
