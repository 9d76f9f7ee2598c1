import type { ChatMessage, ToolDef } from '../../schemas/chat.ts';
import type { Adapter, AdapterContext, EvidenceDraft, SessionGroup, SessionUnit } from './adapter.ts';
import { toolDefOf } from './any-message.ts';
import { parseJsonText, readInputMessages, readOutputMessage } from './conversation-io.ts';
import { utcIfNaive } from './naive-time.ts';
import { evaluatorSignal, humanScoreSignal } from './outcome-labels.ts';
import { mergeFlags } from './row-flags.ts';
import { dropUnit, groupBy, oneLineSession } from './session.ts';
import { taskKeyFor } from './task-key.ts';

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Public-API (camelCase) names of the fields the blob export writes in snake_case. */
const CAMEL: Record<string, string> = {
  traceId: 'trace_id',
  parentObservationId: 'parent_observation_id',
  startTime: 'start_time',
  endTime: 'end_time',
  observationId: 'observation_id',
  dataType: 'data_type',
  stringValue: 'string_value',
  usageDetails: 'usage_details',
  providedModelName: 'provided_model_name',
  sessionId: 'session_id',
  userId: 'user_id',
  statusMessage: 'status_message',
  authorUserId: 'author_user_id',
  projectId: 'project_id',
};
const OBSERVATION_TYPES = new Set([
  'GENERATION',
  'SPAN',
  'EVENT',
  'AGENT',
  'TOOL',
  'CHAIN',
  'RETRIEVER',
  'EVALUATOR',
  'EMBEDDING',
  'GUARDRAIL',
]);
const SCORE_SOURCES = new Set(['API', 'EVAL', 'ANNOTATION']);
const TRACE_KEYS = [
  'session_id',
  'user_id',
  'release',
  'bookmarked',
  'public',
  'project_id',
  'environment',
  'tags',
];

/** A row with camelCase keys renamed to the export's snake_case. */
function norm(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[CAMEL[k] ?? k] = v;
  return out;
}

type Kind = 'trace' | 'observation' | 'score';

/** Which Langfuse table a row comes from, by its keys. */
function kindOf(r: Record<string, unknown>): Kind | null {
  if (
    typeof r.name === 'string' &&
    ('value' in r || 'string_value' in r) &&
    (SCORE_SOURCES.has(String(r.source)) || 'data_type' in r)
  )
    return 'score';
  if ('trace_id' in r && OBSERVATION_TYPES.has(String(r.type))) return 'observation';
  if (typeof r.id === 'string' && 'timestamp' in r && !('trace_id' in r) && TRACE_KEYS.some((k) => k in r))
    return 'trace';
  return null;
}

interface Obs {
  index: number;
  r: Record<string, unknown>;
}

/** Observations in tree order: depth first from the roots, siblings by start time then id. */
function treeOrder(obs: readonly Obs[]): Obs[] {
  const byId = new Map(obs.map((o) => [String(o.r.id), o]));
  const children = new Map<string, Obs[]>();
  const roots: Obs[] = [];
  for (const o of obs) {
    const p = str(o.r.parent_observation_id);
    if (p !== null && byId.has(p) && p !== String(o.r.id)) {
      const list = children.get(p) ?? [];
      list.push(o);
      children.set(p, list);
    } else roots.push(o);
  }
  const key = (o: Obs): string => `${String(utcIfNaive(o.r.start_time).value ?? '')}\u0000${String(o.r.id)}`;
  const sort = (l: Obs[]): Obs[] => [...l].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const out: Obs[] = [];
  const seen = new Set<number>();
  const visit = (o: Obs): void => {
    if (seen.has(o.index)) return;
    seen.add(o.index);
    out.push(o);
    for (const c of sort(children.get(String(o.r.id)) ?? [])) visit(c);
  };
  for (const r of sort(roots)) visit(r);
  for (const o of obs) visit(o); // a parent cycle leaves nodes unreached
  return out;
}

