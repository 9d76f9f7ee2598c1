import type { Drop } from '../lib/result.ts';
import { encodeArgs, readPart, type Piece } from './content-parts.ts';
import { canonicalRole, type Conversation } from './message-builder.ts';

/**
 * One message of any shape an LLM framework logs (other than LangChain's serialisations, read in
 * loose-chat.ts) into a Conversation:
 * - OpenAI Chat: `{role, content: string | parts, tool_calls?, tool_call_id?}`, LangChain-dict
 *   extras (`additional_kwargs.tool_calls`), the legacy `function_call` / `role: "function"`;
 * - OpenAI Responses input / output items: `{type:"message", role, content:[input_text | ...]}`,
 *   `function_call`, `function_call_output`, `custom_tool_call(_output)`, `reasoning`, and the
 *   provider-run calls (`web_search_call`, ...: skipped, flag `server_tool_calls_skipped`);
 * - OpenTelemetry GenAI (pydantic-ai, Microsoft Agent Framework): `{role, parts:[{type, ...}]}`;
 * - Gemini `contents`: `{role: "user" | "model", parts:[{text} | {functionCall} | ...]}`;
 * - Vercel AI SDK: `{role, content:[{type:"text"} | {type:"tool-call"} | {type:"tool-result"}]}`;
 * - Anthropic: `{role, content:[text | tool_use | tool_result | thinking | ...]}`.
 * Parts follow content-parts.ts. A `role: "tool"` message without a call id is read for what it
 * holds: a tool definition (LangGraph logs the offered tools so) goes to the run's tools, a JSON
 * list of OpenAI tool calls (Koog logs the model's calls so) becomes the assistant's calls, and
 * anything else answers the oldest open call.
 */

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const what = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** Responses item types the provider runs itself (no client result follows). */
const SERVER_ITEMS = new Set([
  'web_search_call',
  'file_search_call',
  'code_interpreter_call',
  'image_generation_call',
  'mcp_call',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'item_reference',
]);

/** Client tool call items of the Responses API (with `call_id`) and their outputs. */
const CALL_ITEMS = new Set(['function_call', 'custom_tool_call', 'local_shell_call', 'computer_call']);
const OUTPUT_ITEMS = new Set([
  'function_call_output',
  'custom_tool_call_output',
  'local_shell_call_output',
  'computer_call_output',
]);

function readParts(list: readonly unknown[], conv: Conversation): Piece[] {
  const out: Piece[] = [];
  for (const p of list) {
    const r = readPart(p);
    for (const f of r.flags) conv.flags.add(f);
    if (r.piece.kind !== 'none') out.push(r.piece);
  }
  return out;
}

/** A tool definition as frameworks log it (OpenAI `{type, function}`, flat `{name, parameters}`, Vercel `inputSchema`). */
export function toolDefOf(v: unknown): {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
} | null {
  let t = v;
  if (typeof t === 'string') {
    try {
      t = JSON.parse(t);
    } catch {
      return null;
    }
  }
  if (!isObj(t)) return null;
  const fn = isObj(t.function) ? t.function : t;
  if (typeof fn.name !== 'string' || fn.name === '') return null;
  if (
    !isObj(t.function) &&
    t.type !== 'function' &&
    !['parameters', 'inputSchema', 'input_schema', 'parameters_json_schema'].some((k) => k in fn)
  )
    return null;
  const out: { name: string; description?: string; parameters?: Record<string, unknown> } = { name: fn.name };
  if (typeof fn.description === 'string') out.description = fn.description;
  const params = fn.parameters ?? fn.inputSchema ?? fn.input_schema ?? fn.parameters_json_schema;
  if (isObj(params)) out.parameters = params;
  return { type: 'function', function: out };
}

/** OpenAI-style tool calls (`[{id, function:{name, arguments}}]`) → call pieces, or null when not such a list. */
function openaiCalls(v: unknown): Piece[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const out: Piece[] = [];
  for (const c of v) {
    if (!isObj(c)) return null;
    const fn = isObj(c.function) ? c.function : c;
    if (typeof fn.name !== 'string' || fn.name === '') return null;
    out.push({
      kind: 'call',
      id: typeof c.id === 'string' && c.id !== '' ? c.id : null,
      name: fn.name,
      args: encodeArgs(fn.arguments ?? fn.args),
    });
  }
  return out;
}

