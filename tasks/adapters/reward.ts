import { z } from 'zod';
import { signalAdapter } from './signal-adapter.ts';

/** A numeric reward in [0, 1] that an evaluation environment gave a run. */
const RewardRow = z.object({
  trace_id: z.string().min(1),
  timestamp: z.string(),
  environment: z.string().min(1),
  reward: z.number().min(0).max(1),
  episode_id: z.string().nullish(),
});

/** Environment rewards per trace → one `reward` signal. */
export const reward = signalAdapter({
  name: 'reward',
  description: 'Numeric reward in [0, 1] from an evaluation environment, per trace_id',
  row: RewardRow,
  sniffKeys: ['trace_id', 'environment', 'reward'],
  timestamp: (r) => r.timestamp,
  toSignal: (r) => ({ type: 'reward', value: r.reward, source: r.environment }),
});
