import type { Rng } from './prng.ts';
import type { GatewayTask } from './task-spec.ts';

const RATERS = ['human:rater-01', 'human:rater-02', 'human:rater-03', 'human:rater-04', 'human:rater-05'];
const GENERATORS = [
  'qwen2.5-7b-instruct',
  'gpt-4o-2024-08-06',
  'claude-sonnet-4-20250514',
  'llama-3.1-8b-instruct',
  'deepseek-chat',
];

/**
 * An imported AlpacaEval-style pairwise judgment on one of the platform's prompts: the better
 * and the worse answer in random order, `preference` 1 or 2 (a number, or a string such as "2.0",
 * as AlpacaEval files mix both), sometimes a soft preference (1.25 / 1.75) or a tie (1.5).
 */
export function judgmentRow(task: GatewayTask, rng: Rng): Record<string, unknown> {
  const instruction = task.prompt.find((m) => m.role === 'user')?.content ?? '';
  const goodFirst = rng.chance(0.5);
  const kind = rng.weighted({ decisive: 90, soft: 6, tie: 4 });
  const value = kind === 'tie' ? 1.5 : kind === 'soft' ? (goodFirst ? 1.25 : 1.75) : goodFirst ? 1 : 2;
  const asString = rng.chance(0.4);
  const preference = asString ? (Number.isInteger(value) ? value.toFixed(1) : String(value)) : value;
  const g1 = rng.pick(GENERATORS);
  const g2 = rng.pick(GENERATORS.filter((g) => g !== g1));
  return {
    instruction,
    output_1: goodFirst ? task.good : task.flawed,
    output_2: goodFirst ? task.flawed : task.good,
    preference,
    annotator: rng.pick(RATERS),
    generator_1: g1,
    generator_2: g2,
    dataset: `northwind-${task.family}-pairwise`,
  };
}
