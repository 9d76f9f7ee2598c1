import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';
import { promptTaskKey } from './task-key.ts';

/** AlpacaEval writes `preference` as a number or a numeric string such as "2.0". */
function numericString(v: unknown): unknown {
  return typeof v === 'string' && /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(v) ? Number(v) : v;
}

/** An AlpacaEval-style pairwise judgment: 1 = output_1 preferred, 2 = output_2, 1.5 = tie. */
const PairwiseRow = z.object({
  instruction: z.string().min(1),
  input: z.string().nullish(),
  output_1: z.string(),
  output_2: z.string(),
  preference: z.preprocess(numericString, z.number()),
  annotator: z.string().nullish(),
  generator_1: z.string().nullish(),
  generator_2: z.string().nullish(),
  dataset: z.string().nullish(),
  raw_completion: z.unknown().optional(),
  price_per_example: z.number().nullish(),
  time_per_example: z.number().nullish(),
});

const unknownFields = unknownFieldsCheck(Object.keys(PairwiseRow.shape));

/** Imported pairwise human judgments (AlpacaEval format) → one judgment. */
export const pairwisePreference: Adapter = {
  name: 'pairwise-preference',
  description:
    'AlpacaEval-style pairwise judgments {instruction, output_1, output_2, preference (1|2, number or string)}',
  shape: 'jsonl',
  sniff: (row) =>
    sniffByKeys(row, ['instruction', 'output_1', 'output_2', 'preference'], 'pairwise-preference'),
  toEvidence(row): AdapterOutput {
    const read = readInput(PairwiseRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const p = r.preference;
    if (!(p >= 1 && p <= 2)) {
      return {
        type: 'drop',
        reason: 'PREFERENCE_INVALID',
        detail: `$.preference: expected a value from 1 (output_1 better) to 2 (output_2 better), got ${p}`,
      };
    }
    if (p === 1.5)
      return {
        type: 'drop',
        reason: 'PREFERENCE_TIE',
        detail: '$.preference: 1.5 is a tie; a tie gives no chosen / rejected pair',
      };
    for (const key of ['output_1', 'output_2'] as const) {
      if (r[key].trim() === '')
        return {
          type: 'drop',
          reason: 'EMPTY_OUTPUT',
          detail: `$.${key}: is empty; a judgment needs two answers`,
        };
    }
    if (r.output_1.trim() === r.output_2.trim()) {
      return {
        type: 'drop',
        reason: 'PREFERENCE_IDENTICAL',
        detail: '$.output_2: is the same text as output_1; the judgment carries no preference',
      };
    }
    const firstWins = p < 1.5;
    const prompt = r.input ? `${r.instruction}\n\n${r.input}` : r.instruction;
    return {
      type: 'keep',
      records: [
        {
          kind: 'judgment',
          trace_id: null,
          task_key: promptTaskKey(prompt),
          recorded_at: null, // AlpacaEval rows carry no timestamp
          flags: unknownFields(row),
          judgment: {
            prompt: [{ role: 'user', content: prompt }],
            chosen: firstWins ? r.output_1 : r.output_2,
            rejected: firstWins ? r.output_2 : r.output_1,
            judge: r.annotator ?? null,
            strength: Math.abs(p - 1.5) * 2,
          },
        },
      ],
    };
  },
};
