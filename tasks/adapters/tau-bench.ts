import { posix } from 'node:path';
import { z } from 'zod';
import type { Adapter, AdapterContext, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { MessageIn, toChatMessage } from './openai-messages.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** One element of a tau-bench results file (`historical_trajectories/*.json`). */
const TauBenchElement = z.object({
  task_id: z.number().int().nonnegative(),
  trial: z.number().int().nonnegative(),
  reward: z.number().min(0).max(1),
  info: z.looseObject({ model: z.string().nullish() }).nullish(),
  traj: z.array(MessageIn).min(1),
});

const unknownFields = unknownFieldsCheck(Object.keys(TauBenchElement.shape));
const DOMAINS = ['airline', 'retail'] as const;

/** The results file name without extension, e.g. "gpt-4o-airline". */
function fileStem(sourceFile: string): string {
  // a compressed copy (`x.json.gz`, read decompressed) names the same runs as `x.json`
  return posix
    .basename(sourceFile)
    .replace(/\.gz$/i, '')
    .replace(/\.json$/i, '');
}

/** tau-bench domain from the file name (the elements do not say); the stem itself otherwise. */
function domainOf(stem: string): string {
  const lower = stem.toLowerCase();
  return DOMAINS.find((d) => lower.includes(d)) ?? lower;
}

/**
 * tau-bench trajectories (a JSON array) → per element one run plus one `reward` signal. The
 * trace id includes the file stem, so result files of two models never collide; the task key is
 * per domain and task, so attempts of one task group together across trials and models.
 */
export const tauBench: Adapter = {
  name: 'tau-bench',
  description:
    'tau-bench results: JSON array of {task_id, trial, reward, info, traj}; traj in OpenAI message format, no timestamps',
  shape: 'json-array',
  sniff: (row) => sniffByKeys(row, ['task_id', 'trial', 'reward', 'info', 'traj'], 'tau-bench'),
  toEvidence(row, ctx: AdapterContext): AdapterOutput {
    const read = readInput(TauBenchElement, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const stem = fileStem(ctx.sourceFile);
    const traceId = `tau-bench:${stem}:task-${r.task_id}:trial-${r.trial}`;
    const taskKey = `tau-bench:${domainOf(stem)}:task-${r.task_id}`;
    const flags = unknownFields(row);
    return {
      type: 'keep',
      records: [
        {
          kind: 'run',
          trace_id: traceId,
          task_key: taskKey,
          recorded_at: null,
          flags,
          run: {
            messages: r.traj.map(toChatMessage),
            tools: [], // results files do not carry the tool definitions
            model: r.info?.model ?? null,
            provider: null,
            tier: 'cloud',
            usage: null,
            latency_ms: null,
            finish_reason: null,
            error: null,
            escalated_from: null,
          },
        },
        {
          kind: 'signal',
          trace_id: traceId,
          task_key: taskKey,
          recorded_at: null,
          flags: [...flags],
          signal: { type: 'reward', value: r.reward, source: 'tau-bench' },
        },
      ],
    };
  },
};
