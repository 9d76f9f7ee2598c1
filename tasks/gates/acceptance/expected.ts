import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CATEGORIES } from '../../../schemas/category.ts';
import { UserError } from '../../lib/result.ts';
import { PII_TYPES } from '../../lib/safety/pii.ts';

/**
 * The acceptance fixture's `expected.json`: the counts and the named rows the gate pins. Rows are
 * named by where they sit in the fixture's sources (a "location"), never by derived ids, so the
 * file stays readable and survives id changes.
 */

/** Name of the pinned expectations inside the fixture folder. */
export const EXPECTED_FILE = 'expected.json';

const Count = z.number().int().nonnegative();

/**
 * A source row: `path:N` (N is the 1-based line of a JSONL file, as `distill trace` prints it) or
 * `path[i]` (the 0-based element of a JSON array file, as its locator `$[i]`).
 */
const Location = z
  .string()
  .regex(/^[^:[\]]+(:[1-9][0-9]*|\[[0-9]+\])$/, 'expected "path:line" (1-based) or "path[element]"');

/** Export row counts by the funnel's export names, plus preference pairs by type. */
export const EXPORT_COUNT_KEYS = [
  'rag',
  'rag.documents',
  'sft',
  'sft-partial',
  'preference',
  'preference.outcome',
  'preference.correction',
  'preference.judgment',
  'kto',
] as const;

/** What the fixture must produce. */
export const Expected = z.strictObject({
  schema_version: z.literal(1),
  streams: z.record(z.string(), z.strictObject({ records: Count, quarantined_units: Count })),
  categories: z.strictObject(
    Object.fromEntries(CATEGORIES.map((c) => [c, Count])) as Record<
      (typeof CATEGORIES)[number],
      typeof Count
    >,
  ),
  rules: z.record(z.string(), Count),
  quarantine: z.record(z.string(), z.record(z.string(), Count)),
  exports: z.strictObject(
    Object.fromEntries(EXPORT_COUNT_KEYS.map((k) => [k, Count])) as Record<
      (typeof EXPORT_COUNT_KEYS)[number],
      typeof Count
    >,
  ),
  canaries: z.array(z.strictObject({ value: z.string().min(8), rule: z.string(), source: Location })).min(1),
  pii: z
    .array(z.strictObject({ value: z.string().min(3), type: z.enum(PII_TYPES), source: Location }))
    .min(1),
  duplicates: z
    .array(z.strictObject({ stage: z.string(), reason: z.string(), dropped: Location, kept: Location }))
    .min(1),
  contamination: z.array(z.strictObject({ source: Location, ref: z.string() })).min(1),
});
export type Expected = z.infer<typeof Expected>;

/** A parsed location: the source file and the 0-based line / element (`line_offset` of provenance). */
export interface SourceLocation {
  file: string;
  lineOffset: number;
}

/** Parses `path:N` (1-based line) or `path[i]` (0-based element). */
export function parseLocation(loc: string): SourceLocation {
  const el = /^(.*)\[(\d+)\]$/.exec(loc);
  if (el) return { file: el[1] as string, lineOffset: Number(el[2]) };
  const i = loc.lastIndexOf(':');
  return { file: loc.slice(0, i), lineOffset: Number(loc.slice(i + 1)) - 1 };
}

/** The key of a row by file and 0-based offset, for lookups. */
export function locationKey(file: string, lineOffset: number | null): string {
  return `${file}\u0000${lineOffset ?? ''}`;
}

/** Reads and validates `<fixture>/expected.json`; errors name the field and say how to fix it. */
export function loadExpected(fixtureDir: string): Expected {
  const path = join(fixtureDir, EXPECTED_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(
      'FIXTURE_INVALID',
      `cannot read ${path}: ${(e as Error).message}; the acceptance fixture needs its pinned expectations`,
    );
  }
  const res = Expected.safeParse(raw);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UserError('FIXTURE_INVALID', `${path} is invalid:\n${lines.join('\n')}`);
  }
  return res.data;
}
