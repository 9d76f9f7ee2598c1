import { z } from 'zod';
import { Category } from './category.ts';
import { RunBody, SignalBody } from './evidence-record.ts';
import { IsoTimestamp, Provenance } from './provenance.ts';

/** Version of the ScoredRun shape. */
export const SCHEMA_VERSION = 1;

/** An outcome signal as joined to its run, with the evidence row it came from. */
export const JoinedSignal = z.strictObject({
  evidence_id: z.string(),
  stream: z.string(),
  signal: SignalBody,
  provenance: Provenance,
});
export type JoinedSignal = z.infer<typeof JoinedSignal>;

/** A run with its outcome signals, placed in exactly one category by the rule table. */
export const ScoredRun = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    run_id: z.string().min(1).describe('The trace_id of the run'),
    evidence_id: z.string(),
    stream: z.string(),
    task_key: z.string().nullable(),
    recorded_at: IsoTimestamp.nullable(),
    category: Category,
    decided_by: z
      .string()
      .describe('Id of the rule that decided the category (highest precedence that matched)'),
    rules_fired: z
      .array(z.string())
      .min(1)
      .describe('Ids of every rule whose condition held, in precedence order'),
    rule_table_version: z.string(),
    correction: z.string().nullable().describe('Human-corrected answer, from an edit review'),
    run: RunBody,
    signals: z.array(JoinedSignal).describe('Outcome signals joined by trace_id, sorted by evidence_id'),
    flags: z.array(z.string()),
    provenance: Provenance.describe('Provenance of the run row itself'),
  })
  .describe('ScoredRun: one run, its signals and its category');
export type ScoredRun = z.infer<typeof ScoredRun>;
