import { z } from 'zod';
import type { Drop } from '../lib/result.ts';

/**
 * Validates a vendor row against a loose zod schema and turns the first issue into a drop with a
 * catalogue reason code (SCHEMA_MISSING_FIELD, SCHEMA_TYPE, SCHEMA_ENUM, SCHEMA_INVALID) and the
 * JSON path of the bad field, so the quarantine says exactly what to fix.
 */
export function readInput<S extends z.ZodType>(
  schema: S,
  row: unknown,
): { ok: true; data: z.output<S> } | { ok: false; drop: Drop } {
  const res = schema.safeParse(row);
  if (res.success) return { ok: true, data: res.data };
  const issue = res.error.issues[0];
  if (!issue)
    return { ok: false, drop: { reason: 'SCHEMA_INVALID', detail: 'row does not match the input schema' } };
  const path = `$${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
  let reason = 'SCHEMA_INVALID';
  // a union (string | number, ...) reports a missing field as invalid_union: look at the value itself
  const absent = valueAt(row, issue.path) === undefined;
  if (issue.code === 'invalid_type') {
    const missing = /received undefined/.test(issue.message);
    reason = missing ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_TYPE';
  } else if (issue.code === 'invalid_union' && absent) {
    return {
      ok: false,
      drop: { reason: 'SCHEMA_MISSING_FIELD', detail: `${path}: required field is missing` },
    };
  } else if (issue.code === 'invalid_value' || issue.code === 'invalid_union') {
    reason = 'SCHEMA_ENUM';
  }
  return { ok: false, drop: { reason, detail: `${path}: ${issue.message}` } };
}

/** The value at a zod issue path inside the row, or undefined. */
function valueAt(row: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = row;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * The `unknown_fields` check of an adapter: a row carrying keys other than `known` (they are never
 * exported) gets the flag. `known` is the input schema's keys (`Object.keys(Row.shape)`), plus the
 * fields a source is known to write that the adapter leaves alone; the set is built once, not per row.
 */
export function unknownFieldsCheck(known: readonly string[]): (row: Record<string, unknown>) => string[] {
  const set = new Set(known);
  return (row) => (Object.keys(row).some((k) => !set.has(k)) ? ['unknown_fields'] : []);
}

/**
 * The envelope a request/response call log wraps around one API call (OpenAI chat logs, Anthropic
 * Messages logs): ids to take the trace id from, the task key and the time (first in the row
 * schema), and the call's status (after the adapter's own `request` / `response` / `error`; the
 * order is the order zod reports problems in).
 */
export const CALL_LOG_IDS = {
  trace_id: z.string().min(1).nullish(),
  id: z.string().min(1).nullish(),
  request_id: z.string().min(1).nullish(),
  task_key: z.string().min(1).nullish(),
  timestamp: z.union([z.string(), z.number()]).nullish(),
  created_at: z.union([z.string(), z.number()]).nullish(),
};
export const CALL_LOG_STATUS = {
  status_code: z.number().int().nullish(),
  latency_ms: z.number().nonnegative().nullish(),
};
