import { posix } from 'node:path';
import type { ChatMessage, ToolCall } from '../../schemas/chat.ts';
import { readPart } from './content-parts.ts';
import type { Adapter, AdapterContext, SessionGroup, SessionUnit } from './adapter.ts';
import { mergeFlags } from './row-flags.ts';
import { dropUnit, gapFlag, oneLineSession } from './session.ts';
import { taskKeyFor } from './task-key.ts';

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const LINE_TYPES = new Set(['session_meta', 'turn_context', 'response_item', 'event_msg', 'compacted']);
const SKIPPED_ITEMS = new Set(['web_search_call', 'ghost_snapshot', 'image_generation_call']);
/** User messages Codex injects itself (environment, AGENTS.md); not the task, so not the task key. */
const INJECTED = /^\s*(<environment_context>|<user_instructions>|# AGENTS\.md instructions)/;
const LOCAL_PROVIDERS = new Set(['ollama', 'lmstudio', 'oss']);

type Item = { ok: true; index: number; apply: (s: State) => void } | SessionGroup;

interface State {
  messages: ChatMessage[];
  reasoning: string[];
  flags: Set<string>;
  model: string | null;
  provider: string | null;
  sessionId: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  error: { type: string; message: string; status: number | null } | null;
}

/** Message text: a string or `input_text` / `output_text` parts; images are refused. */
function partsText(
  content: unknown,
  path: string,
): { ok: true; text: string } | { ok: false; reason: string; detail: string } {
  if (typeof content === 'string') return { ok: true, text: content };
  if (!Array.isArray(content))
    return { ok: false, reason: 'SCHEMA_TYPE', detail: `${path}: expected a string or a list of parts` };
  const texts: string[] = [];
  for (let i = 0; i < content.length; i++) {
    const p = content[i];
    // text parts as they are; images and files a typed placeholder (the shared part rule)
    const r = readPart(p);
    if (r.piece.kind === 'text') texts.push(r.piece.text);
  }
  return { ok: true, text: texts.join('') };
}

/** Attaches a call to the assistant turn just made, or opens a tool-call-only turn. */
function addCall(s: State, call: ToolCall): void {
  const last = s.messages.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls = [...(last.tool_calls ?? []), call];
    return;
  }
  const m: ChatMessage = { role: 'assistant', content: null, tool_calls: [call] };
  if (s.reasoning.length > 0) m.reasoning = s.reasoning.splice(0).join('\n\n');
  s.messages.push(m);
}

function outputText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return JSON.stringify(v ?? null);
}

