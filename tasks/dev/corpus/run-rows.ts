import { canaryText, type CanaryKind } from './canaries.ts';
import { isoUtc } from './clock.ts';
import type { ModelChoice } from './models.ts';
import { tokens } from './models.ts';
import type { Plan } from './outcomes.ts';
import type { IdMint, Rng } from './prng.ts';
import type { AgentTask, GatewayTask, RawMessage, RawToolCall, ToolStep } from './task-spec.ts';

const CALL_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** One attempt at a task: who ran it, when, and what is meant to happen. */
export interface Attempt {
  traceId: string;
  startMs: number;
  model: ModelChoice;
  plan: Plan;
  answer: 'good' | 'flawed' | 'cut' | 'empty' | 'none';
  escalatedFrom: string | null;
  canary: CanaryKind | null;
  /** Put a self-asserted label in the row (adapters must ignore and flag it). */
  selfLabel: boolean;
  /** Put an unknown top-level field in the row. */
  extraField: boolean;
}

/** A built run row and when the run ended. */
export interface BuiltRun {
  row: Record<string, unknown>;
  endMs: number;
  /** Tools that reported exit codes during the run (become tool_outcomes rows). */
  exits: Array<{ tool: string; command: string; exitCode: number; atMs: number }>;
}

function toolCall(step: ToolStep, rng: Rng): RawToolCall {
  let args = JSON.stringify(step.args);
  if (rng.chance(0.03)) args = args.slice(0, -1); // a model emitting broken JSON arguments (kept; exports decide)
  return {
    id: `call_${rng.chars(24, CALL_ID_CHARS)}`,
    type: 'function',
    function: { name: step.name, arguments: args },
  };
}

/** How the sandbox logs a tool invocation: the tool and its argument names, never the values. */
function commandLine(step: ToolStep): string {
  return `${step.name}(${Object.keys(step.args).join(', ')})`;
}

function answerText(kind: Attempt['answer'], good: string, flawed: string): string | null {
  switch (kind) {
    case 'good':
      return good;
    case 'flawed':
      return flawed;
    case 'cut':
      return good.slice(0, Math.max(8, Math.floor(good.length * 0.55)));
    case 'empty':
      return '';
    case 'none':
      return null;
  }
}

const CLOUD_ERRORS = [
  {
    type: 'rate_limit_error',
    message: 'Rate limit reached for requests per minute. Please try again in 20s.',
    status: 429,
  },
  { type: 'server_error', message: 'The server had an error while processing your request.', status: 500 },
  { type: 'timeout', message: 'Request timed out after 60000 ms.', status: 504 },
  {
    type: 'invalid_request_error',
    message: "This model's maximum context length is 8192 tokens.",
    status: 400,
  },
];
const LOCAL_ERRORS = [
  { type: 'connection_error', message: 'connect ECONNREFUSED 127.0.0.1:8000', status: null },
  { type: 'server_error', message: 'CUDA out of memory while allocating KV cache', status: 500 },
];

