import { sha256 } from '../hash.ts';
import type { Budget } from './budget.ts';
import { CleanMemo, DecisionMemo, MEMO_ENTRIES } from './clean-memo.ts';
import { looksLikeJson } from './decode.ts';
import { redactJsonText } from './json-redact.ts';
import { applyRedactions, detectPii, PII_TYPES, type PiiType } from './pii.ts';

/**
 * Replaces PII in every string of a record with typed placeholders. Free text (messages, tool
 * arguments and results, corrections, review comments, tool descriptions, documents, judgments)
 * is redacted in place: detection runs on the decoded view and the span is replaced where it
 * really is (pii.ts); a string holding JSON is redacted literal by literal and stays valid JSON,
 * field-aware (json-redact.ts). Identifier fields (run / trace ids, task keys, document ids) are
 * never edited piecemeal: one that carries PII is replaced whole by a hashed id (HASHED_ID_PREFIX
 * + the first 24 hex of its sha256), the same for the same id everywhere, so joins, pairing and
 * splits still hold and no export, format or quarantine file writes it. Enum-like fields (roles,
 * categories, model names, flags) and provenance are left as they are.
 */

/** Keys whose values are enums, versions or provenance, never free text or personal data. */
const SKIP_KEYS = new Set([
  'schema_version',
  'evidence_id',
  'stream',
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
  'verdict',
  'kind',
  'usage',
  'status',
]);

/** Identifier fields: replaced whole by a hashed id when they carry PII. */
export const ID_KEYS = new Set(['run_id', 'trace_id', 'task_key', 'escalated_from', 'doc_id', 'session_id']);

/** Prefix of an id that was replaced because it carried personal data. */
export const HASHED_ID_PREFIX = 'pii-id:';

/**
 * Ids already decided (as published: themselves or their hash), with the work deciding cost: a
 * record's run and trace ids are checked as its unit id, its trace and its fields, and an
 * export's rescan checks the same ids in every format. An id whose check ran out of budget is
 * never remembered.
 */
const decidedIds = new DecisionMemo<string | null>(0, MEMO_ENTRIES);

/** The id as it may be published: itself, or its hash when it carries PII (detectors on its decoded view, with `_` `.` `:` `/` as spaces too). */
export function safeId(id: string, budget: Budget): string {
  if (id.startsWith(HASHED_ID_PREFIX)) return id;
  const known = decidedIds.replay(id, budget);
  if (known !== undefined) return known ?? id;
  const spent = budget.spent;
  const out = decideId(id, budget);
  // an id published as itself is remembered as null, not as the id: the memo keeps a long id's
  // hash, not the id (clean-memo.ts), and a value must not keep it either
  if (!budget.exhausted) decidedIds.remember(id, out === id ? null : out, budget.spent - spent);
  return out;
}

function decideId(id: string, budget: Budget): string {
  const spaced = id.replace(/[_:/|]+/g, ' ');
  const carries =
    detectPii(id, budget, 'id').length > 0 ||
    (spaced !== id && detectPii(spaced, budget, 'id').length > 0) ||
    /\p{Lu}\p{Ll}+[ _.-]\p{Lu}\p{Ll}+/u.test(id); // a Firstname Lastname in an id
  return carries ? `${HASHED_ID_PREFIX}${sha256(id).slice(0, 24)}` : id;
}

/** What redaction did to one record. */
export interface Redaction<T> {
  value: T;
  counts: Record<PiiType, number>;
  spans: number;
  /** Characters of free text scanned (the PII_DENSE denominator). */
  chars: number;
  /** Ids replaced by their hash. */
  ids: number;
}

type Acc = { counts: Record<PiiType, number>; spans: number; chars: number; ids: number };

/** Strings without PII and what detecting that cost (see clean-memo.ts). */
const cleanStrings = new CleanMemo(64, MEMO_ENTRIES);

const MAX_JSON = 4 * 1024 * 1024;

/** Redacts one string; adds its spans to `acc`. */
export function redactString(s: string, budget: Budget, where: string, acc: Acc, depth = 0): string {
  if (depth === 0) acc.chars += s.length;
  if (depth === 0 && cleanStrings.replay(s, budget)) return s;
  const spent = budget.spent;
  const before = acc.spans;
  let out = s;
  let parsed: unknown = undefined;
  if (depth < 4 && s.length <= MAX_JSON && looksLikeJson(s)) {
    try {
      parsed = JSON.parse(s);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed !== undefined && parsed !== null && typeof parsed === 'object') {
    budget.charge(s.length, `${where} (json)`);
    out = redactJsonText(
      s,
      parsed,
      (v) => redactString(v, budget, where, acc, depth + 1),
      (t) => {
        acc.counts[t]++;
        acc.spans++;
      },
    );
  } else {
    const spans = detectPii(s, budget, where);
    for (const sp of spans) acc.counts[sp.type]++;
    acc.spans += spans.length;
    if (spans.length > 0) out = applyRedactions(s, spans);
  }
  if (depth === 0 && acc.spans === before && !budget.exhausted)
    cleanStrings.remember(s, budget.spent - spent);
  return out;
}

function walk(v: unknown, path: string, key: string | null, budget: Budget, acc: Acc): unknown {
  if (typeof v === 'string') {
    if (key !== null && ID_KEYS.has(key)) {
      const id = safeId(v, budget);
      if (id !== v) acc.ids++;
      return id;
    }
    return redactString(v, budget, path, acc);
  }
  if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`, key, budget, acc));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] = SKIP_KEYS.has(k) ? x : walk(x, path === '' ? k : `${path}.${k}`, k, budget, acc);
    return out;
  }
  return v;
}

/** Redacts every string of a record (a ScoredRun or an EvidenceRecord): free text by placeholders, ids by hashes. */
export function redactRecord<T>(record: T, budget: Budget): Redaction<T> {
  const acc: Acc = {
    counts: Object.fromEntries(PII_TYPES.map((t) => [t, 0])) as Record<PiiType, number>,
    spans: 0,
    chars: 0,
    ids: 0,
  };
  const value = walk(record, '', null, budget, acc) as T;
  return { value, counts: acc.counts, spans: acc.spans, chars: acc.chars, ids: acc.ids };
}

/** The `pii_redacted:<types>` flag for a redaction (types joined by `+`, in PII_TYPES order), or null. */
export function piiFlag(counts: Record<PiiType, number>): string | null {
  const types = PII_TYPES.filter((t) => counts[t] > 0);
  return types.length ? `pii_redacted:${types.join('+')}` : null;
}
