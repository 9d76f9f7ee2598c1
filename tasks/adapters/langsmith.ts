import type { ChatMessage, ToolDef } from '../../schemas/chat.ts';
import type { Adapter, AdapterContext, EvidenceDraft, SessionGroup, SessionUnit } from './adapter.ts';
import { parseJsonText, readInputMessages, readOutputMessage } from './conversation-io.ts';
import { utcIfNaive } from './naive-time.ts';
import { ToolDefIn, toToolDef } from './openai-messages.ts';
import { evaluatorSignal, humanScoreSignal } from './outcome-labels.ts';
import { mergeFlags } from './row-flags.ts';
import { dropUnit, groupBy, oneLineSession } from './session.ts';
import { taskKeyFor } from './task-key.ts';

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const RUN_TYPES = new Set(['llm', 'chain', 'tool', 'retriever', 'embedding', 'prompt', 'parser']);

interface Run {
  index: number;
  r: Record<string, unknown>;
  traceId: string;
}

const isFeedback = (r: Record<string, unknown>): boolean =>
  'run_id' in r && typeof r.key === 'string' && ('score' in r || 'value' in r || 'correction' in r);
const isRun = (r: Record<string, unknown>): boolean =>
  RUN_TYPES.has(String(r.run_type)) && ('inputs' in r || 'outputs' in r);

/** The prompt of an LLM run: chat `messages` (a LangChain batch or OpenAI list) or completion `prompts`. */
function llmInput(inputs: unknown, path: string): ReturnType<typeof readInputMessages> {
  const v = parseJsonText(inputs);
  if (isObj(v) && Array.isArray(v.prompts) && typeof v.prompts[0] === 'string') {
    return {
      ok: true,
      value: { messages: [{ role: 'user', content: v.prompts[0] }], tools: [] },
      flags: v.prompts.length > 1 ? ['extra_batch_items'] : [],
    };
  }
  return readInputMessages(v, path);
}

function toolsOf(run: Record<string, unknown>): ToolDef[] {
  const extra = isObj(run.extra) ? run.extra : {};
  const params = isObj(extra.invocation_params) ? extra.invocation_params : {};
  const out: ToolDef[] = [];
  for (const t of Array.isArray(params.tools) ? params.tools : []) {
    const r = ToolDefIn.safeParse(t);
    if (r.success) out.push(toToolDef(r.data));
  }
  return out;
}

function modelOf(run: Record<string, unknown>): { model: string | null; provider: string | null } {
  const extra = isObj(run.extra) ? run.extra : {};
  const params = isObj(extra.invocation_params) ? extra.invocation_params : {};
  const md = isObj(extra.metadata) ? extra.metadata : {};
  return {
    model: str(params.model) ?? str(params.model_name) ?? str(md.ls_model_name),
    provider: str(md.ls_provider),
  };
}

/** One trace's runs → one run record: the last LLM call's conversation, the root's error and timing. */
function traceRun(traceId: string, runs: readonly Run[]): SessionGroup {
  const units = runs.map((x) => x.index).sort((a, b) => a - b);
  const drop = (reason: string, detail: string): SessionGroup => ({
    units,
    output: { type: 'drop', reason, detail },
  });
  // dotted_order sorts runs in execution order (start time + id path); fall back to start time
  const key = (x: Run): string =>
    str(x.r.dotted_order) ?? `${String(utcIfNaive(x.r.start_time).value ?? '')}${String(x.r.id)}`;
  const ordered = [...runs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const root = ordered.find((x) => x.r.parent_run_id == null) ?? ordered[0];
  const llms = ordered.filter((x) => x.r.run_type === 'llm' && x.r.inputs != null);
  const chosen = llms.at(-1);
  const source = chosen ?? root;
  if (!source || source.r.inputs == null)
    return drop(
      'NO_CONVERSATION',
      `trace ${traceId}: no llm run and no root inputs among its ${units.length} runs`,
    );
  const where = `run ${String(source.r.id)}`;
  const input = chosen
    ? llmInput(source.r.inputs, `$.inputs (${where})`)
    : readInputMessages(source.r.inputs, `$.inputs (${where})`);
  if (!input.ok) return drop(input.drop.reason, input.drop.detail);
  const flags = [...input.flags, ...(chosen ? [] : ['trace_io_only'])];
  const messages: ChatMessage[] = [...input.value.messages];
  let finish: string | null = null;
  const outputs = parseJsonText(source.r.outputs);
  if (outputs != null && !(isObj(outputs) && Object.keys(outputs).length === 0)) {
    const out = readOutputMessage(outputs, `$.outputs (${where})`);
    if (!out.ok) return drop(out.drop.reason, out.drop.detail);
    messages.push(out.value.message);
    finish = out.value.finish;
    flags.push(...out.flags);
  }
  const counted = llms.filter(
    (x) => typeof x.r.prompt_tokens === 'number' && typeof x.r.completion_tokens === 'number',
  );
  const usage =
    counted.length === 0
      ? null
      : counted.reduce(
          (a, x) => ({
            prompt_tokens: a.prompt_tokens + (x.r.prompt_tokens as number),
            completion_tokens: a.completion_tokens + (x.r.completion_tokens as number),
          }),
          { prompt_tokens: 0, completion_tokens: 0 },
        );
  const rootRow = (root as Run).r;
  const start = utcIfNaive(rootRow.start_time);
  const end = utcIfNaive(rootRow.end_time);
  const ms = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : Number.NaN);
  const latency = ms(end.value) - ms(start.value);
  const errorText = str(rootRow.error) ?? (chosen ? str(chosen.r.error) : null);
  const { model, provider } = chosen ? modelOf(chosen.r) : { model: null, provider: null };
  const run: EvidenceDraft = {
    kind: 'run',
    trace_id: `langsmith:${traceId}`,
    task_key: taskKeyFor(null, messages),
    recorded_at: start.value ?? null,
    flags: mergeFlags(flags, start.flags),
    run: {
      messages,
      tools: chosen ? toolsOf(chosen.r) : [],
      model,
      provider,
      tier: 'unknown',
      usage,
      latency_ms: Number.isFinite(latency) && latency >= 0 ? latency : null,
      finish_reason: finish,
      error: errorText ? { type: 'langsmith_error', message: errorText, status: null } : null,
      escalated_from: null,
    },
  };
  return { units, output: { type: 'keep', records: [run] } };
}

