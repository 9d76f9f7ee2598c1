import type { ReplayCall } from '../../schemas/replay-call.ts';
import { sha256 } from '../lib/hash.ts';
import { callModel, type CallOutcome, type EndpointRole, type ModelError } from './client.ts';
import { buildPrompt, type Prompt } from './prompt.ts';
import type { Retrieved } from './retrieve.ts';
import type { ReplaySettings } from './settings.ts';
import { validateAnswer, type TaskKind, type Validation } from './validate.ts';

/** One task to replay. */
export interface ReplayRequest {
  command: ReplayCall['command'];
  /** The held-out row id in replay-eval; null for `replay --task`. */
  taskId: string | null;
  task: string;
  kind: TaskKind;
  /** The recorded application's system prompt, if any. */
  appSystem?: string | null;
  /** Retrieved documents, best first; null = run without retrieval. */
  retrieved: readonly Retrieved[] | null;
  allowEscalation: boolean;
}

/** One call and its check. */
export interface Attempt {
  endpoint: EndpointRole;
  model: string;
  baseUrl: string;
  outcome: CallOutcome;
  /** null when the call gave no reply. */
  validation: Validation | null;
}

/** What a replay ended with. */
export type ReplayFinal =
  | { ok: true; answer: string; groundedOn: string[]; endpoint: EndpointRole }
  /** `model`: no reply from the last endpoint tried; `invalid`: a reply that failed validation. */
  | { ok: false; failure: 'model' | 'invalid'; answer: string | null; messages: string[] };

/** The full record of one replay. */
export interface ReplayOutcome {
  prompt: Prompt;
  attempts: Attempt[];
  final: ReplayFinal;
}

/** Why an attempt failed, as a short code (`UNREACHABLE`, `NO_CITATION`, …), or null when it passed. */
export function failureCode(a: Attempt): string | null {
  if (!a.outcome.result.ok) return a.outcome.result.error.code;
  return a.validation && !a.validation.ok ? a.validation.reason : null;
}

function failureMessage(a: Attempt): string {
  if (!a.outcome.result.ok) return (a.outcome.result.error as ModelError).message;
  const v = a.validation as Validation;
  return v.ok
    ? ''
    : `${a.endpoint} model ${a.model}: the answer failed validation (${v.reason}: ${v.detail})`;
}

/** Pure: the log row for one attempt. */
export function callRow(
  req: ReplayRequest,
  prompt: Prompt,
  settings: ReplaySettings,
  a: Attempt,
  escalationReason: string | null,
  at: Date,
): ReplayCall {
  const ep = a.endpoint === 'local' ? settings.local : settings.escalation;
  const r = a.outcome.result;
  return {
    schema_version: 1,
    at: at.toISOString(),
    command: req.command,
    task_id: req.taskId,
    task_sha256: sha256(req.task),
    task: req.task.length > 500 ? req.task.slice(0, 500) : req.task,
    kind: req.kind,
    arm: req.retrieved === null ? 'no-retrieval' : 'retrieval',
    retrieved_ids: (req.retrieved ?? []).map((d) => d.id),
    context_ids: prompt.contextIds,
    endpoint: a.endpoint,
    base_url: ep.base_url,
    model: ep.model,
    served_model: r.ok ? r.value.servedModel : null,
    temperature: settings.temperature,
    seed: settings.seed,
    max_tokens: settings.max_tokens,
    timeout_ms: ep.timeout_ms,
    latency_ms: a.outcome.latencyMs,
    prompt_tokens: r.ok ? r.value.promptTokens : null,
    completion_tokens: r.ok ? r.value.completionTokens : null,
    finish_reason: r.ok ? r.value.finishReason : null,
    error: r.ok ? null : { code: r.error.code, message: r.error.message },
    validation:
      a.validation === null
        ? null
        : a.validation.ok
          ? { ok: true, reason: null, detail: null, grounded_on: a.validation.groundedOn }
          : { ok: false, reason: a.validation.reason, detail: a.validation.detail, grounded_on: [] },
    escalated: a.endpoint === 'escalation',
    escalation_reason: escalationReason,
  };
}

/**
 * Replays one task: builds the prompt, calls the local model, validates the answer and, when
 * allowed, retries once on the escalation model if the local call failed or its answer did not
 * validate. Every call is handed to `log` as soon as it returns.
 */
export async function runReplay(
  settings: ReplaySettings,
  req: ReplayRequest,
  env: Readonly<Record<string, string | undefined>>,
  log: (row: ReplayCall) => Promise<void>,
  now: () => Date = () => new Date(),
): Promise<ReplayOutcome> {
  const prompt = buildPrompt({
    task: req.task,
    kind: req.kind,
    documents: req.retrieved,
    appSystem: req.appSystem ?? null,
    maxContextChars: settings.max_context_chars,
  });
  const params = { temperature: settings.temperature, seed: settings.seed, maxTokens: settings.max_tokens };
  const attempts: Attempt[] = [];

  const attempt = async (endpoint: EndpointRole, escalationReason: string | null): Promise<Attempt> => {
    const ep = endpoint === 'local' ? settings.local : settings.escalation;
    const outcome = await callModel(endpoint, ep, prompt.messages, params, env);
    const validation = outcome.result.ok
      ? validateAnswer(
          req.kind,
          outcome.result.value.content,
          prompt.contextIds,
          outcome.result.value.finishReason,
        )
      : null;
    const a: Attempt = { endpoint, model: ep.model, baseUrl: ep.base_url, outcome, validation };
    attempts.push(a);
    await log(callRow(req, prompt, settings, a, escalationReason, now()));
    return a;
  };

  let last = await attempt('local', null);
  const localFailure = failureCode(last);
  if (localFailure !== null && req.allowEscalation) last = await attempt('escalation', localFailure);

  if (last.validation?.ok)
    return {
      prompt,
      attempts,
      final: {
        ok: true,
        answer: last.validation.answer,
        groundedOn: last.validation.groundedOn,
        endpoint: last.endpoint,
      },
    };
  return {
    prompt,
    attempts,
    final: {
      ok: false,
      failure: last.outcome.result.ok ? 'invalid' : 'model',
      answer: last.validation ? last.validation.answer : null,
      messages: attempts.map(failureMessage),
    },
  };
}