function tokens(u: unknown): { input: number; output: number } | null {
  if (!isObj(u)) return null;
  const i = u.input ?? u.prompt_tokens ?? u.input_tokens;
  const o = u.output ?? u.completion_tokens ?? u.output_tokens;
  return typeof i === 'number' && typeof o === 'number' ? { input: i, output: o } : null;
}

/** A JSON string field (Langfuse API dumps serialise `metadata`) → its value. */
function parsed(v: unknown): unknown {
  return typeof v === 'string' ? parseJsonText(v) : v;
}

/**
 * Tools an observation records beside its input: Langfuse's `toolDefinitions`, the Vercel AI SDK's
 * `metadata.tools` (JSON strings), OTel `gen_ai.tool.definitions` and pydantic-ai's
 * `model_request_parameters` in `metadata.attributes`.
 */
function observationTools(r: Record<string, unknown>): ToolDef[] {
  const out: ToolDef[] = [];
  const add = (list: unknown): void => {
    const l = parsed(list);
    for (const t of Array.isArray(l) ? l : isObj(l) ? Object.values(l) : []) {
      const d = toolDefOf(t);
      if (d) out.push(d);
    }
  };
  add(r.toolDefinitions ?? r.tool_definitions);
  const meta = parsed(r.metadata);
  if (isObj(meta)) {
    add(meta.tools);
    const attrs = parsed(meta.attributes);
    if (isObj(attrs)) {
      add(attrs['gen_ai.tool.definitions']);
      const mrp = parsed(attrs.model_request_parameters);
      if (isObj(mrp)) {
        add(mrp.function_tools);
        add(mrp.output_tools);
      }
    }
  }
  return out;
}

interface GenConversation {
  obs: Obs;
  messages: ChatMessage[];
  tools: ToolDef[];
  finish: string | null;
  flags: string[];
}

/** One generation's conversation: its input, then its output turn (and any results the output carries). */
function readGeneration(o: Obs): GenConversation | { drop: { reason: string; detail: string } } {
  const where = `observation ${String(o.r.id)}`;
  const input = readInputMessages(o.r.input, `$.input (${where})`);
  if (!input.ok) return { drop: input.drop };
  const flags = [...input.flags];
  const messages: ChatMessage[] = [...input.value.messages];
  const tools: ToolDef[] = [...input.value.tools, ...observationTools(o.r)];
  let finish: string | null = null;
  if (o.r.output != null && o.r.output !== '') {
    const out = readOutputMessage(o.r.output, `$.output (${where})`);
    if (!out.ok) return { drop: out.drop };
    // a Responses object records the instructions the input list leaves out
    if (out.value.system !== undefined && messages[0]?.role !== 'system')
      messages.unshift({ role: 'system', content: out.value.system });
    messages.push(out.value.message, ...(out.value.after ?? []));
    tools.push(...(out.value.tools ?? []));
    finish = out.value.finish;
    flags.push(...out.flags);
  }
  return { obs: o, messages, tools, finish, flags };
}

