import type { Adapter } from './adapter.ts';
import { agentTrajectory } from './agent-trajectory.ts';
import { anthropicMessages } from './anthropic-messages.ts';
import { auditorVerdict } from './auditor-verdict.ts';
import { claudeCode } from './claude-code.ts';
import { codex } from './codex.ts';
import { errorEvent } from './error-event.ts';
import { gatewayCall } from './gateway-call.ts';
import { hhRlhf } from './hh-rlhf.ts';
import { humanReview } from './human-review.ts';
import { knowledgeDoc } from './knowledge-doc.ts';
import { langfuse } from './langfuse.ts';
import { langsmith } from './langsmith.ts';
import { litellm } from './litellm.ts';
import { openaiChatLog } from './openai-chat-log.ts';
import { openaiStoredCompletion } from './openai-stored-completion.ts';
import { otelGenai } from './otel-genai.ts';
import { pairwisePreference } from './pairwise-preference.ts';
import { playbook } from './playbook.ts';
import { reward } from './reward.ts';
import { sweAgent } from './swe-agent.ts';
import { sweBenchReport } from './swe-bench-report.ts';
import { tauBench } from './tau-bench.ts';
import { testResult } from './test-result.ts';
import { toolOutcome } from './tool-outcome.ts';

/** Every source adapter, sorted by name. */
export const ADAPTERS: readonly Adapter[] = [
  agentTrajectory,
  anthropicMessages,
  auditorVerdict,
  claudeCode,
  codex,
  errorEvent,
  gatewayCall,
  hhRlhf,
  humanReview,
  knowledgeDoc,
  langfuse,
  langsmith,
  litellm,
  openaiChatLog,
  openaiStoredCompletion,
  otelGenai,
  pairwisePreference,
  playbook,
  reward,
  sweAgent,
  sweBenchReport,
  tauBench,
  testResult,
  toolOutcome,
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const BY_NAME = new Map(ADAPTERS.map((a) => [a.name, a]));

/** The config value that asks build-evidence to detect the adapter per file. */
export const AUTO = 'auto';

/** The adapter with this name, or undefined. */
export function getAdapter(name: string): Adapter | undefined {
  return BY_NAME.get(name);
}