/** A correction as LangSmith stores it: a string, or `{output | content | answer: string}`. */
function correctionText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (!isObj(v)) return null;
  for (const k of ['output', 'content', 'answer', 'text'])
    if (typeof v[k] === 'string') return v[k] as string;
  if (isObj(v.outputs)) return correctionText(v.outputs);
  return null;
}

/** One feedback row → one signal: `app` feedback (the LangSmith UI, annotation queues) is human. */
function feedbackSignal(index: number, r: Record<string, unknown>): SessionGroup {
  const target = str(r.trace_id) ?? str(r.run_id);
  if (target === null)
    return dropUnit(
      index,
      'SCHEMA_MISSING_FIELD',
      '$.run_id: feedback needs the run it judges (run_id, or trace_id)',
    );
  const key = String(r.key);
  const src = isObj(r.feedback_source) ? str(r.feedback_source.type) : null;
  const human = src === 'app';
  const value =
    typeof r.score === 'number' || typeof r.score === 'boolean'
      ? r.score
      : typeof r.value === 'number' || typeof r.value === 'boolean'
        ? r.value
        : null;
  const reading = {
    name: key,
    value,
    label: typeof r.value === 'string' ? r.value : null,
    comment: str(r.comment),
    by: isObj(r.feedback_source) ? str(r.feedback_source.user_id) : null,
    correction: correctionText(r.correction),
    source: `langsmith:${src ?? 'api'}:${key}`,
  };
  const mapped = human ? humanScoreSignal(reading) : evaluatorSignal(reading);
  if (!mapped.ok) return dropUnit(index, mapped.drop.reason, mapped.drop.detail);
  const ts = utcIfNaive(r.created_at ?? null);
  return {
    units: [index],
    output: {
      type: 'keep',
      records: [
        {
          kind: 'signal',
          trace_id: `langsmith:${target}`,
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
 * LangSmith runs (`run_type` llm | chain | tool | ..., `inputs`, `outputs`, `error`, `trace_id`,
 * `parent_run_id`, `dotted_order`) and their feedback (`run_id`, `key`, `score`, `value`,
 * `comment`, `correction`), in any mix → per trace one run `langsmith:<trace id>` and per feedback
 * row one signal on `langsmith:<trace_id or run_id>` (a trace's root run id is its trace id). The
 * run's conversation is the last LLM call in `dotted_order`: its input messages (LangChain or
 * OpenAI) and its output; a trace without one uses the root's inputs / outputs (`trace_io_only`).
 */
function langsmithFile(units: readonly SessionUnit[], _ctx: Omit<AdapterContext, 'index'>): SessionGroup[] {
  const groups: SessionGroup[] = [];
  const runs: Run[] = [];
  for (const u of units) {
    const r = u.row;
    if (isFeedback(r)) groups.push(feedbackSignal(u.index, r));
    else if (isRun(r)) {
      if (str(r.id) === null) {
        groups.push(dropUnit(u.index, 'SCHEMA_MISSING_FIELD', '$.id: a run needs an id'));
        continue;
      }
      const traceId = str(r.trace_id) ?? (r.parent_run_id == null ? (r.id as string) : null);
      if (traceId === null)
        groups.push(
          dropUnit(
            u.index,
            'SCHEMA_MISSING_FIELD',
            '$.trace_id: a child run (with parent_run_id) needs the id of its trace',
          ),
        );
      else runs.push({ index: u.index, r, traceId });
    } else {
      groups.push(
        dropUnit(
          u.index,
          'SCHEMA_MISSING_FIELD',
          '$: not a LangSmith run (id, run_type, inputs / outputs) or feedback row (run_id, key, score / value)',
        ),
      );
    }
  }
  for (const [traceId, rows] of groupBy(runs, (x) => x.traceId)) groups.push(traceRun(traceId, rows));
  return groups.sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
}

/** One row's fit: a run or a feedback row with LangSmith's keys. */
function sniffRow(row: Record<string, unknown>): { confidence: number; reason: string } {
  if (isFeedback(row))
    return { confidence: 1, reason: 'LangSmith feedback row (run_id, key, score / value)' };
  if (isRun(row))
    return {
      confidence: 'dotted_order' in row || 'trace_id' in row || 'parent_run_id' in row ? 1 : 0.7,
      reason: `LangSmith ${String(row.run_type)} run`,
    };
  return { confidence: 0, reason: 'not a LangSmith run or feedback row' };
}

/** LangSmith runs and feedback → a run per trace, a signal per feedback row (session shape). */
export const langsmith: Adapter = {
  name: 'langsmith',
  description:
    'LangSmith runs (llm / chain / tool, inputs, outputs, error, trace_id, parent_run_id) and feedback (run_id, key, score, value, comment); one run per trace',
  shape: 'jsonl-session',
  sniff: sniffRow,
  toEvidence: oneLineSession(langsmithFile),
  toEvidenceFile: langsmithFile,
};
