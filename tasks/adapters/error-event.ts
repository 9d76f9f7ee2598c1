import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsFlag } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** An incident event from the platform's error tracker, keyed by the trace it hit. */
const ErrorEventRow = z.object({
  event_id: z.string().min(1),
  trace_id: z.string().min(1),
  occurred_at: z.number().describe('Epoch milliseconds; validated strictly by the shell'),
  severity: z.enum(['error', 'critical']),
  service: z.string().min(1),
  error_type: z.string().min(1),
  message: z.string(),
});

const KNOWN = ['event_id', 'trace_id', 'occurred_at', 'severity', 'service', 'error_type', 'message'];

/** Error-tracker incidents per trace → one `error` signal. */
export const errorEvent: Adapter = {
  name: 'error-event',
  description: 'Error-tracker incidents (severity error / critical, epoch-ms occurred_at) per trace_id',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['event_id', 'trace_id', 'occurred_at', 'severity', 'error_type'], 'error-event'),
  toEvidence(row): AdapterOutput {
    const read = readInput(ErrorEventRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    return {
      type: 'keep',
      records: [
        {
          kind: 'signal',
          trace_id: r.trace_id,
          task_key: null,
          recorded_at: r.occurred_at,
          flags: unknownFieldsFlag(row, KNOWN),
          signal: { type: 'error', error_type: r.error_type, message: r.message },
        },
      ],
    };
  },
};
