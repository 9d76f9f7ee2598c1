import OpenAI from 'openai';
import { z } from 'zod';
import type { ModelEndpoint } from '../../schemas/replay-config.ts';
import { err, ok, type Result } from '../lib/result.ts';
import type { PromptMessage } from './prompt.ts';

/**
 * The model client: one chat completions call to an OpenAI-compatible endpoint through the
 * official `openai` client (Ollama, llama.cpp server, vLLM, LM Studio and cloud APIs speak the
 * same contract). Expected failures come back as typed values with a message that says which URL,
 * what happened and how to fix it; only bugs throw.
 */

/** Which configured endpoint a call went to (it decides the config keys and env vars named in messages). */
export type EndpointRole = 'local' | 'escalation';

/** Why a call produced no reply. */
export const MODEL_ERRORS = [
  'NOT_CONFIGURED',
  'NO_API_KEY',
  'UNREACHABLE',
  'TIMEOUT',
  'AUTH',
  'MODEL_NOT_FOUND',
  'HTTP_ERROR',
  'INVALID_RESPONSE',
] as const;
export type ModelErrorCode = (typeof MODEL_ERRORS)[number];

/** A failed call: a code and a message a user can act on. */
export interface ModelError {
  code: ModelErrorCode;
  message: string;
}

/** A reply from the model. */
export interface ModelReply {
  content: string | null;
  finishReason: string | null;
  /** The model the server says answered (may differ from the requested name). */
  servedModel: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

/** Settings that change results; sent with every call and recorded in the log. */
export interface SamplingParams {
  temperature: number;
  seed: number | null;
  maxTokens: number;
}

/** One call's outcome and how long it took. */
export interface CallOutcome {
  result: Result<ModelReply, ModelError>;
  latencyMs: number;
}

const PREFIX: Record<EndpointRole, string> = { local: 'DISTILL_LOCAL', escalation: 'DISTILL_ESCALATION' };

/** How to point replay at a working server, for messages. */
function whereToFix(role: EndpointRole, ep: ModelEndpoint): string {
  if (role === 'local') {
    return `Start one, e.g. \`ollama serve\` then \`ollama pull ${ep.model || 'qwen2.5:7b-instruct'}\` (or a llama.cpp server, vLLM or LM Studio), or point ${PREFIX.local}_BASE_URL / replay.local.base_url at a running OpenAI-compatible server.`;
  }
  return `Check ${PREFIX.escalation}_BASE_URL / replay.escalation.base_url.`;
}

/** The API key for an endpoint: from the env var it names, or a placeholder when it names none. */
function apiKeyFor(
  role: EndpointRole,
  ep: ModelEndpoint,
  env: Readonly<Record<string, string | undefined>>,
): Result<string, ModelError> {
  if (ep.api_key_env === '') return ok('not-needed');
  const key = env[ep.api_key_env];
  if (key === undefined || key === '') {
    return err({
      code: 'NO_API_KEY',
      message: `${role} model: the API key variable ${ep.api_key_env} (named by replay.${role}.api_key_env / ${PREFIX[role]}_API_KEY_ENV) is not set; export it, or name another variable`,
    });
  }
  return ok(key);
}

/** A client for an endpoint, or why there cannot be one. */
function clientFor(
  role: EndpointRole,
  ep: ModelEndpoint,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs: number,
): Result<OpenAI, ModelError> {
  if (ep.base_url === '' || ep.model === '') {
    return err({
      code: 'NOT_CONFIGURED',
      message: `no ${role} model configured: set replay.${role}.base_url and replay.${role}.model in distill.config.json, or ${PREFIX[role]}_BASE_URL and ${PREFIX[role]}_MODEL (and ${PREFIX[role]}_API_KEY_ENV = the name of the variable holding its key)`,
    });
  }
  const key = apiKeyFor(role, ep, env);
  if (!key.ok) return key;
  // organization / project pinned to null so OPENAI_* variables never leak to another server
  return ok(
    new OpenAI({
      baseURL: ep.base_url,
      apiKey: key.value,
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: timeoutMs,
    }),
  );
}

/** The OpenAI-compatible response fields replay reads; anything else is ignored. */
const ChatResponse = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
});

const clip = (s: string, max = 160): string => (s.length > max ? `${s.slice(0, max)}…` : s);

