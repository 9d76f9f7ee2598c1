import { z } from 'zod';
import { Sha256 } from './provenance.ts';

/** Version of the QuarantineRecord shape. */
export const SCHEMA_VERSION = 1;

/** A dropped row, with the reason it was dropped and where it came from. Raw content is never copied. */
export const QuarantineRecord = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    stage: z.string().describe('Phase that dropped the row (build-evidence, score, export-sft, ...)'),
    reason: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*(:[A-Za-z0-9_.-]+)?$/)
      .describe('Reason code, e.g. JSON_PARSE or SECRET_DETECTED:aws-access-token'),
    detail: z.string().describe('Human-readable explanation: what was expected, what was found'),
    source_file: z.string().describe('Source file relative to the project root'),
    line_offset: z
      .number()
      .int()
      .nonnegative()
      .nullable()
      .describe('0-based line / element index; null for a whole-file drop'),
    byte_offset: z.number().int().nonnegative().nullable(),
    bytes: z.number().int().nonnegative().nullable(),
    line_sha256: Sha256.nullable().describe('SHA-256 of the raw line bytes'),
    sig_hash: Sha256.nullable().describe('Canonical hash of the parsed row, when it parsed'),
    record_id: z
      .string()
      .nullable()
      .describe('Id of the dropped record (evidence, run or export row), when one exists'),
    trace_id: z.string().nullable(),
    ref: z.string().nullable().describe('Id of the row this one duplicates or conflicts with'),
  })
  .describe('QuarantineRecord: every dropped row, explained');
export type QuarantineRecord = z.infer<typeof QuarantineRecord>;
