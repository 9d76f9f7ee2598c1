import { z } from 'zod';
import { IsoTimestamp, Sha256 } from './provenance.ts';

/** Version of the StageReceipt shape. */
export const SCHEMA_VERSION = 1;

/** A file a phase read or wrote. */
export const FileEntry = z.strictObject({
  path: z.string().describe('Relative to the project root'),
  sha256: Sha256,
  bytes: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative().nullable().describe('JSONL rows, when the file is JSONL'),
});
export type FileEntry = z.infer<typeof FileEntry>;

/**
 * Counts of one phase: rows in = rows out + quarantined + excluded. Quarantined rows are bad (their
 * reasons in `by_reason`); excluded rows were left out by policy (a category an export does not
 * take, a duplicate; reasons in `excluded_by_reason`, the phase contract's EXCLUDED list). Both
 * kinds are written to the phase's quarantine file with their reason. A receipt without the
 * excluded fields (written before they existed) excluded nothing.
 */
export const StageCounts = z.strictObject({
  in: z
    .number()
    .int()
    .nonnegative()
    .describe('Rows the phase considered, in its unit (source rows, evidence records, ...)'),
  out: z.number().int().nonnegative().describe('Rows it used'),
  quarantined: z.number().int().nonnegative().describe('Bad rows it left out'),
  by_reason: z.record(z.string(), z.number().int().nonnegative()).describe('Quarantined rows by reason'),
  excluded: z.number().int().nonnegative().optional().describe('Rows it left out by policy'),
  excluded_by_reason: z
    .record(z.string(), z.number().int().nonnegative())
    .optional()
    .describe('Excluded rows by reason'),
});
export type StageCounts = z.infer<typeof StageCounts>;

/** What one phase did in one run: inputs, outputs, counts, timing. */
export const StageReceipt = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    run_id: z.string(),
    phase: z.string(),
    code_version: z.string().describe('git commit of the code, or "unknown" outside a checkout'),
    schema_versions: z.record(z.string(), z.number().int()),
    parameters: z.record(z.string(), z.unknown()),
    inputs: z.array(FileEntry),
    outputs: z.array(FileEntry),
    counts: StageCounts,
    stats: z
      .record(z.string(), z.number())
      .describe('Phase-specific numbers (runs by category, PII by type, ...)'),
    started_at: IsoTimestamp,
    duration_ms: z.number().nonnegative(),
    ok: z.boolean(),
    errors: z.array(z.string()),
    executor: z
      .strictObject({
        kind: z.literal('queue'),
        jobs: z.number().int().nonnegative(),
        by_worker: z.record(z.string(), z.number().int().nonnegative()),
        partitions: z.array(
          z.strictObject({
            partition: z.number().int().nonnegative(),
            label: z.string(),
            job: z.string(),
            worker: z.string().describe('host:pid of the `distill worker` that built it'),
            ms: z.number().nonnegative(),
          }),
        ),
      })
      .optional()
      .describe(
        'Only when the phase ran its partitions on the job queue (DISTILL_QUEUE): which worker built each one (docs/scale-out.md). Absent for the local executor',
      ),
  })
  .describe('StageReceipt: the record of one phase execution');
export type StageReceipt = z.infer<typeof StageReceipt>;
