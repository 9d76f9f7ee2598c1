import { z } from 'zod';
import { unreachable } from '../lib/result.ts';

/**
 * Pure: checks a model's reply against the output contract of its task kind.
 *
 * - `text`: a free-text answer; non-empty, not refusal boilerplate, not cut off, and when documents
 *   were in the prompt it cites at least one of them by id (and no id that was not there).
 * - `json`: exactly one JSON object `{"answer": …, "sources": [ids]}` (a ```json fence around it is
 *   accepted), checked by the zod schema below, with the same rules for the answer and the sources.
 */

/** The task kinds replay knows, each with its output contract. */
export const TASK_KINDS = ['text', 'json'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** Why an answer failed validation. */
export const VALIDATION_REASONS = [
  'EMPTY_ANSWER',
  'TRUNCATED',
  'REFUSAL',
  'NO_CITATION',
  'UNKNOWN_CITATION',
  'INVALID_JSON',
  'SCHEMA_MISMATCH',
] as const;
export type ValidationReason = (typeof VALIDATION_REASONS)[number];

/** The outcome: the answer text and the document ids it is grounded on, or a reason. */
export type Validation =
  | { ok: true; answer: string; groundedOn: string[] }
  | { ok: false; reason: ValidationReason; detail: string; answer: string };

/** The JSON-answer contract. */
export const JsonAnswer = z.object({
  answer: z.union([z.string().trim().min(1), z.record(z.string(), z.unknown()), z.array(z.unknown()).min(1)]),
  sources: z.array(z.string()),
});

/** Document ids as the corpus writes them (`rag_` + 24 hex, `-<i>` for a chunk). */
const ID_RE = /rag_[0-9a-f]{24}(?:-\d+)?/g;

// Boilerplate that means "no answer". Anchored at the start (or "as an AI" anywhere), so an answer
// that opens with an apology and then helps ("I'm sorry about that! Your order is…") passes.
const REFUSALS: readonly RegExp[] = [
  /\bas an ai\b(?: language model| assistant| model)?/i,
  /^\W*(?:i'm sorry|i am sorry|sorry|unfortunately|apologies)\b[^.!?\n]{0,60}\bi (?:can't|cannot|can not|am unable to|'m unable to|am not able to|'m not able to|won't|will not)\b/i,
  /^\W*i (?:can't|cannot|can not|am unable to|'m unable to|am not able to|'m not able to|won't|will not) (?:help|assist|provide|answer|comply|do that|fulfil|fulfill|complete|support|respond)/i,
  /^\W*i (?:do not|don't) have (?:access to|enough information|the ability|the information)/i,
];

/** True when a reply is refusal boilerplate rather than an answer. */
export function isRefusal(text: string): boolean {
  const t = text.replace(/[\u2018\u2019]/g, "'").trim();
  return REFUSALS.some((r) => r.test(t));
}

/** Ids cited in a text, unique, in order of first appearance. */
export function citedIds(text: string): string[] {
  return [...new Set(text.match(ID_RE) ?? [])];
}

function checkCitations(cited: readonly string[], contextIds: readonly string[], answer: string): Validation {
  const known = new Set(contextIds);
  const unknown = cited.filter((id) => !known.has(id));
  if (unknown.length > 0)
    return {
      ok: false,
      reason: 'UNKNOWN_CITATION',
      detail: `cites ${unknown.join(', ')}, which ${unknown.length === 1 ? 'was' : 'were'} not in the prompt (given: ${contextIds.join(', ') || 'none'})`,
      answer,
    };
  const grounded = cited.filter((id) => known.has(id));
  if (contextIds.length > 0 && grounded.length === 0)
    return {
      ok: false,
      reason: 'NO_CITATION',
      detail: `cites none of the ${contextIds.length} documents it was given (expected at least one id in square brackets, e.g. [${contextIds[0]}])`,
      answer,
    };
  return { ok: true, answer, groundedOn: grounded };
}

/** Strips one ```json … ``` (or ``` … ```) fence around the whole reply. */
function unfence(s: string): string {
  const m = /^```(?:json|JSON)?[ \t]*\n([\s\S]*?)\n?```$/.exec(s.trim());
  return m ? (m[1] as string) : s.trim();
}

const clip = (s: string, max = 120): string =>
  s.length > max ? `${JSON.stringify(s.slice(0, max))}…` : JSON.stringify(s);

/**
 * Validates one reply. `contextIds` are the documents that were in the prompt (empty without
 * retrieval); `finishReason` is the server's (`length` = cut off by max_tokens).
 */
export function validateAnswer(
  kind: TaskKind,
  content: string | null,
  contextIds: readonly string[],
  finishReason: string | null,
): Validation {
  const raw = content ?? '';
  if (raw.trim() === '')
    return { ok: false, reason: 'EMPTY_ANSWER', detail: 'the reply has no text', answer: raw };
  if (finishReason === 'length')
    return {
      ok: false,
      reason: 'TRUNCATED',
      detail: 'the reply was cut off at max_tokens (finish_reason "length"); raise replay.max_tokens',
      answer: raw,
    };
  switch (kind) {
    case 'text': {
      const answer = raw.trim();
      if (isRefusal(answer))
        return {
          ok: false,
          reason: 'REFUSAL',
          detail: `the reply is refusal boilerplate: ${clip(answer)}`,
          answer,
        };
      return checkCitations(citedIds(answer), contextIds, answer);
    }
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(unfence(raw));
      } catch (e) {
        return {
          ok: false,
          reason: 'INVALID_JSON',
          detail: `the reply is not JSON (${(e as Error).message}); got ${clip(raw.trim())}`,
          answer: raw.trim(),
        };
      }
      const res = JsonAnswer.safeParse(value);
      if (!res.success) {
        const i = res.error.issues[0];
        return {
          ok: false,
          reason: 'SCHEMA_MISMATCH',
          detail: `expected {"answer": …, "sources": [ids]}; at ${i?.path.join('.') || '(root)'}: ${i?.message}`,
          answer: raw.trim(),
        };
      }
      const answer =
        typeof res.data.answer === 'string'
          ? res.data.answer.trim()
          : JSON.stringify(res.data.answer, null, 2);
      if (typeof res.data.answer === 'string' && isRefusal(answer))
        return {
          ok: false,
          reason: 'REFUSAL',
          detail: `the answer is refusal boilerplate: ${clip(answer)}`,
          answer,
        };
      return checkCitations([...new Set(res.data.sources)], contextIds, answer);
    }
    default:
      return unreachable(kind);
  }
}