/** One response_item payload → how it changes the conversation, or a drop of its line. */
function responseItem(index: number, p: Record<string, unknown>): Item {
  const need = (k: string): SessionGroup | null =>
    typeof p[k] === 'string' && p[k] !== ''
      ? null
      : dropUnit(
          index,
          p[k] === undefined ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_TYPE',
          `$.payload.${k}: a ${String(p.type)} item needs a non-empty string ${k}`,
        );
  switch (p.type) {
    case 'message': {
      const t = partsText(p.content, '$.payload.content');
      if (!t.ok) return dropUnit(index, t.reason, t.detail);
      const role = p.role;
      if (role === 'user')
        return { ok: true, index, apply: (s) => void s.messages.push({ role: 'user', content: t.text }) };
      if (role === 'developer' || role === 'system')
        return { ok: true, index, apply: (s) => void s.messages.push({ role: 'system', content: t.text }) };
      if (role === 'assistant') {
        return {
          ok: true,
          index,
          apply: (s) => {
            const m: ChatMessage = { role: 'assistant', content: t.text };
            if (s.reasoning.length > 0) m.reasoning = s.reasoning.splice(0).join('\n\n');
            s.messages.push(m);
            s.error = null;
          },
        };
      }
      return dropUnit(
        index,
        'SCHEMA_ENUM',
        `$.payload.role: expected user, assistant, developer or system, got ${JSON.stringify(role)}`,
      );
    }
    case 'function_call':
    case 'custom_tool_call': {
      const bad = need('name') ?? need('call_id');
      if (bad) return bad;
      const args =
        p.type === 'function_call'
          ? typeof p.arguments === 'string'
            ? p.arguments
            : JSON.stringify(p.arguments ?? {})
          : JSON.stringify({ input: p.input ?? '' });
      return {
        ok: true,
        index,
        apply: (s) =>
          addCall(s, {
            id: p.call_id as string,
            type: 'function',
            function: { name: p.name as string, arguments: args },
          }),
      };
    }
    case 'local_shell_call': {
      const bad = need('call_id');
      if (bad) return bad;
      return {
        ok: true,
        index,
        apply: (s) =>
          addCall(s, {
            id: p.call_id as string,
            type: 'function',
            function: { name: 'local_shell', arguments: JSON.stringify(p.action ?? {}) },
          }),
      };
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
    case 'local_shell_call_output': {
      const bad = need('call_id');
      if (bad) return bad;
      return {
        ok: true,
        index,
        apply: (s) =>
          void s.messages.push({
            role: 'tool',
            tool_call_id: p.call_id as string,
            content: outputText(p.output),
          }),
      };
    }
    case 'reasoning': {
      const texts = [
        ...(Array.isArray(p.summary) ? p.summary : []),
        ...(Array.isArray(p.content) ? p.content : []),
      ]
        .map((x) => (isObj(x) && typeof x.text === 'string' ? x.text : null))
        .filter((x): x is string => x !== null && x !== '');
      return { ok: true, index, apply: (s) => void s.reasoning.push(...texts) };
    }
    default:
      return {
        ok: true,
        index,
        apply: (s) =>
          void s.flags.add(SKIPPED_ITEMS.has(String(p.type)) ? 'items_skipped' : 'unknown_item_types'),
      };
  }
}

/** ResponseItem types, which older rollouts wrote bare (without the `{type, payload}` wrapper). */
const ITEM_TYPES = new Set([
  'message',
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'local_shell_call',
  'local_shell_call_output',
  'reasoning',
  ...SKIPPED_ITEMS,
]);

/** An older rollout's first line: `{id, timestamp, instructions}` without a type. */
const isLegacyMeta = (r: Record<string, unknown>): boolean =>
  r.type === undefined && typeof r.id === 'string' && 'timestamp' in r && 'instructions' in r;

/** One line → its effect on the session, or a drop of the line. */
function lineItem(u: SessionUnit): Item {
  const { type, payload } = u.row;
  if (isLegacyMeta(u.row)) return lineItem({ index: u.index, row: { type: 'session_meta', payload: u.row } });
  if (u.row.record_type === 'state') return { ok: true, index: u.index, apply: () => undefined }; // older rollouts' resume bookkeeping
  if (typeof type === 'string' && ITEM_TYPES.has(type) && payload === undefined)
    return responseItem(u.index, u.row);
  if (typeof type !== 'string')
    return dropUnit(
      u.index,
      'SCHEMA_MISSING_FIELD',
      '$.type: every rollout line has a type (session_meta, turn_context, response_item, event_msg)',
    );
  if (!LINE_TYPES.has(type))
    return { ok: true, index: u.index, apply: (s) => void s.flags.add('unknown_line_types') };
  if (!isObj(payload))
    return dropUnit(
      u.index,
      payload === undefined ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_TYPE',
      `$.payload: a ${type} line needs a payload object`,
    );
  switch (type) {
    case 'session_meta':
      return {
        ok: true,
        index: u.index,
        apply: (s) => {
          if (typeof payload.id === 'string' && payload.id !== '') {
            if (s.sessionId !== null && s.sessionId !== payload.id) s.flags.add('multiple_session_ids');
            s.sessionId ??= payload.id;
          }
          if (typeof payload.model_provider === 'string') s.provider = payload.model_provider;
        },
      };
    case 'turn_context':
      return {
        ok: true,
        index: u.index,
        apply: (s) => void (typeof payload.model === 'string' ? (s.model = payload.model) : null),
      };
    case 'compacted':
      return { ok: true, index: u.index, apply: (s) => void s.flags.add('compacted') };
    case 'event_msg':
      return {
        ok: true,
        index: u.index,
        apply: (s) => {
          if (
            payload.type === 'token_count' &&
            isObj(payload.info) &&
            isObj(payload.info.total_token_usage)
          ) {
            // cumulative over the session: the last count is the session's total
            const t = payload.info.total_token_usage;
            if (typeof t.input_tokens === 'number' && typeof t.output_tokens === 'number')
              s.usage = { prompt_tokens: t.input_tokens, completion_tokens: t.output_tokens };
          } else if (payload.type === 'error' && typeof payload.message === 'string') {
            s.error = { type: 'codex_error', message: payload.message, status: null };
          } else if (payload.type === 'turn_aborted') {
            s.flags.add('turn_aborted');
          }
        },
      };
    default:
      return responseItem(u.index, payload);
  }
}

/**
 * Codex rollouts (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`) → one run per file, trace id
 * `codex:<session id>`. `response_item` lines make the conversation: messages (developer → system),
 * `function_call` / `custom_tool_call` / `local_shell_call` → tool calls on the assistant turn just
 * made, their `*_output` → tool messages, `reasoning` summaries → the next assistant turn's
 * `reasoning`. The model comes from `turn_context`, usage from the last (cumulative)
 * `token_count` event; an `error` event after the last answer is the run's error. A line that
 * cannot be read is quarantined by itself and the run is flagged `lines_missing`.
 */
function codexFile(units: readonly SessionUnit[], ctx: Omit<AdapterContext, 'index'>): SessionGroup[] {
  const groups: SessionGroup[] = [];
  const kept: number[] = [];
  const state: State = {
    messages: [],
    reasoning: [],
    flags: new Set(),
    model: null,
    provider: null,
    sessionId: null,
    usage: null,
    error: null,
  };
  for (const u of units) {
    const item = lineItem(u);
    if ('output' in item) {
      groups.push(item);
      continue;
    }
    item.apply(state);
    kept.push(u.index);
  }
  if (kept.length === 0) return groups;
  if (gapFlag(units.map((u) => u.index)).length > 0 || groups.length > 0) state.flags.add('lines_missing');
  if (!state.messages.some((m) => m.role === 'assistant')) {
    const none: SessionGroup = {
      units: kept,
      output: {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: `no assistant message among ${kept.length} rollout lines`,
      },
    };
    return [...groups, none].sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
  }
  const keptSet = new Set(kept);
  const firstTs =
    units.find((u) => keptSet.has(u.index) && typeof u.row.timestamp === 'string')?.row.timestamp ?? null;
  const session =
    state.sessionId ??
    posix
      .basename(ctx.sourceFile)
      .replace(/\.gz$/i, '')
      .replace(/\.jsonl$/i, '');
  if (state.sessionId === null) state.flags.add('no_session_meta');
  const provider = state.provider ?? 'openai';
  const keyed = state.messages.filter((m) => !(m.role === 'user' && INJECTED.test(m.content)));
  groups.push({
    units: kept,
    output: {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: `codex:${session}`,
          task_key: taskKeyFor(null, keyed),
          recorded_at: firstTs,
          flags: mergeFlags([...state.flags]),
          run: {
            messages: state.messages,
            tools: [], // rollouts do not record the tool definitions
            model: state.model,
            provider,
            tier: LOCAL_PROVIDERS.has(provider)
              ? 'local'
              : provider === 'openai' || provider === 'azure'
                ? 'cloud'
                : 'unknown',
            usage: state.usage,
            latency_ms: null,
            finish_reason: null,
            error: state.error,
            escalated_from: null,
          },
        },
      ],
    },
  });
  return groups.sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
}

