import { z } from 'zod';

/** Version of the DriftReport shape. */
export const SCHEMA_VERSION = 1;

export const Severity = z.enum(['ok', 'warn', 'alert']);
export type Severity = z.infer<typeof Severity>;

/** How far this run's metrics moved from the previous run's. */
export const DriftReport = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    run_id: z.string(),
    previous_run_id: z.string().nullable(),
    severity: Severity,
    thresholds: z.strictObject({ warn_pct: z.number(), alert_pct: z.number() }),
    metrics: z.array(
      z.strictObject({
        name: z.string(),
        previous: z.number().nullable(),
        current: z.number(),
        delta: z.number().nullable(),
        delta_pct: z.number().nullable(),
        severity: Severity,
      }),
    ),
  })
  .describe('DriftReport: metric changes between consecutive runs');
export type DriftReport = z.infer<typeof DriftReport>;
