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
        receipt: z
          .string()
          .nullable()
          .describe(
            'Path of the receipt that describes the phase outputs in use (for a fresh phase: the earlier run whose outputs match the manifest on disk)',
          ),
      }),
    ),
    funnel: z.strictObject({
      source_rows: z.number().int().nonnegative().describe('Source rows read by build-evidence'),
      evidence: z
        .number()
        .int()
        .nonnegative()
        .describe('EvidenceRecords written (a source row can give several)'),
      quarantined: z.number().int().nonnegative().describe('Source rows build-evidence quarantined'),
      runs: z.number().int().nonnegative().describe('Scored runs'),
      runs_by_category: z.record(z.string(), z.number().int().nonnegative()),
      exports: z
        .record(z.string(), z.number().int().nonnegative())
        .describe('Rows of each export (rag chunks, sft rows, preference pairs, kto rows, ...)'),
      left_out: z
        .strictObject({
          quarantined: z.number().int().nonnegative().describe('Bad rows, every phase, each in its unit'),
          excluded: z.number().int().nonnegative().describe('Rows left out by policy, every phase'),
        })
        .optional()
        .describe('What every phase left out, bad and by policy counted apart (absent in older summaries)'),
    }),
    metrics: z
      .record(z.string(), z.number())
      .describe(
        'Flat metrics the next run compares against (drift.json): funnel counts, runs and mix by category, export rows and bytes, quarantine by phase and reason',
      ),
    drift_severity: z.enum(['ok', 'warn', 'alert']),
    ok: z.boolean().describe('Every phase ran or was fresh, and the receipts reconcile'),
    errors: z
      .array(z.string())
      .describe('Why ok is false: failed phases, missing receipts, reconcile mismatches'),
  })
  .describe('RunSummary: the outcome of one run-all');
export type RunSummary = z.infer<typeof RunSummary>;
