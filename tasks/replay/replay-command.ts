import { parseArgs } from 'node:util';
import { log } from '../lib/log.ts';
import { loadConfig } from '../lib/project.ts';
import { UserError } from '../lib/result.ts';
import { callLogger } from './call-log.ts';
import { loadRagIndex } from './load-index.ts';
import { buildPrompt, type Prompt } from './prompt.ts';
import { runReplay, type ReplayOutcome } from './replay.ts';
import { retrieve, type Retrieved } from './retrieve.ts';
import { resolveReplaySettings, type ReplaySettings } from './settings.ts';
import { TASK_KINDS, type TaskKind } from './validate.ts';

/** Exit codes of `distill replay`. */
export const REPLAY_EXIT = { ok: 0, invalid: 1, usage: 2, model: 3 } as const;

/** Usage line of `distill replay`. */
export const REPLAY_USAGE =
  'replay --task "<input>" [--kind text|json] [--no-retrieval] [--allow-escalation] [--dry-run] [--k N] [--json]';

/** Parses `--kind`; a UserError lists the kinds. */
export function parseKind(v: string | undefined): TaskKind {
  if (v === undefined) return 'text';
  if ((TASK_KINDS as readonly string[]).includes(v)) return v as TaskKind;
  throw new UserError('USAGE', `--kind must be one of ${TASK_KINDS.join(', ')}, got "${v}"`);
}

/** Parses `--k`. */
export function parseK(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const k = Number(v);
  if (!Number.isInteger(k) || k < 1 || k > 50)
    throw new UserError('USAGE', `--k must be an integer from 1 to 50, got "${v}"`);
  return k;
}

const oneLine = (s: string, max: number): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** The retrieved documents as a numbered list (dry-run and eval examples). */
export function formatRetrieved(docs: readonly Retrieved[]): string {
  if (docs.length === 0) return '  (no document matched the task)';
  return docs
    .map(
      (d) =>
        `  ${d.rank}. ${d.id}  score ${d.score.toFixed(4)}  ${d.kind}${d.task_key ? `  ${d.task_key}` : ''}\n     ${oneLine(d.text, 110)}`,
    )
    .join('\n');
}

/** The exact request a replay sends, for --dry-run. */
export function requestBody(settings: ReplaySettings, prompt: Prompt): Record<string, unknown> {
  return {
    model: settings.local.model,
    messages: prompt.messages,
    temperature: settings.temperature,
    max_tokens: settings.max_tokens,
    ...(settings.seed === null ? {} : { seed: settings.seed }),
  };
}

/** The dry-run text: retrieved documents, then the exact messages between markers. */
export function formatDryRun(
  settings: ReplaySettings,
  retrieved: readonly Retrieved[] | null,
  prompt: Prompt,
): string {
  const lines: string[] = [];
  if (retrieved === null) lines.push('Retrieval: off (--no-retrieval)');
  else
    lines.push(
      `Retrieved ${retrieved.length} document${retrieved.length === 1 ? '' : 's'} (k = ${settings.k}):`,
      formatRetrieved(retrieved),
    );
  if (prompt.omittedIds.length > 0)
    lines.push(
      `Left out of the prompt (replay.max_context_chars = ${settings.max_context_chars}): ${prompt.omittedIds.join(', ')}`,
    );
  lines.push(
    '',
    `Request: POST ${settings.local.base_url.replace(/\/+$/, '')}/chat/completions  model=${settings.local.model} temperature=${settings.temperature} seed=${settings.seed ?? 'none'} max_tokens=${settings.max_tokens}`,
  );
  for (const m of prompt.messages) lines.push(`──── ${m.role} ────`, m.content);
  lines.push('──── end ────', '', 'Dry run: no model was called.');
  return lines.join('\n');
}

const callText = (a: ReplayOutcome['attempts'][number]): string => {
  const r = a.outcome.result;
  const tokens =
    r.ok && r.value.promptTokens !== null
      ? `, ${r.value.promptTokens} + ${r.value.completionTokens ?? '?'} tokens`
      : '';
  return `${a.endpoint} ${a.model} (${(a.outcome.latencyMs / 1000).toFixed(1)} s${tokens})`;
};

