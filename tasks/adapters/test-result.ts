import { z } from 'zod';
import { signalAdapter } from './signal-adapter.ts';

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

/** Test results per trace → one `test_result` signal. */
export const testResult = signalAdapter({
  name: 'test-result',
  description: 'Passed / failed test counts of a suite run against a trace, keyed by trace_id',
  row: TestResultRow,
  sniffKeys: ['trace_id', 'passed', 'failed', 'suite'],
  timestamp: (r) => r.timestamp,
  toSignal: (r) => ({ type: 'test_result', passed: r.passed, failed: r.failed, suite: r.suite ?? null }),
});