/** A gateway log row for one call: request, response (or error), metadata. */
export function gatewayRun(task: GatewayTask, a: Attempt, rng: Rng, ids: IdMint): BuiltRun {
  const messages: RawMessage[] = task.prompt.map((m) => ({ ...m }));
  const mode = task.toolStep ? rng.weighted({ roundtrip: 60, call_only: 15, direct: 25 }) : 'direct';
  if (task.toolStep && mode === 'roundtrip') {
    const call = toolCall(task.toolStep, rng);
    messages.push(
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: task.toolStep.result },
    );
  }
  const local = a.model.tier === 'local';
  const latency =
    a.answer === 'none' ? rng.range(40, 60_000) : local ? rng.range(250, 4_000) : rng.range(500, 15_000);
  let text = answerText(a.answer, task.good, task.flawed);
  if (text !== null && a.canary) text += canaryText(a.canary, rng);
  const promptChars = messages.reduce((n, m) => n + (m.content?.length ?? 0), 0);
  let response: Record<string, unknown> | null = null;
  if (text !== null) {
    const callOnly = task.toolStep && mode === 'call_only' && a.answer !== 'empty';
    const message = callOnly
      ? { role: 'assistant', content: null, tool_calls: [toolCall(task.toolStep!, rng)] }
      : { role: 'assistant', content: text };
    const finish = callOnly ? 'tool_calls' : a.answer === 'cut' ? 'length' : 'stop';
    const completion = callOnly ? 24 : tokens(text);
    const prompt = Math.ceil(promptChars / 4) + 12;
    response = {
      id: ids.next('chatcmpl-', 8),
      object: 'chat.completion',
      created: Math.floor((a.startMs + latency) / 1000),
      model: a.model.served,
      choices: [{ index: 0, message, finish_reason: finish }],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
  }
  const metadata: Record<string, unknown> = { tier: a.model.tier, provider: a.model.provider, app: task.app };
  if (a.escalatedFrom) metadata.escalated_from = a.escalatedFrom;
  if (a.selfLabel) metadata.review_status = 'approved';
  const row: Record<string, unknown> = {
    request_id: ids.next('req_'),
    trace_id: a.traceId,
    timestamp: isoUtc(a.startMs),
  };
  if (task.taskKey) row.task_key = task.taskKey;
  const request: Record<string, unknown> = {
    model: a.model.alias,
    messages,
    temperature: rng.pick([0, 0.2, 0.7]),
    max_tokens: 1024,
  };
  if (task.tools.length > 0) request.tools = task.tools;
  row.request = request;
  row.response = response;
  row.error = response === null ? rng.pick(local ? LOCAL_ERRORS : CLOUD_ERRORS) : null;
  row.latency_ms = latency;
  row.metadata = metadata;
  if (a.extraField) row.client_version = `2.${rng.range(10, 19)}.${rng.range(0, 9)}`;
  const exits =
    task.toolStep?.exitCode !== undefined && mode === 'roundtrip'
      ? [
          {
            tool: task.runner ?? task.toolStep.name,
            command: commandLine(task.toolStep),
            exitCode: task.toolStep.exitCode,
            atMs: a.startMs + Math.floor(latency / 2),
          },
        ]
      : [];
  return { row, endMs: a.startMs + latency, exits };
}

/** An agent trajectory row: the whole conversation, tool calls and results inline. */
export function agentRun(task: AgentTask, a: Attempt, rng: Rng): BuiltRun {
  const script = a.answer === 'flawed' ? task.bad : task.good;
  const messages: RawMessage[] = [
    { role: 'system', content: task.system },
    { role: 'user', content: task.user },
  ];
  const exits: BuiltRun['exits'] = [];
  let t = a.startMs;
  // an API error aborts the run part-way through its tool steps
  const stepsRun = a.answer === 'none' ? rng.int(script.steps.length + 1) : script.steps.length;
  for (let i = 0; i < stepsRun; i++) {
    const step = script.steps[i] as ToolStep;
    const call = toolCall(step, rng);
    let result = step.result;
    if (a.canary && a.canary !== 'pii' && i === stepsRun - 1) result += canaryText(a.canary, rng);
    const thought = rng.chance(0.3) ? `Next I'll call ${step.name}.` : null;
    messages.push(
      { role: 'assistant', content: thought, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: result },
    );
    t += rng.range(300, 6_000);
    if (step.exitCode !== undefined)
      exits.push({ tool: step.name, command: commandLine(step), exitCode: step.exitCode, atMs: t });
  }
  let final = answerText(a.answer, task.good.final, task.bad.final);
  if (final !== null && a.canary && (a.canary === 'pii' || stepsRun === 0))
    final += canaryText(a.canary, rng);
  if (final !== null) messages.push({ role: 'assistant', content: final });
  t += rng.range(300, 5_000);
  const chars = messages.reduce((n, m) => n + (m.content?.length ?? 0), 0);
  const row: Record<string, unknown> = { trace_id: a.traceId };
  if (task.taskKey) row.task_key = task.taskKey;
  Object.assign(row, {
    timestamp: isoUtc(a.startMs),
    agent: task.agent,
    model: a.model.served,
    provider: a.model.provider,
    tier: a.model.tier,
    messages,
    tools: task.tools,
    usage: {
      prompt_tokens: Math.ceil(chars / 4) * Math.max(1, stepsRun),
      completion_tokens: tokens(final ?? '') + 20 * stepsRun,
    },
    finish_reason: final === null ? null : a.answer === 'cut' ? 'length' : 'stop',
    error:
      a.answer === 'none'
        ? { type: 'api_error', message: 'model API returned 503 three times; run aborted', status: 503 }
        : null,
    duration_ms: t - a.startMs,
    steps: stepsRun,
  });
  if (a.selfLabel) {
    if (rng.chance(0.5)) row.review_status = 'approved';
    else row.metadata = { is_eval: false, run_group: 'nightly' };
  }
  if (a.extraField) row.debug = { sandbox: `sbx-${rng.range(1, 64)}`, retries: rng.range(0, 2) };
  return { row, endMs: t, exits };
}
