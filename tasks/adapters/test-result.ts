import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsFlag } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** A test-suite run against a trace's output: passed / failed counts. */
const TestResultRow = z.object({
  trace_id: z.string().min(1),
  timestamp: z.string(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  suite: z.string().nullish(),
  runner: z.string().nullish(),
  skipped: z.number().int().nonnegative().nullish(),
  duration_ms: z.number().nonnegative().nullish(),
});

const KNOWN = ['trace_id', 'timestamp', 'passed', 'failed', 'suite', 'runner', 'skipped', 'duration_ms'];

/** Test results per trace → one `test_result` signal. */
export const testResult: Adapter = {
  name: 'test-result',
  description: 'Passed / failed test counts of a suite run against a trace, keyed by trace_id',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['trace_id', 'passed', 'failed', 'suite'], 'test-result'),
  toEvidence(row): AdapterOutput {
    const read = readInput(TestResultRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    return {
      type: 'keep',
      records: [
        {
          kind: 'signal',
          trace_id: r.trace_id,
          task_key: null,
          recorded_at: r.timestamp,
          flags: unknownFieldsFlag(row, KNOWN),
          signal: { type: 'test_result', passed: r.passed, failed: r.failed, suite: r.suite ?? null },
        },
      ],
    };
  },
};
