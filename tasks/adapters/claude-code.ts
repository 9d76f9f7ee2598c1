import type { ChatMessage } from '../../schemas/chat.ts';
import type { Adapter, AdapterContext, SessionGroup, SessionUnit } from './adapter.ts';
import { anthropicMessage, finishReasonOf, usageOf } from './anthropic-content.ts';
import { mergeFlags } from './row-flags.ts';
import { dropUnit, gapFlag, groupBy, oneLineSession } from './session.ts';
import { taskKeyFor } from './task-key.ts';

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const LINE_TYPES = new Set([
  'user',
  'assistant',
  'system',
  'summary',
  'file-history-snapshot',
  'queue-operation',
  'attachment',
  'progress',
  'last-prompt',
  'custom-title',
  'agent-name',
  'pr-link',
]);
const int = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);

/** A user / assistant line that reads, with its canonical messages. */
interface Turn {
  index: number;
  row: Record<string, unknown>;
  role: 'user' | 'assistant';
  messages: ChatMessage[];
  flags: string[];
}

/** The tool_use ids of an assistant line's content. */
function callIds(row: Record<string, unknown>): string[] {
  const c = isObj(row.message) ? row.message.content : undefined;
  return Array.isArray(c)
    ? c
        .filter((b) => isObj(b) && b.type === 'tool_use' && typeof b.id === 'string')
        .map((b) => b.id as string)
    : [];
}

/** The tool_use ids a user line answers, when it holds nothing but tool results; else null. */
function answeredIds(row: Record<string, unknown>): string[] | null {
  const c = isObj(row.message) ? row.message.content : undefined;
  if (!Array.isArray(c) || c.length === 0) return null;
  const ids: string[] = [];
  for (const b of c) {
    if (!isObj(b) || b.type !== 'tool_result' || typeof b.tool_use_id !== 'string') return null;
    ids.push(b.tool_use_id);
  }
  return ids;
}

/**
 * A session is a tree of lines linked by `parentUuid`. The conversation is the path from the last
 * main-line message (the leaf) back to the root, plus every tool result that answers a call on that
 * path: with parallel calls each result's parent is its own `tool_use` line, so all but one hang off
 * the path as siblings. When a parent is missing (its line was quarantined) the walk goes on from the
 * closest earlier main-line message, so a lost line costs that line, not the history before it.
 */
function mainChain(units: readonly SessionUnit[]): { chain: Set<number>; compacted: boolean } | null {
  const byUuid = new Map<string, SessionUnit>();
  for (const u of units) if (typeof u.row.uuid === 'string') byUuid.set(u.row.uuid, u);
  if (byUuid.size === 0) return null; // no uuids: read the file in order
  const convo = units.filter((u) => u.row.type === 'user' || u.row.type === 'assistant');
  const main = convo.filter((u) => u.row.isSidechain !== true);
  // a sub-agent file (agent-*.jsonl) is all sidechain: its own last message is the leaf
  const line = main.length > 0 ? main : convo;
  let at: SessionUnit | undefined = line.at(-1);
  const chain = new Set<number>();
  let compacted = false;
  while (at && !chain.has(at.index)) {
    chain.add(at.index);
    if (at.row.subtype === 'compact_boundary') compacted = true;
    const parent = at.row.parentUuid;
    const from: SessionUnit = at;
    at =
      typeof parent === 'string'
        ? (byUuid.get(parent) ?? line.filter((u) => u.index < from.index).at(-1))
        : undefined;
  }
  const calls = new Set(
    units.filter((u) => chain.has(u.index) && u.row.type === 'assistant').flatMap((u) => callIds(u.row)),
  );
  for (const u of line) {
    if (chain.has(u.index) || u.row.type !== 'user') continue;
    const ids = answeredIds(u.row);
    if (ids && ids.every((id) => calls.has(id))) chain.add(u.index);
  }
  return { chain, compacted };
}

/**
 * Tool messages moved right after the assistant turn that made their call (the lines of one API
 * response may interleave with the results of its first calls); the rest keeps its order.
 */
