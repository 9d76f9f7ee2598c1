import { z } from 'zod';
import { IsoTimestamp } from './provenance.ts';

/** Version of the RunSummary shape. */
export const SCHEMA_VERSION = 1;

/** One run-all: which phases ran or were fresh, and the funnel from source rows to exports. */
export const RunSummary = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    run_id: z.string(),
    started_at: IsoTimestamp,
    finished_at: IsoTimestamp,
    code_version: z.string(),
    phases: z.array(
      z.strictObject({
        phase: z.string(),
        status: z.enum(['ran', 'fresh', 'failed']),
        receipt: z.string().nullable().describe('Path of the receipt that describes the phase outputs in use'),
      }),
    ),
    funnel: z.strictObject({
      source_rows: z.number().int().nonnegative(),
      evidence: z.number().int().nonnegative(),
      quarantined: z.number().int().nonnegative(),
      runs: z.number().int().nonnegative(),
      runs_by_category: z.record(z.string(), z.number().int().nonnegative()),
      exports: z.record(z.string(), z.number().int().nonnegative()),
    }),
    drift_severity: z.enum(['ok', 'warn', 'alert']),
    ok: z.boolean(),
  })
  .describe('RunSummary: the outcome of one run-all');
export type RunSummary = z.infer<typeof RunSummary>;
