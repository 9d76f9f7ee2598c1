import { z } from 'zod';
import { signalAdapter } from './signal-adapter.ts';

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

/** Error-tracker incidents per trace → one `error` signal. */
export const errorEvent = signalAdapter({
  name: 'error-event',
  description: 'Error-tracker incidents (severity error / critical, epoch-ms occurred_at) per trace_id',
  row: ErrorEventRow,
  sniffKeys: ['event_id', 'trace_id', 'occurred_at', 'severity', 'error_type'],
  timestamp: (r) => r.occurred_at,
  toSignal: (r) => ({ type: 'error', error_type: r.error_type, message: r.message }),
});