function placeResults(messages: readonly ChatMessage[]): ChatMessage[] {
  const owner = new Set<string>();
  for (const m of messages) if (m.role === 'assistant') for (const c of m.tool_calls ?? []) owner.add(c.id);
  const out: ChatMessage[] = [];
  const placed = new Set<number>();
  messages.forEach((m, i) => {
    if (m.role === 'tool' && owner.has(m.tool_call_id)) return;
    out.push(m);
    if (m.role !== 'assistant') return;
    for (const c of m.tool_calls ?? [])
      messages.forEach((r, j) => {
        if (r.role === 'tool' && r.tool_call_id === c.id && !placed.has(j)) {
          placed.add(j);
          out.push(r);
        }
      });
  });
  // a result whose call is in no turn was kept in place above; one whose call is, but was not placed, cannot exist
  return out;
}

/** Reads one user / assistant line; a line that cannot be read is dropped by itself. */
function readTurn(u: SessionUnit): Turn | SessionGroup {
  const m = u.row.message;
  if (!isObj(m))
    return dropUnit(
      u.index,
      m === undefined ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_TYPE',
      `$.message: a ${String(u.row.type)} line needs the Anthropic message object`,
    );
  const role = u.row.type as 'user' | 'assistant';
  const r = anthropicMessage({ role, content: m.content }, '$.message');
  if (!r.ok) return dropUnit(u.index, r.drop.reason, r.drop.detail);
  return { index: u.index, row: u.row, role, messages: r.value, flags: r.flags };
}

/** Lines of one API message (shared `message.id`) as one assistant turn. */
function mergeAssistant(into: ChatMessage, next: ChatMessage): ChatMessage {
  if (into.role !== 'assistant' || next.role !== 'assistant') return into;
  const content = [into.content, next.content]
    .filter((c): c is string => c !== null && c !== '')
    .join('\n\n');
  const calls = [...(into.tool_calls ?? []), ...(next.tool_calls ?? [])];
  const reasoning = [into.reasoning, next.reasoning]
    .filter((x): x is string => x !== undefined && x !== '')
    .join('\n\n');
  const out: ChatMessage = { role: 'assistant', content: content === '' ? null : content };
  if (calls.length > 0) out.tool_calls = calls;
  if (reasoning !== '') out.reasoning = reasoning;
  return out;
}

/**
 * Claude Code project sessions (`~/.claude/projects/<project>/<session>.jsonl`) → one run per file,
 * trace id `claude-code:<sessionId>` (sub-agent files add `:<agentId>`). The conversation is the
 * chain of `parentUuid` links from the last main-line message back to the start (abandoned
 * branches, sidechains and pre-compaction history are not on it: flag `branches_skipped`); lines of
 * one API message (same `message.id`) are merged into one assistant turn; `tool_result` blocks in
 * user turns become tool messages. Usage is summed over API messages (input + cache tokens);
 * `finish_reason` is the last message's mapped `stop_reason`; a final API error line becomes the
 * run's error. Summaries, snapshots and system lines are part of the run but hold no turns. A line
 * that cannot be read is quarantined by itself and the run is flagged `lines_missing`.
 */
