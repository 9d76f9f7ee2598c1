import { z } from 'zod';
import { signalAdapter } from './signal-adapter.ts';

/** One tool invocation's exit code, keyed by the run that invoked it. */
const ToolOutcomeRow = z.object({
  trace_id: z.string().min(1),
  timestamp: z.string(),
  tool: z.string().min(1),
  exit_code: z.number().int(),
  command: z.string().nullish(),
  duration_ms: z.number().nonnegative().nullish(),
  stderr_tail: z.string().nullish(),
});

/** Tool exit codes per trace → one `tool_exit` signal. */
export const toolOutcome = signalAdapter({
  name: 'tool-outcome',
  description: 'Exit code of one tool invocation (pytest, tsc, psql, ...) keyed by trace_id',
  row: ToolOutcomeRow,
  sniffKeys: ['trace_id', 'tool', 'exit_code', 'command'],
  timestamp: (r) => r.timestamp,
  toSignal: (r) => ({ type: 'tool_exit', tool: r.tool, exit_code: r.exit_code }),
});