/**
 * One line's fit: `{timestamp, type, payload}` with a rollout line type. Lines of older rollouts
 * (bare ResponseItems) score only 0.5: other formats have `type: "message"` lines too, so `auto`
 * does not guess them; name the adapter for such files.
 */
function sniffLine(row: Record<string, unknown>): { confidence: number; reason: string } {
  if (
    isLegacyMeta(row) ||
    row.record_type === 'state' ||
    (typeof row.type === 'string' && ITEM_TYPES.has(row.type) && !('payload' in row))
  ) {
    return {
      confidence: 0.5,
      reason: 'an older Codex rollout line (no {type, payload} wrapper), or another format',
    };
  }
  if (typeof row.type !== 'string' || !LINE_TYPES.has(row.type))
    return {
      confidence: 0,
      reason: 'no Codex rollout line type (session_meta, turn_context, response_item, event_msg)',
    };
  const present = (isObj(row.payload) ? 1 : 0) + (typeof row.timestamp === 'string' ? 1 : 0);
  return {
    confidence: Math.round(((present + 1) / 3) * 100) / 100,
    reason: `Codex ${row.type} line with ${present}/2 of payload, timestamp`,
  };
}

/** Codex rollout files → one run per file (session shape). */
export const codex: Adapter = {
  name: 'codex',
  description:
    'Codex CLI rollouts (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl): session_meta / turn_context / response_item / event_msg lines, the whole file is one run',
  shape: 'jsonl-session',
  sniff: sniffLine,
  toEvidence: oneLineSession(codexFile),
  toEvidenceFile: codexFile,
};