function sessionRun(units: readonly SessionUnit[], suffix: string | null): SessionGroup[] {
  const groups: SessionGroup[] = [];
  const kept: number[] = [];
  const turns: Turn[] = [];
  for (const u of units) {
    const type = u.row.type;
    if (typeof type !== 'string') {
      groups.push(
        dropUnit(
          u.index,
          'SCHEMA_MISSING_FIELD',
          '$.type: every Claude Code line has a type (user, assistant, system, summary, ...)',
        ),
      );
      continue;
    }
    if (type === 'user' || type === 'assistant') {
      const t = readTurn(u);
      if ('output' in t) {
        groups.push(t);
        continue;
      }
      turns.push(t);
    }
    kept.push(u.index);
  }
  if (kept.length === 0) return groups;
  const keptSet = new Set(kept);
  // the chain runs over every line handed in (a dropped line still links its neighbours)
  const walked = mainChain(units);
  const chain = walked?.chain ?? null;
  const flags = new Set<string>(
    gapFlag(units.map((u) => u.index)).length > 0 || groups.length > 0 ? ['lines_missing'] : [],
  );
  if (walked?.compacted) flags.add('compacted');
  const messages: ChatMessage[] = [];
  const usageById = new Map<string, { prompt_tokens: number; completion_tokens: number }>();
  let model: string | null = null;
  let finish: string | null = null;
  let error: { type: string; message: string; status: number | null } | null = null;
  // the turn each API response (message.id + requestId) made since the last prompt of the user
  const turnById = new Map<string, number>();
  for (const t of turns) {
    if (chain && !chain.has(t.index)) {
      // abandoned branches, sidechains, history before a compaction
      flags.add('branches_skipped');
      continue;
    }
    const m = t.row.message as Record<string, unknown>;
    if (t.role === 'assistant' && m.model === '<synthetic>') {
      // Claude Code's own stand-in turns: an API error it reports, or a placeholder; never model output
      if (t.row.isApiErrorMessage === true) {
        const text = t.messages[0]?.role === 'assistant' ? (t.messages[0].content ?? '') : '';
        error = { type: 'api_error', message: text, status: null };
      } else flags.add('synthetic_skipped');
      continue;
    }
    for (const f of t.flags) flags.add(f);
    if (t.role === 'user') {
      messages.push(...t.messages);
      if (t.messages.some((x) => x.role === 'user')) turnById.clear();
      continue;
    }
    error = null; // the model answered after any earlier error
    const id = typeof m.id === 'string' ? `${m.id}\u0000${String(t.row.requestId ?? '')}` : null;
    const msg = t.messages[0] as ChatMessage;
    const at = id === null ? undefined : turnById.get(id);
    const continuation = at !== undefined;
    if (continuation) messages[at] = mergeAssistant(messages[at] as ChatMessage, msg);
    else {
      messages.push(msg);
      if (id !== null) turnById.set(id, messages.length - 1);
    }
    if (typeof m.model === 'string') model = m.model;
    // split lines of one message may carry the stop reason only on the last one
    if (typeof m.stop_reason === 'string') finish = finishReasonOf(m.stop_reason);
    else if (!continuation) finish = null;
    if (isObj(m.usage)) {
      const u = m.usage;
      usageById.set(
        id ?? `line-${t.index}`,
        usageOf({
          input_tokens: int(u.input_tokens),
          output_tokens: int(u.output_tokens),
          cache_creation_input_tokens: int(u.cache_creation_input_tokens),
          cache_read_input_tokens: int(u.cache_read_input_tokens),
        }),
      );
    }
  }
  const rows = units.filter((u) => keptSet.has(u.index)).map((u) => u.row);
  const sessionIds = [
    ...new Set(rows.map((r) => r.sessionId).filter((s): s is string => typeof s === 'string' && s !== '')),
  ];
  if (sessionIds.length > 1) flags.add('multiple_session_ids');
  if (!messages.some((m) => m.role === 'assistant')) {
    const detail =
      turns.length === 0
        ? `no user or assistant line among ${kept.length} (only ${[...new Set(rows.map((r) => String(r.type)))].sort().join(', ')})`
        : 'no assistant turn on the main conversation';
    const none: SessionGroup = { units: kept, output: { type: 'drop', reason: 'NO_CONVERSATION', detail } };
    return [...groups, none].sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
  }
  const agentId = rows.find((r) => typeof r.agentId === 'string')?.agentId as string | undefined;
  const allSidechain = turns.length > 0 && turns.every((t) => t.row.isSidechain === true);
  const session = sessionIds[0] ?? 'unknown-session';
  const firstTs = rows.find((r) => typeof r.timestamp === 'string')?.timestamp ?? null;
  const usage =
    usageById.size === 0
      ? null
      : [...usageById.values()].reduce(
          (a, u) => ({
            prompt_tokens: a.prompt_tokens + u.prompt_tokens,
            completion_tokens: a.completion_tokens + u.completion_tokens,
          }),
          { prompt_tokens: 0, completion_tokens: 0 },
        );
  if (rows.some((r) => !LINE_TYPES.has(String(r.type)))) flags.add('unknown_line_types');
  groups.push({
    units: kept,
    output: {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: `claude-code:${session}${suffix !== null ? `:${suffix}` : allSidechain && agentId ? `:${agentId}` : ''}`,
          task_key: taskKeyFor(null, messages),
          recorded_at: firstTs,
          flags: mergeFlags([...flags]),
          run: {
            messages: placeResults(messages),
            tools: [], // sessions do not record the tool definitions
            model,
            provider: 'anthropic',
            tier: 'cloud',
            usage,
            latency_ms: null,
            finish_reason: error ? null : finish,
            error,
            escalated_from: null,
          },
        },
      ],
    },
  });
  return groups.sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
}

