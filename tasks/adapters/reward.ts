import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsFlag } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** A numeric reward in [0, 1] that an evaluation environment gave a run. */
const RewardRow = z.object({
  trace_id: z.string().min(1),
  timestamp: z.string(),
  environment: z.string().min(1),
  reward: z.number().min(0).max(1),
  episode_id: z.string().nullish(),
});

const KNOWN = ['trace_id', 'timestamp', 'environment', 'reward', 'episode_id'];

/** Environment rewards per trace → one `reward` signal. */
export const reward: Adapter = {
  name: 'reward',
  description: 'Numeric reward in [0, 1] from an evaluation environment, per trace_id',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['trace_id', 'environment', 'reward'], 'reward'),
  toEvidence(row): AdapterOutput {
    const read = readInput(RewardRow, row);
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
          signal: { type: 'reward', value: r.reward, source: r.environment },
        },
      ],
    };
  },
};
