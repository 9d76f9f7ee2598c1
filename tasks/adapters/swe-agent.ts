import { posix } from 'node:path';
import { z } from 'zod';
import type { ChatMessage, ToolCall, ToolDef } from '../../schemas/chat.ts';
import type { Adapter, AdapterContext, AdapterOutput, EvidenceDraft } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { ToolCallIn } from './openai-messages.ts';
import { mergeFlags } from './row-flags.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** Message content as SWE-agent writes it: a string, or (v1) a list of text parts. */
const ContentIn = z
  .union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().nullish() }))])
  .nullish();

const SweAgentTraj = z.object({
  trajectory: z.array(
    z.looseObject({
      action: z.string().nullish(),
      observation: z.string().nullish(),
      response: z.string().nullish(),
      thought: z.string().nullish(),
    }),
  ),
  history: z.array(
    z.looseObject({
      role: z.string(),
      content: ContentIn,
      is_demo: z.boolean().nullish(),
      tool_calls: z.array(ToolCallIn).nullish(),
    }),
  ),
  info: z
    .looseObject({
      exit_status: z.string().nullish(),
      submission: z.string().nullish(),
      model_stats: z
        .looseObject({
          tokens_sent: z.number().int().nonnegative().nullish(),
          tokens_received: z.number().int().nonnegative().nullish(),
        })
        .nullish(),
    })
    .nullish(),
  replay_config: z.unknown().optional(),
  environment: z.string().nullish(),
});

const unknownFields = unknownFieldsCheck(Object.keys(SweAgentTraj.shape));

/** The tool a plain-text action becomes: SWE-agent runs every action in its shell. */
const BASH_TOOL: ToolDef = {
  type: 'function',
  function: {
    name: 'bash',
    description:
      'Run a command in the SWE-agent shell: bash commands and the SWE-agent commands (open, edit, create, find_file, search_dir, submit, ...)',
    parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
  },
};

function textOf(
  c: z.infer<typeof ContentIn>,
  path: string,
): { ok: true; text: string } | { ok: false; reason: string; detail: string } {
  if (c === null || c === undefined) return { ok: true, text: '' };
  if (typeof c === 'string') return { ok: true, text: c };
  const texts: string[] = [];
  for (let i = 0; i < c.length; i++) {
    const p = c[i] as { type: string; text?: string | null };
    if (p.type !== 'text')
      return {
        ok: false,
        reason: 'SCHEMA_TYPE',
        detail: `${path}[${i}]: part of type ${JSON.stringify(p.type)} is not text; the canonical chat shape holds only text`,
      };
    texts.push(p.text ?? '');
  }
  return { ok: true, text: texts.join('') };
}

