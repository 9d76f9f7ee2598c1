import { posix } from 'node:path';
import { z } from 'zod';
import type { ChatMessage, ToolCall, ToolDef } from '../../schemas/chat.ts';
import type { Adapter, AdapterContext, AdapterOutput, EvidenceDraft } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { readPart } from './content-parts.ts';
import { ToolCallIn } from './openai-messages.ts';
import { sha256 } from '../lib/hash.ts';
import { mergeFlags } from './row-flags.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** Message content as SWE-agent writes it: a string, or (v1) a list of text parts. */
const ContentIn = z
  .union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().nullish() }))])
  .nullish();

const SweAgentTraj = z.object({
  trajectory: z.optional(
    z.array(
      z.looseObject({
        action: z.string().nullish(),
        observation: z.string().nullish(),
        response: z.string().nullish(),
        thought: z.string().nullish(),
      }),
    ),
  ),
  history: z.array(
    z.looseObject({
      role: z.string(),
      content: ContentIn,
      is_demo: z.boolean().nullish(),
      tool_calls: z.array(ToolCallIn).nullish(),
      tool_call_ids: z.array(z.string()).nullish(),
      tool_call_id: z.string().nullish(),
      thought: z.string().nullish(),
      action: z.string().nullish(),
      message_type: z.string().nullish(),
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
  _path: string,
): { ok: true; text: string } | { ok: false; reason: string; detail: string } {
  if (c === null || c === undefined) return { ok: true, text: '' };
  if (typeof c === 'string') return { ok: true, text: c };
  const texts: string[] = [];
  for (let i = 0; i < c.length; i++) {
    // text parts as they are, images (SWE-agent multimodal) a typed placeholder: the shared part rule
    const r = readPart({ ...c[i], text: c[i]?.text ?? undefined });
    if (r.piece.kind === 'text') texts.push(r.piece.text);
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
    .replace(/\.gz$/i, '') // a compressed copy names the same instance
    .replace(/\.traj$/i, '')
    .replace(/\.json$/i, '');
}

/**
 * The trace path: the file without `.traj`, and SWE-agent 1.x's `<dir>/<id>/<id>.traj` layout
 * collapsed to `<dir>/<id>` so both layouts name an attempt the same way (and an evaluation report
 * can name it from the instance id).
 */
export function tracePath(sourceFile: string): string {
  const noExt = sourceFile.replace(/\.(traj|json)$/i, '');
  const parts = noExt.split('/');
  if (parts.length >= 2 && parts.at(-1) === parts.at(-2)) parts.pop();
  return parts.join('/');
}

/** The instance id SWE-agent 1.x records in `replay_config.problem_statement.id`. */
function instanceIdOf(replay: unknown): string | null {
  let rc = replay;
  if (typeof rc === 'string') {
    try {
      rc = JSON.parse(rc);
    } catch {
      return null;
    }
  }
  const id = (rc as { problem_statement?: { id?: unknown } } | null)?.problem_statement?.id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/**
 * The problem statement inside SWE-agent's instance prompt (`ISSUE:\n...\n\nINSTRUCTIONS:` in the
 * 0.x templates, `<pr_description>` / `<issue_description>` in 1.x), NFC, whitespace collapsed:
 * attempts at one issue share it whatever the config, the file name or the instance id's spelling.
 */
export function problemStatement(messages: readonly ChatMessage[]): string | null {
  for (const m of messages) {
    if (m.role !== 'user') continue;
    const t = m.content;
    const found =
      /ISSUE:\s*\n([\s\S]*?)\n\s*\n\s*INSTRUCTIONS:/.exec(t) ??
      /<pr_description>([\s\S]*?)<\/pr_description>/.exec(t) ??
      /<issue_description>([\s\S]*?)<\/issue_description>/.exec(t);
    if (found) {
      const text = (found[1] as string).normalize('NFC').replace(/\s+/g, ' ').trim();
      if (text !== '') return text;
    }
  }
  return null;
}

type HistoryMsg = z.infer<typeof SweAgentTraj>['history'][number];

/**
 * The model's part of a history-only trajectory: assistant turns with their tool calls (function
 * calling) or their `action` (a `bash` call), tool observations (`tool_call_ids`), and the patch
 * the `submit` call returned (the newer format has no `info`).
 */
function historySteps(
  history: readonly HistoryMsg[],
):
  | { ok: true; messages: ChatMessage[]; synthetic: boolean; submission: string | null }
  | { ok: false; reason: string; detail: string } {
  const messages: ChatMessage[] = [];
  let synthetic = false;
  let open: ToolCall | null = null;
  const names = new Map<string, string>();
  let submission: string | null = null;
  for (const h of history) {
    if (h.is_demo === true) continue;
    const t = textOf(h.content, '$.history');
    const text = t.ok ? t.text : '';
    if (h.role === 'assistant') {
      let calls: ToolCall[] = (h.tool_calls ?? []).map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.function.name, arguments: c.function.arguments },
      }));
      if (calls.length === 0 && (h.action ?? '').trim() !== '') {
        calls = [
          {
            id: `call_${messages.length}`,
            type: 'function',
            function: { name: 'bash', arguments: JSON.stringify({ command: h.action }) },
          },
        ];
        synthetic = true;
      }
      const content = text !== '' ? text : (h.thought ?? null);
      const m: ChatMessage = { role: 'assistant', content: content === '' ? null : content };
      if (calls.length > 0) m.tool_calls = calls;
      messages.push(m);
      for (const c of calls) names.set(c.id, c.function.name);
      open = calls[0] ?? null;
    } else if (h.role === 'tool' || (h.role === 'user' && h.message_type === 'observation' && open)) {
      const id = h.tool_call_ids?.[0] ?? h.tool_call_id ?? open?.id ?? `call_${messages.length}`;
      messages.push({ role: 'tool', tool_call_id: id, content: text });
      // the submit command (a tool of its own, or typed in the shell) answers with the patch
      const name = names.get(id) ?? '';
      const typed = name === 'bash' && /^\{"command":"submit\b/.test(open?.function.arguments ?? '');
      if ((name === 'submit' || typed) && /diff --git/.test(text)) submission = text;
      open = null;
    } else if (h.role === 'user') {
      messages.push({ role: 'user', content: text });
    } else if (h.role === 'system') {
      continue;
    } else {
      return {
        ok: false,
        reason: 'SCHEMA_ENUM',
        detail: `$.history: role ${JSON.stringify(h.role)} is not system, user, assistant or tool`,
      };
    }
  }
  return { ok: true, messages, synthetic, submission };
}

/** A trajectory of either format: the old one by its three keys, the newer by a history of agent messages. */
function sniffTraj(row: Record<string, unknown>): { confidence: number; reason: string } {
  const old = sniffByKeys(row, ['trajectory', 'history', 'info'], 'swe-agent');
  if (old.confidence === 1 || !Array.isArray(row.history)) return old;
  const h = row.history as unknown[];
  const agentish = h.filter(
    (m) => m !== null && typeof m === 'object' && ('message_type' in m || 'agent' in m || 'is_demo' in m),
  ).length;
  if (h.length > 0 && agentish / h.length >= 0.5)
    return {
      confidence: 0.95,
      reason: `SWE-agent history-only trajectory (${agentish}/${h.length} messages with SWE-agent's agent / message_type keys)`,
    };
  return old;
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
  sniff: sniffTraj,
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
    const steps = r.trajectory ?? [];
    let synthetic = false;
    let submission = r.info?.submission ?? null;
    let status = r.info?.exit_status ?? null;
    if (steps.length > 0) {
      const modelTurns = r.history.filter((h) => h.role === 'assistant' && h.is_demo !== true);
      steps.forEach((step, i) => {
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
    } else {
      // the newer trajectory format: the history alone, with the model's tool calls in it
      const h = historySteps(r.history.slice(promptEnd));
      if (!h.ok) return { type: 'drop', reason: h.reason, detail: h.detail };
      messages.push(...h.messages);
      synthetic = h.synthetic;
      if (status === null && h.submission !== null) {
        status = 'submitted';
        submission = h.submission;
        flags.push('outcome_from_history');
      }
    }
    if (!messages.some((m) => m.role === 'assistant'))
      return {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: '$.trajectory: is empty and the history holds no model turn; the agent took no step',
      };
    const traceId = `swe-agent:${tracePath(ctx.sourceFile)}`;
    // the instance's own prompt, not a demonstration's (demonstrations quote other issues)
    const issue = problemStatement(
      r.history
        .filter((h) => h.role === 'user' && h.is_demo !== true)
        .map((h) => {
          const t = textOf(h.content, '');
          return { role: 'user' as const, content: t.ok ? t.text : '' };
        }),
    );
    const instance = instanceIdOf(r.replay_config);
    const taskKey =
      issue !== null
        ? `swe-agent:issue:${sha256(issue).slice(0, 16)}`
        : `swe-agent:${(instance ?? instanceOf(ctx.sourceFile)).toLowerCase()}`;
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
    if (status) {
      const submitted = status === 'submitted' && (submission ?? '').trim() !== '';
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