/** Turns what the openai client threw into a typed error; rethrows what is not an API failure (a bug). */
function classify(role: EndpointRole, ep: ModelEndpoint, timeoutMs: number, e: unknown): ModelError {
  const at = `${role} model ${ep.model} at ${ep.base_url}`;
  if (e instanceof OpenAI.APIConnectionTimeoutError) {
    return {
      code: 'TIMEOUT',
      message: `${at} did not answer within ${timeoutMs} ms (replay.${role}.timeout_ms / ${PREFIX[role]}_TIMEOUT_MS). A first call may be loading the model: retry, or raise the timeout.`,
    };
  }
  if (e instanceof OpenAI.APIConnectionError) {
    const cause = (e as { cause?: { code?: string; cause?: { code?: string } } }).cause;
    const code = cause?.code ?? cause?.cause?.code;
    return {
      code: 'UNREACHABLE',
      message: `no model server reachable at ${ep.base_url}${code ? ` (${code})` : ''}. ${whereToFix(role, ep)}`,
    };
  }
  if (e instanceof OpenAI.APIError) {
    const detail = clip(String((e.error as { message?: unknown } | undefined)?.message ?? e.message));
    if (e.status === 401 || e.status === 403) {
      return {
        code: 'AUTH',
        message: `${at} refused the API key (HTTP ${e.status}: ${detail}); check the variable named by replay.${role}.api_key_env / ${PREFIX[role]}_API_KEY_ENV`,
      };
    }
    if (e.status === 404) {
      const pull = role === 'local' ? ` If it is Ollama: \`ollama pull ${ep.model}\`.` : '';
      return {
        code: 'MODEL_NOT_FOUND',
        message: `${at}: HTTP 404 (${detail}). The model is not there or the base URL is wrong (it usually ends in /v1).${pull}`,
      };
    }
    return { code: 'HTTP_ERROR', message: `${at}: HTTP ${e.status ?? '?'} (${detail})` };
  }
  if (e instanceof SyntaxError) {
    return {
      code: 'INVALID_RESPONSE',
      message: `${at} returned a body that is not valid JSON (${e.message}); expected an OpenAI-compatible /chat/completions response`,
    };
  }
  throw e;
}

/** One chat completions call. Never throws for network, HTTP or protocol failures. */
export async function callModel(
  role: EndpointRole,
  ep: ModelEndpoint,
  messages: readonly PromptMessage[],
  params: SamplingParams,
  env: Readonly<Record<string, string | undefined>>,
): Promise<CallOutcome> {
  const client = clientFor(role, ep, env, ep.timeout_ms);
  if (!client.ok) return { result: client, latencyMs: 0 };
  const t0 = performance.now();
  let body: unknown;
  try {
    body = await client.value.chat.completions.create({
      model: ep.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: params.temperature,
      max_tokens: params.maxTokens,
      ...(params.seed === null ? {} : { seed: params.seed }),
    });
  } catch (e) {
    return {
      result: err(classify(role, ep, ep.timeout_ms, e)),
      latencyMs: Math.round(performance.now() - t0),
    };
  }
  const latencyMs = Math.round(performance.now() - t0);
  const res = ChatResponse.safeParse(body);
  if (!res.success) {
    const got =
      typeof body === 'string'
        ? `text ${JSON.stringify(clip(body, 80))}`
        : clip(JSON.stringify(body) ?? String(body), 120);
    const i = res.error.issues[0];
    return {
      result: err({
        code: 'INVALID_RESPONSE',
        message: `${role} model ${ep.model} at ${ep.base_url} returned something that is not a chat completion (${i?.path.join('.') || '(root)'}: ${i?.message}); got ${got}`,
      }),
      latencyMs,
    };
  }
  const choice = res.data.choices[0] as z.infer<typeof ChatResponse>['choices'][number];
  return {
    result: ok({
      content: choice.message.content ?? choice.message.refusal ?? null,
      finishReason: choice.finish_reason ?? null,
      servedModel: res.data.model ?? null,
      promptTokens: res.data.usage?.prompt_tokens ?? null,
      completionTokens: res.data.usage?.completion_tokens ?? null,
    }),
    latencyMs,
  };
}

/**
 * Checks that a server answers at all (GET /models, short timeout) before a batch of calls.
 * Returns null when it answers (whatever the status), else why not. `models` lists what a server
 * that supports the listing serves, so the caller can warn about a model that is not there.
 */
export async function probeModel(
  role: EndpointRole,
  ep: ModelEndpoint,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 5000,
): Promise<{ error: ModelError | null; models: string[] | null }> {
  const t = Math.min(timeoutMs, ep.timeout_ms);
  const client = clientFor(role, ep, env, t);
  if (!client.ok) return { error: client.error, models: null };
  try {
    const page = await client.value.models.list();
    const data = (page as { data?: unknown }).data;
    const models = Array.isArray(data)
      ? data
          .map((m) => String((m as { id?: unknown }).id ?? ''))
          .filter((id) => id !== '')
          .sort()
      : null;
    return { error: null, models };
  } catch (e) {
    if (e instanceof OpenAI.APIConnectionError) {
      const me = classify(role, ep, t, e);
      return {
        error:
          me.code === 'TIMEOUT'
            ? { ...me, message: `no answer from ${ep.base_url} within ${t} ms. ${whereToFix(role, ep)}` }
            : me,
        models: null,
      };
    }
    if (e instanceof OpenAI.APIError || e instanceof SyntaxError) return { error: null, models: null };
    throw e;
  }
}
