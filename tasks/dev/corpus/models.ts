import type { Rng } from './prng.ts';

/** A model as the gateway sees it: the requested alias, the served snapshot, its provider and tier. */
export interface ModelChoice {
  alias: string;
  served: string;
  provider: string;
  tier: 'local' | 'cloud';
}

const LOCAL: readonly ModelChoice[] = [
  { alias: 'qwen2.5-7b-instruct', served: 'qwen2.5-7b-instruct', provider: 'vllm', tier: 'local' },
  {
    alias: 'llama-3.1-8b-instruct',
    served: 'llama-3.1-8b-instruct-q4_K_M',
    provider: 'ollama',
    tier: 'local',
  },
];
const LOCAL_CODER: ModelChoice = {
  alias: 'qwen2.5-coder-7b-instruct',
  served: 'qwen2.5-coder-7b-instruct',
  provider: 'vllm',
  tier: 'local',
};
const CLOUD: readonly ModelChoice[] = [
  { alias: 'gpt-4o', served: 'gpt-4o-2024-08-06', provider: 'openai', tier: 'cloud' },
  { alias: 'gpt-4.1-mini', served: 'gpt-4.1-mini-2025-04-14', provider: 'openai', tier: 'cloud' },
  { alias: 'claude-sonnet-4', served: 'claude-sonnet-4-20250514', provider: 'anthropic', tier: 'cloud' },
  { alias: 'deepseek-chat', served: 'deepseek-chat', provider: 'deepseek', tier: 'cloud' },
];

/** A local model (a coder model for coding work). */
export function localModel(rng: Rng, coding: boolean): ModelChoice {
  return coding && rng.chance(0.7) ? LOCAL_CODER : rng.pick(LOCAL);
}

/** A cloud model. */
export function cloudModel(rng: Rng): ModelChoice {
  return rng.pick(CLOUD);
}

/** Rough token count of a text (4 characters a token). */
export function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}
