import type { Adapter } from './adapter.ts';
import { agentTrajectory } from './agent-trajectory.ts';
import { auditorVerdict } from './auditor-verdict.ts';
import { errorEvent } from './error-event.ts';
import { gatewayCall } from './gateway-call.ts';
import { humanReview } from './human-review.ts';
import { knowledgeDoc } from './knowledge-doc.ts';
import { pairwisePreference } from './pairwise-preference.ts';
import { playbook } from './playbook.ts';
import { reward } from './reward.ts';
import { tauBench } from './tau-bench.ts';
import { testResult } from './test-result.ts';
import { toolOutcome } from './tool-outcome.ts';

/** Every source adapter, sorted by name. */
export const ADAPTERS: readonly Adapter[] = [
  agentTrajectory,
  auditorVerdict,
  errorEvent,
  gatewayCall,
  humanReview,
  knowledgeDoc,
  pairwisePreference,
  playbook,
  reward,
  tauBench,
  testResult,
  toolOutcome,
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const BY_NAME = new Map(ADAPTERS.map((a) => [a.name, a]));

/** The adapter with this name, or undefined. */
export function getAdapter(name: string): Adapter | undefined {
  return BY_NAME.get(name);
}
