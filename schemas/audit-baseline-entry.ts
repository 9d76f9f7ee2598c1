import { z } from 'zod';
import { IsoTimestamp, Sha256 } from './provenance.ts';

/** Version of the AuditBaselineEntry shape (2 adds the code fingerprint and the phase digests). */
export const SCHEMA_VERSION = 2;

const common = {
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
};

/** The digest of one phase's `_manifest.json` as an audit saw it. */
export const PhaseDigest = z.strictObject({
  phase: z.string().describe('Pipeline phase (tasks/phases/registry.ts)'),
  manifest_sha256: Sha256.describe('sha256 of the bytes of the phase folder _manifest.json'),
  built_from_sha256: Sha256.describe(
    "sha256 of the canonical JSON of the manifest's phase, parameters, schema_versions and inputs: what the phase was built from. The pipeline is deterministic, so the same built_from with the same code gives the same manifest",
  ),
});
export type PhaseDigest = z.infer<typeof PhaseDigest>;

/**
 * The entry of one row of the append-only audit baseline `data/_kb/audit_baselines.jsonl`, written
 * by `distill audit-full` (the row around it, `{seq, prev, entry}`, chains it to the previous row).
 */
export const AuditBaselineEntry = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    ...common,
    code_fingerprint: Sha256.describe(
      'sha256 over the TypeScript sources of tasks/ and schemas/ of the code that audited (tasks/lib/code-fingerprint.ts)',
    ),
    corpus_sha256: Sha256.describe(
      'sha256 over distill.config.json and every file the config source globs and the protected sets (acceptance fixture, replay tasks, eval_sets) match, hashed from disk by the audit: sha256sum lines in byte order of the path, hashed again. The same corpus and code build byte-identical manifests',
    ),
    phases: z
      .array(PhaseDigest)
      .describe(
        "Each built phase's manifest digest, in pipeline order. A later audit with the same code compares the manifest of a phase built from the same inputs with the one a passing row recorded (the `manifests` check)",
      ),
  })
  .describe('AuditBaselineEntry: the metrics, verdict and phase manifest digests of one audit-full run');
export type AuditBaselineEntry = z.infer<typeof AuditBaselineEntry>;

/** A row written before the phase digests existed (schema_version 1): still read for metrics and drift. */
export const AuditBaselineEntryV1 = z.strictObject({ schema_version: z.literal(1), ...common });
export type AuditBaselineEntryV1 = z.infer<typeof AuditBaselineEntryV1>;

/** Any entry audit-full reads back: the current shape or an older one. */
export const AnyAuditBaselineEntry = z.discriminatedUnion('schema_version', [
  AuditBaselineEntry,
  AuditBaselineEntryV1,
]);
export type AnyAuditBaselineEntry = z.infer<typeof AnyAuditBaselineEntry>;