function parseJson(s: string): unknown {
  const t = s.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** A `role: "tool"` message without a call id: a tool definition, the model's calls, or a result. */
function idlessTool(conv: Conversation, content: unknown): boolean {
  const parsed = typeof content === 'string' ? parseJson(content) : content;
  const def = toolDefOf(parsed);
  if (def && isObj(parsed) && (isObj(parsed.function) || parsed.type === 'function')) {
    conv.addTool(def);
    return true;
  }
  const calls = openaiCalls(parsed);
  if (calls) {
    conv.calls(calls as Array<{ id: string | null; name: string; args: string }>);
    return true;
  }
  return false;
}

/** Adds one message of any supported shape; returns a drop when it cannot be read. */
export function addAnyMessage(
  conv: Conversation,
  v: unknown,
  path: string,
  defaultRole?: string,
): Drop | null {
  if (!isObj(v))
    return { reason: 'SCHEMA_TYPE', detail: `${path}: expected a message object, got ${what(v)}` };
  const type = typeof v.type === 'string' ? v.type : null;
  // Responses items that are not messages
  if (type !== null && type !== 'message' && !('role' in v)) {
    if (CALL_ITEMS.has(type) || type === 'tool-call') {
      const r = readPart({ ...v, type: 'function_call', arguments: v.arguments ?? v.input ?? v.action });
      if (r.piece.kind === 'call') {
        conv.calls([r.piece]);
        return null;
      }
      return { reason: 'SCHEMA_MISSING_FIELD', detail: `${path}.name: a tool call needs a name` };
    }
    if (OUTPUT_ITEMS.has(type) || type === 'tool-result') {
      const r = readPart({ ...v, type: 'function_call_output' });
      conv.add('tool', [r.piece], {});
      return null;
    }
    if (type === 'reasoning') {
      const summary = Array.isArray(v.summary) ? v.summary : Array.isArray(v.content) ? v.content : [];
      const texts = readParts(summary, conv)
        .filter((p) => p.kind === 'text' || p.kind === 'reasoning')
        .map((p) => (p as { text: string }).text);
      if (texts.length > 0) conv.reasoning(texts.join('\n\n'));
      else conv.flags.add('redacted_thinking');
      return null;
    }
    if (SERVER_ITEMS.has(type)) {
      conv.flags.add('server_tool_calls_skipped');
      return null;
    }
  }
  const roleName = v.role ?? defaultRole;
  // LangGraph.js logs a tool's result under the tool's name as its role, without a call id
  const answers = typeof roleName === 'string' ? conv.openCallNamed(roleName) : null;
  const role = answers !== null ? 'tool' : canonicalRole(roleName);
  if (role === null)
    return roleName === undefined
      ? {
          reason: 'SCHEMA_MISSING_FIELD',
          detail: `${path}.role: a message needs a role (or a type such as function_call); keys: ${Object.keys(v).slice(0, 8).join(', ')}`,
        }
      : {
          reason: 'SCHEMA_ENUM',
          detail: `${path}.role: expected system, user, assistant or tool, got ${JSON.stringify(roleName)}`,
        };
  const sep = '';
  let pieces: Piece[];
  const raw = Array.isArray(v.parts) ? v.parts : v.content;
  if (role === 'tool' && typeof v.tool_call_id !== 'string' && !Array.isArray(raw) && idlessTool(conv, raw))
    return null;
  if (typeof raw === 'string') pieces = [{ kind: 'text', text: raw }];
  else if (Array.isArray(raw)) pieces = readParts(raw, conv);
  else if (raw === undefined || raw === null) pieces = [];
  else if (role === 'tool') pieces = [{ kind: 'text', text: JSON.stringify(raw) }];
  else if (isObj(raw) && Array.isArray(raw.parts)) pieces = readParts(raw.parts, conv);
  else
    return {
      reason: 'SCHEMA_TYPE',
      detail: `${path}.content: expected a string or a list of parts, got ${what(raw)}`,
    };
  if (role === 'assistant') {
    const extra = isObj(v.additional_kwargs) ? v.additional_kwargs : {};
    const calls =
      openaiCalls(v.tool_calls) ??
      openaiCalls(extra.tool_calls) ??
      (isObj(v.function_call) ? openaiCalls([v.function_call]) : null) ??
      [];
    pieces = [...pieces.filter((p) => p.kind !== 'call' || calls.length === 0), ...calls];
    for (const k of ['reasoning_content', 'reasoning']) {
      const r = v[k] ?? extra[k];
      if (typeof r === 'string' && r !== '') pieces.push({ kind: 'reasoning', text: r });
    }
    if (!pieces.some((p) => p.kind === 'text') && typeof v.refusal === 'string' && calls.length === 0) {
      pieces.push({ kind: 'text', text: v.refusal });
      conv.flags.add('refusal');
    }
  }
  if (role === 'tool' && v.status === 'error') conv.flags.add('tool_error');
  conv.add(role, pieces, {
    sep,
    toolCallId: v.tool_call_id ?? v.call_id ?? answers,
    joinable: type === 'message',
  });
  return null;
}