/**
 * Claude Code session file → runs. The main conversation is one run; sidechain conversations kept
 * in the same file (older versions wrote a Task sub-agent's lines there, `isSidechain: true`) are
 * each their own run `claude-code:<sessionId>:<agentId | first uuid>`, grouped by the root their
 * `parentUuid` links lead to. Bookkeeping lines stay with the main run.
 */
function claudeCodeFile(units: readonly SessionUnit[], _ctx: Omit<AdapterContext, 'index'>): SessionGroup[] {
  const isConvo = (u: SessionUnit): boolean => u.row.type === 'user' || u.row.type === 'assistant';
  const side = units.filter((u) => isConvo(u) && u.row.isSidechain === true);
  if (side.length === 0 || side.length === units.filter(isConvo).length) return sessionRun(units, null);
  const byUuid = new Map<string, SessionUnit>();
  for (const u of side) if (typeof u.row.uuid === 'string') byUuid.set(u.row.uuid, u);
  const rootOf = (u: SessionUnit): SessionUnit => {
    let at = u;
    const seen = new Set<number>();
    while (!seen.has(at.index)) {
      seen.add(at.index);
      const p = typeof at.row.parentUuid === 'string' ? byUuid.get(at.row.parentUuid) : undefined;
      if (!p) break;
      at = p;
    }
    return at;
  };
  const groupsOf = groupBy(side, (u) => String(rootOf(u).index));
  const sideSet = new Set(side.map((u) => u.index));
  const out = sessionRun(
    units.filter((u) => !sideSet.has(u.index)),
    null,
  );
  for (const list of groupsOf.values()) {
    const root = rootOf(list[0] as SessionUnit);
    const agent = list.map((u) => u.row.agentId).find((a) => typeof a === 'string' && a !== '');
    out.push(
      ...sessionRun(
        list,
        typeof agent === 'string' ? agent : `sidechain-${String(root.row.uuid ?? root.index)}`,
      ),
    );
  }
  return out.sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
}

/** One line's fit: a typed Claude Code event with its session bookkeeping keys. */
function sniffLine(row: Record<string, unknown>): { confidence: number; reason: string } {
  const type = row.type;
  if (typeof type !== 'string' || !LINE_TYPES.has(type))
    return { confidence: 0, reason: 'no Claude Code line type (user, assistant, system, summary, ...)' };
  if (type === 'summary')
    return 'leafUuid' in row
      ? { confidence: 1, reason: 'Claude Code summary line (leafUuid)' }
      : { confidence: 0.3, reason: 'type summary without leafUuid' };
  if (type === 'file-history-snapshot')
    return {
      confidence: 'snapshot' in row || 'messageId' in row ? 1 : 0.3,
      reason: 'Claude Code file-history snapshot line',
    };
  // bookkeeping lines carry the session id and a key of their own
  const own: Record<string, string[]> = {
    'queue-operation': ['operation'],
    'last-prompt': ['lastPrompt', 'leafUuid'],
    progress: ['data', 'toolUseID', 'parentToolUseID'],
    'custom-title': ['customTitle'],
    'agent-name': ['agentName'],
    'pr-link': ['prNumber', 'prUrl'],
  };
  if (own[type]) {
    const has = (own[type] as string[]).some((k) => k in row) && typeof row.sessionId === 'string';
    return {
      confidence: has ? 1 : 0.3,
      reason: `Claude Code ${type} line${has ? '' : ' without its keys'}`,
    };
  }
  const keys = ['uuid', 'parentUuid', 'sessionId', 'timestamp'];
  const present =
    keys.filter((k) => Object.hasOwn(row, k)).length +
    (type === 'user' || type === 'assistant' ? (isObj(row.message) ? 1 : 0) : 1);
  return {
    confidence: Math.round((present / (keys.length + 1)) * 100) / 100,
    reason: `Claude Code ${type} line with ${present}/${keys.length + 1} of uuid, parentUuid, sessionId, timestamp, message`,
  };
}

/** Claude Code session files → one run per file (session shape). */
export const claudeCode: Adapter = {
  name: 'claude-code',
  description:
    'Claude Code project sessions (~/.claude/projects/<project>/<session>.jsonl): one event per line, the whole file is one run',
  shape: 'jsonl-session',
  sniff: sniffLine,
  toEvidence: oneLineSession(claudeCodeFile),
  toEvidenceFile: claudeCodeFile,
};
