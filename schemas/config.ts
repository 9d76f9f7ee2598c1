import { z } from 'zod';
import { IsoTimestamp, Sha256 } from './provenance.ts';
import { ReplayConfig } from './replay-config.ts';

/** Version of the distill.config.json shape. */
export const SCHEMA_VERSION = 1;

/** One source stream: which files, read by which adapter. */
export const SourceConfig = z
  .strictObject({
    stream: z.string().regex(/^[a-z][a-z0-9_]*$/, 'stream names are lowercase snake_case'),
    adapter: z
      .string()
      .min(1)
      .describe(
        'Adapter name (docs/sources.md), or "auto" to detect it per file (`distill sniff <file>` shows the pick)',
      ),
    files: z.array(z.string().min(1)).min(1).describe('Globs relative to the project root'),
    description: z.string().optional(),
    optional: z
      .boolean()
      .optional()
      .describe(
        'true for a source that may legitimately hold nothing: its globs may match no file and its files may be refused whole without stopping build-evidence (files the last build read that vanish still stop it; docs/sources.md)',
      ),
    trajectories: z
      .string()
      .min(1)
      .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))/, 'a folder relative to the project root, without ".."')
      .optional()
      .describe(
        "swe-bench-report sources: the project-relative folder of the SWE-agent trajectories the report evaluates; each instance's signal goes to the run swe-agent:<folder>/<instance_id>",
      ),
  })
  .superRefine((s, ctx) => {
    if (s.adapter === 'swe-bench-report' && s.trajectories === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['trajectories'],
        message:
          'a swe-bench-report source needs "trajectories": the folder of the SWE-agent runs it evaluates',
      });
    if (s.trajectories !== undefined && s.adapter !== 'swe-bench-report' && s.adapter !== 'auto')
      ctx.addIssue({
        code: 'custom',
        path: ['trajectories'],
        message: `"trajectories" is read only by the swe-bench-report adapter, not ${s.adapter}`,
      });
  });
export type SourceConfig = z.infer<typeof SourceConfig>;

/** The project config: sources, the explicit "now", limits and export parameters. */
export const DistillConfig = z
  .strictObject({
    $schema: z.string().optional(),
    schema_version: z.literal(SCHEMA_VERSION),
    as_of: IsoTimestamp.describe(
      'The explicit "now" for future-timestamp checks; keeps builds deterministic',
    ),
    future_skew_hours: z.number().nonnegative().default(24),
    limits: z
      .strictObject({
        max_line_bytes: z
          .number()
          .int()
          .positive()
          .default(16 * 1024 * 1024),
        max_depth: z.number().int().positive().default(64),
      })
      .prefault({}),
    sources: z.array(SourceConfig).min(1),
    eval_sets: z
      .array(z.string())
      .default([])
      .describe('Globs of protected eval files (JSONL) for decontamination'),
    secret_allowlist: z
      .array(Sha256)
      .default([])
      .describe(
        'sha256 of known fake secrets (test fixtures) that screen and the export rescan let through; see docs/safety.md',
      ),
    exports: z
      .strictObject({
        test_fraction: z.number().min(0).max(1).default(0.1),
        rag_chunk_chars: z.number().int().positive().default(2000),
        preference_cap_per_task: z.number().int().positive().default(4),
      })
      .prefault({}),
    queue: z
      .string()
      .regex(
        /^rediss?:\/\/[^\s/]*(:[0-9]+)?(\/[0-9]{1,2})?$/,
        'a Redis URL, redis://host:port/db (docs/scale-out.md)',
      )
      .optional()
      .describe(
        'Run the partitioned phases (build-evidence, score, screen) as BullMQ jobs on this Redis, processed by `distill worker` (docs/scale-out.md); $DISTILL_QUEUE overrides it (`local`: in this process). Absent: every phase runs in-process',
      ),
    replay: ReplayConfig.prefault({}).describe(
      'distill replay / replay-eval: model endpoints, retrieval depth, call-log rotation (optional; env vars override)',
    ),
  })
  .describe('distill.config.json');
export type DistillConfig = z.infer<typeof DistillConfig>;
