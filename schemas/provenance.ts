import { z } from 'zod';

/** Version of the Provenance record shape. */
export const SCHEMA_VERSION = 1;

/** Lowercase hex SHA-256. */
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256');

/** Strict RFC 3339 UTC timestamp as written by `Date.prototype.toISOString`. */
export const IsoTimestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected YYYY-MM-DDTHH:MM:SS.sssZ');

/** Where a derived row came from: the exact source unit, and the hash to re-check it by. */
export const Provenance = z
  .strictObject({
    source_file: z
      .string()
      .min(1)
      .refine(
        (p) => !p.startsWith('/') && !p.split('/').includes('..'),
        'must be a relative path inside the project',
      )
      .describe('Source file, relative to the project root, POSIX separators'),
    line_offset: z
      .number()
      .int()
      .nonnegative()
      .describe(
        '0-based line number for JSONL; element index for a JSON array file; 0 for a one-document file',
      ),
    locator: z
      .string()
      .optional()
      .describe(
        'Where in a non-JSONL file the row came from (e.g. "$[12]", "$.trajectory"); absent for JSONL',
      ),
    sig_hash: Sha256.describe('SHA-256 of the canonical JSON (RFC 8785) of the source row'),
    recorded_at: IsoTimestamp.nullable().describe(
      'When the source row was recorded; null when the source has no timestamp',
    ),
  })
  .describe('Provenance: the join key from any derived row back to its source line');
export type Provenance = z.infer<typeof Provenance>;
