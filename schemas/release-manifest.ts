import { z } from 'zod';
import { IsoTimestamp, Sha256 } from './provenance.ts';

/** Version of the ReleaseManifest shape. */
export const SCHEMA_VERSION = 1;

/** One release gate's outcome. */
const Gate = z.strictObject({
  n: z.number().int().min(1).max(6),
  id: z.string(),
  name: z.string(),
  status: z.enum(['pass', 'fail', 'skipped']).describe('skipped (only --skip-tests) is not release-ready'),
  detail: z.string(),
  problems: z.array(z.string()),
});

/** `reports/distillation/release-manifest.json`, written by `distill release-freeze` on every run. */
export const ReleaseManifest = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    version: z.string().describe('"version" of package.json'),
    tag: z.string().describe('The release tag to create: distillation-v<version>'),
    ready: z.boolean().describe('True only when all 6 gates pass'),
    git_head: z.string().nullable(),
    git_branch: z.string().nullable(),
    released_at: IsoTimestamp,
    phase_commits: z
      .array(
        z.strictObject({
          phase: z.string(),
          commit: z
            .string()
            .nullable()
            .describe('Last commit that touched the phase sources (git log), null when none'),
          subject: z.string().nullable(),
          receipt_code_version: z
            .string()
            .nullable()
            .describe("code_version of the phase's latest receipt (pipeline phases only)"),
          sources: z.array(z.string()).describe('Globs of the phase source files'),
        }),
      )
      .describe('The phase → commit map'),
    dataset_counts: z
      .strictObject({
        rag: z.number().int().nonnegative(),
        sft: z.number().int().nonnegative(),
        sft_partial: z.number().int().nonnegative(),
        preference: z.number().int().nonnegative(),
        kto: z.number().int().nonnegative(),
        evidence: z.number().int().nonnegative(),
        scored: z.number().int().nonnegative(),
        screened: z.number().int().nonnegative(),
        quarantined: z.number().int().nonnegative(),
      })
      .describe('Rows of each dataset at freeze, from the phase manifests'),
    latest_baseline_row: z
      .strictObject({ seq: z.number().int().positive(), prev: Sha256, entry: z.unknown() })
      .nullable()
      .describe('The last row of data/_kb/audit_baselines.jsonl after gate 5'),
    gates: z.array(Gate).length(6),
    exports: z
      .strictObject({
        sha256: Sha256,
        files: z.number().int().nonnegative(),
        bytes: z.number().int().nonnegative(),
      })
      .describe('sha256 of `find exports -type f | LC_ALL=C sort | xargs sha256sum`'),
    tag_command: z
      .string()
      .nullable()
      .describe('The `git tag -a` command to run when ready; release-freeze never creates the tag'),
  })
  .describe('ReleaseManifest: what was frozen, and whether every release gate held');
export type ReleaseManifest = z.infer<typeof ReleaseManifest>;
