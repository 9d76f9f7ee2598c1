import { z } from 'zod';
import { IsoTimestamp, Sha256 } from './provenance.ts';

/** Version of the AuditBaselineEntry shape. */
export const SCHEMA_VERSION = 1;

/**
 * The entry of one row of the append-only audit baseline `data/_kb/audit_baselines.jsonl`, written
 * by `distill audit-full` (the row around it, `{seq, prev, entry}`, chains it to the previous row).
 */
export const AuditBaselineEntry = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    audited_at: IsoTimestamp.describe('When the audit ran (reports only; never in a dataset)'),
    git_head: z.string().describe('git rev-parse HEAD of the checkout audited, or "unknown" outside one'),
    metrics: z
      .record(z.string(), z.number())
      .describe(
        'The tracked metrics (tasks/run/metric-names.ts): p2_evidence_records, p3_scored_runs, p3_accepted, p3_partially_accepted, p3_rejected, p3_needs_human_review, p4_rag_rows, p4_sft_rows, p4_preference_pairs, p4_total_quarantined (rows written before carry the earlier names, read as aliases)',
      ),
    checks_passed: z.number().int().nonnegative().describe('Required checks that held'),
    checks_total: z.number().int().positive().describe('Required checks run (16)'),
    export_sha256: Sha256.describe(
      'sha256 over every file under exports/: sha256sum lines in byte order of the path, hashed again',
    ),
  })
  .describe('AuditBaselineEntry: the metrics and verdict of one audit-full run');
export type AuditBaselineEntry = z.infer<typeof AuditBaselineEntry>;
