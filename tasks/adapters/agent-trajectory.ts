import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { ErrorIn, MessageIn, ToolDefIn, UsageIn, toChatMessage, toToolDef } from './openai-messages.ts';
import { UNTRUSTED_LABEL_KEYS, mergeFlags, untrustedLabelFlag } from './row-flags.ts';
import { sniffByKeys } from './sniff-keys.ts';
import { taskKeyFor } from './task-key.ts';

/** One whole multi-step agent run: the full OpenAI-shape conversation with tool calls and results. */
const AgentTrajectoryRow = z.object({
  trace_id: z.string().min(1),
  task_key: z.string().min(1).nullish(),
  timestamp: z.string().describe('RFC 3339 start of the run; validated strictly by the shell'),
  agent: z.string().min(1),
  model: z.string().min(1).nullish(),
  provider: z.string().nullish(),
  tier: z.enum(['local', 'cloud']).nullish(),
  messages: z.array(MessageIn).min(1),
  tools: z.array(ToolDefIn).nullish(),
  usage: UsageIn.nullish(),
  finish_reason: z.string().nullish(),
  error: ErrorIn.nullish(),
  duration_ms: z.number().nonnegative().nullish(),
  steps: z.number().int().nonnegative().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

const unknownFields = unknownFieldsCheck([...Object.keys(AgentTrajectoryRow.shape), ...UNTRUSTED_LABEL_KEYS]);

/** Agent trajectories (one run per row, whole conversation inline) → one run. */
export const agentTrajectory: Adapter = {
  name: 'agent-trajectory',
  description: 'Multi-step agent runs: whole OpenAI-shape conversation (tool calls + tool results) per line',
  shape: 'jsonl',
  sniff: (row) =>
    sniffByKeys(row, ['trace_id', 'agent', 'messages', 'tools', 'usage', 'steps'], 'agent-trajectory'),
  toEvidence(row): AdapterOutput {
    const read = readInput(AgentTrajectoryRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const messages = r.messages.map(toChatMessage);
    return {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: r.trace_id,
          task_key: taskKeyFor(r.task_key, messages),
          recorded_at: r.timestamp,
          flags: mergeFlags(unknownFields(row), untrustedLabelFlag(row, r.metadata)),
          run: {
            messages,
            tools: (r.tools ?? []).map(toToolDef),
            model: r.model ?? null,
            provider: r.provider ?? null,
            tier: r.tier ?? 'unknown',
            usage: r.usage
              ? { prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens }
              : null,
            latency_ms: r.duration_ms ?? null,
            finish_reason: r.finish_reason ?? null,
            error: r.error
              ? { type: r.error.type, message: r.error.message, status: r.error.status ?? null }
              : null,
            escalated_from: null,
          },
        },
      ],
    };
  },
};
