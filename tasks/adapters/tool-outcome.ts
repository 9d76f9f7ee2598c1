import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsFlag } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

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

const KNOWN = ['trace_id', 'timestamp', 'tool', 'exit_code', 'command', 'duration_ms', 'stderr_tail'];

/** Tool exit codes per trace → one `tool_exit` signal. */
export const toolOutcome: Adapter = {
  name: 'tool-outcome',
  description: 'Exit code of one tool invocation (pytest, tsc, psql, ...) keyed by trace_id',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['trace_id', 'tool', 'exit_code', 'command'], 'tool-outcome'),
  toEvidence(row): AdapterOutput {
    const read = readInput(ToolOutcomeRow, row);
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
          signal: { type: 'tool_exit', tool: r.tool, exit_code: r.exit_code },
        },
      ],
    };
  },
};