/** The model name from `replay_config` (an object, or the JSON string older versions write). */
function modelOf(replay: unknown): string | null {
  let rc = replay;
  if (typeof rc === 'string') {
    try {
      rc = JSON.parse(rc);
    } catch {
      return null;
    }
  }
  const name = (rc as { agent?: { model?: { name?: unknown; model_name?: unknown } } } | null)?.agent?.model;
  const v = name?.name ?? name?.model_name;
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The file name without `.traj`: SWE-agent names each trajectory by its instance id. */
function instanceOf(sourceFile: string): string {
  return posix
    .basename(sourceFile)
    .replace(/\.traj$/i, '')
    .replace(/\.json$/i, '');
}

/**
 * SWE-agent `.traj` files (one JSON document per file) → one run plus one `tool_exit` signal. The
 * prompt is the history before the first model turn (system, demonstrations, the issue); each
 * trajectory step becomes an assistant turn (its `thought`) calling a tool (the history's own tool
 * call in function-calling mode, else `bash` with `{"command": action}`) and a tool result (its
 * `observation`), in order. `info.exit_status` "submitted" with a non-empty submission → exit code
 * 0: the agent finished and produced a patch, which says nothing about whether the patch is right
 * (the scorer sends such runs to review); any other exit status → exit code 1.
 */
export const sweAgent: Adapter = {
  name: 'swe-agent',
  description:
    'SWE-agent trajectories (.traj, one JSON document): {trajectory:[{thought, action, observation}], history, info:{exit_status, submission, model_stats}}',
  shape: 'json-document',
  sniff: (row) => sniffByKeys(row, ['trajectory', 'history', 'info'], 'swe-agent'),
  toEvidence(row, ctx: AdapterContext): AdapterOutput {
    const read = readInput(SweAgentTraj, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const flags: string[] = [];
    const firstModelTurn = r.history.findIndex((h) => h.role === 'assistant' && h.is_demo !== true);
    const promptEnd = firstModelTurn === -1 ? r.history.length : firstModelTurn;
    const messages: ChatMessage[] = [];
    for (let i = 0; i < promptEnd; i++) {
      const h = r.history[i] as (typeof r.history)[number];
      const t = textOf(h.content, `$.history[${i}].content`);
      if (!t.ok) return { type: 'drop', reason: t.reason, detail: t.detail };
      if (h.is_demo === true) flags.push('demonstration_in_prompt');
      if (h.role === 'system') messages.push({ role: 'system', content: t.text });
      else if (h.role === 'user') messages.push({ role: 'user', content: t.text });
      else
        return {
          type: 'drop',
          reason: 'SCHEMA_ENUM',
          detail: `$.history[${i}].role: expected system or user before the first model turn, got ${JSON.stringify(h.role)}`,
        };
    }
    if (!messages.some((m) => m.role === 'user')) {
      return {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: '$.history: no user message (the problem statement) before the first model turn',
      };
    }
    if (r.trajectory.length === 0)
      return {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: '$.trajectory: is empty; the agent took no step',
      };
    const modelTurns = r.history.filter((h) => h.role === 'assistant' && h.is_demo !== true);
    let synthetic = false;
    r.trajectory.forEach((step, i) => {
      const thought = step.thought ?? step.response ?? '';
      const action = step.action ?? '';
      const logged = modelTurns[i]?.tool_calls ?? [];
      if (action.trim() === '' && logged.length === 0) {
        messages.push({ role: 'assistant', content: thought });
        if (step.observation) messages.push({ role: 'user', content: step.observation });
        return;
      }
      let call: ToolCall;
      const first = logged[0];
      if (first) {
        call = {
          id: first.id,
          type: 'function',
          function: { name: first.function.name, arguments: first.function.arguments },
        };
        if (logged.length > 1) flags.push('extra_tool_calls_dropped');
      } else {
        call = {
          id: `call_${i}`,
          type: 'function',
          function: { name: 'bash', arguments: JSON.stringify({ command: action }) },
        };
        synthetic = true;
      }
      messages.push({ role: 'assistant', content: thought === '' ? null : thought, tool_calls: [call] });
      messages.push({ role: 'tool', tool_call_id: call.id, content: step.observation ?? '' });
    });
    const stem = instanceOf(ctx.sourceFile);
    const traceId = `swe-agent:${ctx.sourceFile.replace(/\.(traj|json)$/i, '')}`;
    const taskKey = `swe-agent:${stem}`;
    const stats = r.info?.model_stats;
    const drafts: EvidenceDraft[] = [
      {
        kind: 'run',
        trace_id: traceId,
        task_key: taskKey,
        recorded_at: null, // .traj files carry no timestamps
        flags: mergeFlags(flags, unknownFields(row)),
        run: {
          messages,
          tools: synthetic ? [BASH_TOOL] : [],
          model: modelOf(r.replay_config),
          provider: null,
          tier: 'unknown',
          usage:
            stats?.tokens_sent != null && stats.tokens_received != null
              ? { prompt_tokens: stats.tokens_sent, completion_tokens: stats.tokens_received }
              : null,
          latency_ms: null,
          finish_reason: null,
          error: null,
          escalated_from: null,
        },
      },
    ];
    const status = r.info?.exit_status;
    if (status) {
      const submitted = status === 'submitted' && (r.info?.submission ?? '').trim() !== '';
      drafts.push({
        kind: 'signal',
        trace_id: traceId,
        task_key: taskKey,
        recorded_at: null,
        flags: [],
        signal: { type: 'tool_exit', tool: `swe-agent:${status}`, exit_code: submitted ? 0 : 1 },
      });
    }
    return { type: 'keep', records: drafts };
  },
};
