import type { Budget } from './budget.ts';
import { CleanMemo } from './clean-memo.ts';
import { looksLikeJson } from './decode.ts';
import { applyRedactions, detectPii, PII_TYPES, type PiiSpan, type PiiType } from './pii.ts';

/**
 * Replaces PII in every free-text string of a record (messages, tool arguments and results,
 * corrections, review comments, documents, judgments) with typed placeholders, leaving the fields
 * that identify and trace the row (ids, provenance, roles, names, categories) untouched. A string
 * holding JSON (tool arguments, tool results) is redacted inside its string literals only, so it
 * stays valid JSON and its numbers and keys keep their exact bytes.
 */

/** Keys whose values are identifiers, enums or provenance, never free text. */
const SKIP_KEYS = new Set([
  'schema_version',
  'run_id',
  'evidence_id',
  'stream',
  'task_key',
  'recorded_at',
  'category',
  'decided_by',
  'rules_fired',
  'rule_table_version',
  'flags',
  'provenance',
  'role',
  'type',
  'id',
  'tool_call_id',
  'name',
  'model',
  'provider',
  'tier',
  'finish_reason',
  'escalated_from',
  'verdict',
  'trace_id',
  'kind',
  'doc_id',
  'usage',
  'status',
]);

/** What redaction did to one record. */
export interface Redaction<T> {
  value: T;
  counts: Record<PiiType, number>;
  spans: number;
  /** Characters of free text scanned (the PII_DENSE denominator). */
  chars: number;
}

/** The string literal spans [start, end) (contents, without quotes) of a JSON text. */
function stringLiterals(json: string): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < json.length; i++) {
    if (json.charCodeAt(i) !== 34) continue;
    const start = i + 1;
    let j = start;
    while (j < json.length && json.charCodeAt(j) !== 34) j += json.charCodeAt(j) === 92 ? 2 : 1;
    out.push([start, j]);
    i = j;
  }
  return out;
}

/** Spans inside the string literals of a JSON text, or null when `s` is not JSON. */
function jsonLiteralSpans(s: string, budget: Budget, where: string): PiiSpan[] | null {
  try {
    JSON.parse(s);
  } catch {
    return null;
  }
  const spans: PiiSpan[] = [];
  for (const [a, b] of stringLiterals(s))
    for (const sp of detectPii(s.slice(a, b), budget, where))
      spans.push({ type: sp.type, start: a + sp.start, end: a + sp.end });
  return spans;
}

/** Strings without PII and what detecting that cost (see clean-memo.ts). */
const cleanStrings = new CleanMemo();

/** Redacts one string; adds its spans to `counts`. */
export function redactString(
  s: string,
  budget: Budget,
  where: string,
  acc: { counts: Record<PiiType, number>; spans: number; chars: number },
): string {
  acc.chars += s.length;
  if (cleanStrings.replay(s, budget)) return s;
  const spent = budget.spent;
  const spans = (looksLikeJson(s) ? jsonLiteralSpans(s, budget, where) : null) ?? detectPii(s, budget, where);
  if (spans.length === 0 && !budget.exhausted) cleanStrings.remember(s, budget.spent - spent);
  if (spans.length === 0) return s;
  for (const sp of spans) acc.counts[sp.type]++;
  acc.spans += spans.length;
  return applyRedactions(s, spans);
}

function walk(
  v: unknown,
  path: string,
  budget: Budget,
  acc: { counts: Record<PiiType, number>; spans: number; chars: number },
): unknown {
  if (typeof v === 'string') return redactString(v, budget, path, acc);
  if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`, budget, acc));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] = SKIP_KEYS.has(k) ? x : walk(x, path === '' ? k : `${path}.${k}`, budget, acc);
    return out;
  }
  return v;
}

/** Redacts every free-text string of a record (a ScoredRun or an EvidenceRecord). */
export function redactRecord<T>(record: T, budget: Budget): Redaction<T> {
  const acc = {
    counts: Object.fromEntries(PII_TYPES.map((t) => [t, 0])) as Record<PiiType, number>,
    spans: 0,
    chars: 0,
  };
  const value = walk(record, '', budget, acc) as T;
  return { value, counts: acc.counts, spans: acc.spans, chars: acc.chars };
}

/** The `pii_redacted:<types>` flag for a redaction (types joined by `+`, in PII_TYPES order), or null. */
export function piiFlag(counts: Record<PiiType, number>): string | null {
  const types = PII_TYPES.filter((t) => counts[t] > 0);
  return types.length ? `pii_redacted:${types.join('+')}` : null;
}