/** Who answered, and who failed before: `escalation m2 (…) after local m1 (…) failed`. */
function summary(out: ReplayOutcome): string {
  const last = out.attempts[out.attempts.length - 1];
  const before = out.attempts.slice(0, -1).map(callText);
  return `${last ? callText(last) : '?'}${before.length > 0 ? ` after ${before.join(', ')} failed` : ''}`;
}

/** `distill replay`: one task through retrieval and the local model (see docs/replay.md). */
export async function replayCommand(root: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      task: { type: 'string' },
      kind: { type: 'string' },
      'no-retrieval': { type: 'boolean', default: false },
      'allow-escalation': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      k: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UserError(
      'USAGE',
      `unexpected argument "${positionals[0]}": pass the task as --task "<input>"`,
    );
  const task = values.task;
  if (task === undefined || task.trim() === '')
    throw new UserError('USAGE', `replay needs a task: distill ${REPLAY_USAGE}`);
  const kind = parseKind(values.kind);
  const { settings: base } = resolveReplaySettings(loadConfig(root).replay, process.env);
  const settings = { ...base, k: parseK(values.k, base.k) };
  const allowEscalation = values['allow-escalation'] === true;
  if (allowEscalation && (settings.escalation.base_url === '' || settings.escalation.model === '')) {
    throw new UserError(
      'CONFIG_INVALID',
      '--allow-escalation needs an escalation model: set replay.escalation.base_url and replay.escalation.model in distill.config.json, or DISTILL_ESCALATION_BASE_URL and DISTILL_ESCALATION_MODEL (and DISTILL_ESCALATION_API_KEY_ENV = the name of the variable holding its API key)',
    );
  }

  let retrieved: Retrieved[] | null = null;
  if (values['no-retrieval'] !== true) {
    const { index, warning } = await loadRagIndex(root);
    if (warning) log.warn(warning);
    retrieved = retrieve(index, task, settings.k);
  }

  if (values['dry-run'] === true) {
    const prompt = buildPrompt({
      task,
      kind,
      documents: retrieved,
      maxContextChars: settings.max_context_chars,
    });
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ retrieved, context_ids: prompt.contextIds, omitted_ids: prompt.omittedIds, request: requestBody(settings, prompt) }, null, 2)}\n`
        : `${formatDryRun(settings, retrieved, prompt)}\n`,
    );
    return REPLAY_EXIT.ok;
  }

  const out = await runReplay(
    settings,
    { command: 'replay', taskId: null, task, kind, retrieved, allowEscalation },
    process.env,
    callLogger(root, settings),
  );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: out.final.ok, final: out.final, retrieved_ids: (retrieved ?? []).map((d) => d.id), context_ids: out.prompt.contextIds, attempts: out.attempts.map((a) => ({ endpoint: a.endpoint, model: a.model, base_url: a.baseUrl, latency_ms: a.outcome.latencyMs, result: a.outcome.result, validation: a.validation })) }, null, 2)}\n`,
    );
  }
  const first = out.attempts[0];
  if (out.attempts.length > 1 && first)
    log.warn(
      `local answer not usable (${first.outcome.result.ok ? `${first.validation && !first.validation.ok ? first.validation.reason : ''}` : first.outcome.result.error.code}); escalated to ${settings.escalation.model} at ${settings.escalation.base_url}`,
    );
  if (out.final.ok) {
    if (!values.json) {
      const grounded =
        retrieved === null
          ? '(no retrieval)'
          : out.final.groundedOn.length > 0
            ? out.final.groundedOn.join(', ')
            : '(no document was in the prompt)';
      process.stdout.write(`${out.final.answer}\n\ngrounded on: ${grounded}\n`);
    }
    log.done(
      `replay: answered by ${summary(out)}; ${retrieved === null ? 'no retrieval' : `${retrieved.length} retrieved, ${out.final.groundedOn.length} cited`}; logged to reports/replay/calls.jsonl`,
    );
    return REPLAY_EXIT.ok;
  }
  for (const m of out.final.messages) log.error(m);
  if (out.final.failure === 'invalid') {
    if (!values.json && out.final.answer !== null) process.stdout.write(`${out.final.answer}\n`);
    const hint = allowEscalation ? '' : ' (--allow-escalation retries on the escalation model)';
    log.error(`replay: the answer failed validation${hint}; logged to reports/replay/calls.jsonl`);
    return REPLAY_EXIT.invalid;
  }
  log.error('replay: no answer from any model; logged to reports/replay/calls.jsonl');
  return REPLAY_EXIT.model;
}