const same = (a: ChatMessage, b: ChatMessage): boolean => JSON.stringify(a) === JSON.stringify(b);
const isPrefix = (a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean =>
  a.length <= b.length && a.every((m, i) => same(m, b[i] as ChatMessage));

/**
 * Frameworks that send only the new messages on each call (a stateful API, the Microsoft Agent
 * Framework) log a generation whose input starts with the results of the previous generation's
 * calls: it continues that conversation.
 */
function stitch(prev: GenConversation | undefined, g: GenConversation): GenConversation {
  const firstTurn = g.messages.find((m) => m.role !== 'system');
  if (!prev || firstTurn?.role !== 'tool') return g;
  const last = prev.messages.at(-1);
  const open = last?.role === 'assistant' ? (last.tool_calls ?? []).map((c) => c.id) : [];
  if (!open.includes(firstTurn.tool_call_id)) return g;
  return {
    ...g,
    messages: [...prev.messages, ...g.messages.filter((m) => m.role !== 'system')],
    tools: [...prev.tools, ...g.tools],
    flags: [...g.flags, 'conversation_stitched'],
  };
}

/**
 * Calls the chosen conversation leaves open at its end, answered by TOOL observations of the trace
 * (the framework ran the tool but made no further model call): matched by the call id the span
 * records (`gen_ai.tool.call.id`), else by tool name and arguments. Flag `tool_results_from_spans`.
 */
function answerFromToolSpans(
  messages: ChatMessage[],
  ordered: readonly Obs[],
  flags: string[],
): ChatMessage[] {
  const last = messages.at(-1);
  if (last?.role !== 'assistant' || !last.tool_calls) return messages;
  const spans = ordered.filter((o) => o.r.type === 'TOOL' && o.r.output != null);
  const used = new Set<number>();
  const out = [...messages];
  for (const c of last.tool_calls) {
    const hit = spans.find((o) => {
      if (used.has(o.index)) return false;
      const meta = parsed(o.r.metadata);
      const attrs = isObj(meta) ? parsed(meta.attributes) : null;
      const id = isObj(attrs) ? (attrs['gen_ai.tool.call.id'] ?? attrs['ai.toolCall.id']) : null;
      if (typeof id === 'string') return id === c.id;
      const args = parsed(c.function.arguments);
      return (
        String(o.r.name ?? '').endsWith(c.function.name) &&
        JSON.stringify(parsed(o.r.input)) === JSON.stringify(args)
      );
    });
    if (!hit) continue;
    used.add(hit.index);
    const v = parsed(hit.r.output);
    out.push({ role: 'tool', tool_call_id: c.id, content: typeof v === 'string' ? v : JSON.stringify(v) });
  }
  if (used.size > 0) flags.push('tool_results_from_spans');
  return out;
}

/** One trace's rows (its trace row and observations) → one run, or a drop of them all. */
function traceRun(traceId: string, trace: Obs | undefined, obs: readonly Obs[]): SessionGroup {
  const units = [...(trace ? [trace.index] : []), ...obs.map((o) => o.index)].sort((a, b) => a - b);
  const drop = (reason: string, detail: string): SessionGroup => ({
    units,
    output: { type: 'drop', reason, detail },
  });
  const ordered = treeOrder(obs);
  const gens = ordered.filter((o) => o.r.type === 'GENERATION' && o.r.input != null);
  const flags: string[] = [];
  // every generation's conversation; the run is the fullest one (most turns; the last in tree order
  // on a tie), so one agent's loop, whose calls each repeat the history, gives its final state
  const convs: GenConversation[] = [];
  let firstDrop: { reason: string; detail: string } | null = null;
  for (const o of gens) {
    const g = readGeneration(o);
    if ('drop' in g) {
      firstDrop ??= g.drop;
      continue;
    }
    convs.push(stitch(convs.at(-1), g));
  }
  if (firstDrop && convs.length > 0) flags.push('generations_unreadable');
  let chosen: GenConversation | undefined;
  for (const c of convs) if (!chosen || c.messages.length >= chosen.messages.length) chosen = c;
  if (
    chosen &&
    convs.some((c) => c !== chosen && !isPrefix(c.messages, (chosen as GenConversation).messages))
  )
    flags.push('other_conversations_skipped');
  if (!chosen && firstDrop) return drop(firstDrop.reason, firstDrop.detail);
  const source = chosen ? chosen.obs.r : trace?.r;
  const where = chosen ? `observation ${String(chosen.obs.r.id)}` : `trace ${traceId}`;
  if (!source || source.input == null) {
    return drop(
      'NO_CONVERSATION',
      `trace ${traceId}: no GENERATION observation with an input and no trace input among its ${units.length} rows; nothing to learn from`,
    );
  }
  let messages: ChatMessage[];
  let finish: string | null = null;
  const tools: ToolDef[] = [];
  if (chosen) {
    messages = chosen.messages;
    finish = chosen.finish;
    flags.push(...chosen.flags);
    for (const t of chosen.tools) if (!tools.some((x) => x.function.name === t.function.name)) tools.push(t);
  } else {
    const input = readInputMessages(source.input, `$.input (${where})`);
    if (!input.ok) return drop(input.drop.reason, input.drop.detail);
    flags.push(...input.flags);
    messages = [...input.value.messages];
    tools.push(...input.value.tools);
    if (source.output != null && source.output !== '') {
      const out = readOutputMessage(source.output, `$.output (${where})`);
      if (!out.ok) return drop(out.drop.reason, out.drop.detail);
      messages.push(out.value.message);
      finish = out.value.finish;
      flags.push(...out.flags);
    }
  }
  if (chosen) messages = answerFromToolSpans(messages, ordered, flags);
  const failed = source.level === 'ERROR';
  const counted = ordered
    .filter((o) => o.r.type === 'GENERATION')
    .map((g) => tokens(g.r.usage_details) ?? tokens(g.r.usage))
    .filter((t) => t !== null);
  const usage =
    counted.length === 0
      ? null
      : counted.reduce(
          (a, t) => ({
            prompt_tokens: a.prompt_tokens + t.input,
            completion_tokens: a.completion_tokens + t.output,
          }),
          { prompt_tokens: 0, completion_tokens: 0 },
        );
  const ts = utcIfNaive(
    trace?.r.timestamp ??
      ordered
        .map((o) => utcIfNaive(o.r.start_time).value)
        .filter((x): x is string => typeof x === 'string')
        .sort()[0] ??
      null,
  );
  const starts = obs.map((o) => Date.parse(String(utcIfNaive(o.r.start_time).value))).filter(Number.isFinite);
  const ends = obs.map((o) => Date.parse(String(utcIfNaive(o.r.end_time).value))).filter(Number.isFinite);
  if ([trace?.r.timestamp, ...obs.map((o) => o.r.start_time)].some((t) => utcIfNaive(t).flags.length > 0))
    flags.push('timestamp_assumed_utc');
  const run: EvidenceDraft = {
    kind: 'run',
    trace_id: `langfuse:${traceId}`,
    task_key: taskKeyFor(null, messages),
    recorded_at: ts.value,
    flags: mergeFlags(flags, chosen ? [] : ['trace_io_only']),
    run: {
      messages,
      tools,
      model: chosen ? (str(chosen.obs.r.provided_model_name) ?? str(chosen.obs.r.model)) : null,
      provider: null,
      tier: 'unknown',
      usage: usage
        ? {
            prompt_tokens: Math.round(usage.prompt_tokens),
            completion_tokens: Math.round(usage.completion_tokens),
          }
        : null,
      latency_ms:
        starts.length > 0 && ends.length > 0 && Math.max(...ends) >= Math.min(...starts)
          ? Math.max(...ends) - Math.min(...starts)
          : null,
      finish_reason: finish,
      error: failed
        ? {
            type: 'langfuse_error',
            message: str(source.status_message) ?? 'observation level ERROR',
            status: null,
          }
        : null,
      escalated_from: null,
    },
  };
  return { units, output: { type: 'keep', records: [run] } };
}

/** One score row → one signal: ANNOTATION scores are human labels, API / EVAL scores evaluators. */
function scoreSignal(u: Obs): SessionGroup {
  const r = u.r;
  const traceId = str(r.trace_id);
  if (traceId === null)
    return dropUnit(
      u.index,
      'SCHEMA_MISSING_FIELD',
      '$.trace_id: the score is not attached to a trace (session and dataset-run scores are not read)',
    );
  const name = String(r.name);
  const dataType = String(r.data_type ?? '');
  const sv = str(r.string_value);
  // a categorical score's label is its string_value; its numeric value is only an index
  let value: number | boolean | null =
    typeof r.value === 'number' && dataType !== 'CATEGORICAL' ? r.value : null;
  if (dataType === 'BOOLEAN' && value !== null) value = value !== 0;
  const source = String(r.source ?? 'API');
  const reading = {
    name,
    value,
    label: sv !== null && !/^-?\d+(\.\d+)?$/.test(sv) ? sv : null,
    comment: str(r.comment),
    by: str(r.author_user_id),
    correction: null,
    source: `langfuse:${source.toLowerCase()}:${name}`,
  };
  const mapped = source === 'ANNOTATION' ? humanScoreSignal(reading) : evaluatorSignal(reading);
  if (!mapped.ok) return dropUnit(u.index, mapped.drop.reason, mapped.drop.detail);
  const ts = utcIfNaive(r.timestamp ?? null);
  return {
    units: [u.index],
    output: {
      type: 'keep',
      records: [
        {
          kind: 'signal',
          trace_id: `langfuse:${traceId}`,
          task_key: null,
          recorded_at: ts.value,
          flags: ts.flags,
          signal: mapped.signal,
        },
      ],
    },
  };
}

/**
 * Langfuse exports (blob-storage JSONL: traces, observations or enriched observations, scores; or
 * the public API's camelCase objects), in any mix → per trace one run `langfuse:<trace id>` and per
 * score one signal. The run's conversation is the last GENERATION in tree order (depth first along
 * `parent_observation_id`, siblings by start time): its input messages and its output. A trace row
 * with no generation in the file uses the trace's own input / output (flag `trace_io_only`).
 * Usage is summed over the trace's generations. Export timestamps without an offset are UTC.
 */
function langfuseFile(units: readonly SessionUnit[], _ctx: Omit<AdapterContext, 'index'>): SessionGroup[] {
  const groups: SessionGroup[] = [];
  const tracey: Array<Obs & { kind: 'trace' | 'observation'; traceId: string }> = [];
  for (const u of units) {
    const r = norm(u.row);
    const kind = kindOf(r);
    if (kind === null) {
      groups.push(
        dropUnit(
          u.index,
          'SCHEMA_MISSING_FIELD',
          '$: not a Langfuse trace (id, timestamp, ...), observation (trace_id, type) or score (name, value, source / data_type)',
        ),
      );
    } else if (kind === 'score') {
      groups.push(scoreSignal({ index: u.index, r }));
    } else {
      const traceId = kind === 'trace' ? String(r.id) : str(r.trace_id);
      if (traceId === null)
        groups.push(
          dropUnit(u.index, 'SCHEMA_MISSING_FIELD', '$.trace_id: an observation needs the id of its trace'),
        );
      else if (kind === 'observation' && str(r.id) === null)
        groups.push(dropUnit(u.index, 'SCHEMA_MISSING_FIELD', '$.id: an observation needs an id'));
      else tracey.push({ index: u.index, r, kind, traceId });
    }
  }
  for (const [traceId, rows] of groupBy(tracey, (x) => x.traceId)) {
    const traces = rows.filter((x) => x.kind === 'trace');
    // a trace exported twice: the extra rows go with the run, flagged
    const group = traceRun(
      traceId,
      traces[0],
      rows.filter((x) => x.kind === 'observation'),
    );
    if (traces.length > 1) {
      group.units = [...group.units, ...traces.slice(1).map((t) => t.index)].sort((a, b) => a - b);
      if (group.output.type === 'keep')
        for (const d of group.output.records) d.flags = mergeFlags(d.flags ?? [], ['duplicate_trace_rows']);
    }
    groups.push(group);
  }
  return groups.sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
}

/** One row's fit: a trace, observation or score row with Langfuse's keys. */
function sniffRow(row: Record<string, unknown>): { confidence: number; reason: string } {
  const r = norm(row);
  const kind = kindOf(r);
  if (kind === null) return { confidence: 0, reason: 'not a Langfuse trace, observation or score row' };
  return { confidence: 1, reason: `Langfuse ${kind} row` };
}

/** Langfuse exports → a run per trace, a signal per score (session shape: the whole file at once). */
export const langfuse: Adapter = {
  name: 'langfuse',
  description:
    'Langfuse exports (blob-storage JSONL or API dumps): traces, observations (a tree via parent_observation_id) and scores; one run per trace',
  shape: 'jsonl-session',
  sniff: sniffRow,
  toEvidence: oneLineSession(langfuseFile),
  toEvidenceFile: langfuseFile,
};
