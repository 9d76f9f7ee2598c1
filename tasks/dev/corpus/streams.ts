/** The source streams the corpus generator writes, one folder each under the output dir. */
export const STREAMS = [
  'gateway_calls',
  'agent_trajectories',
  'tool_outcomes',
  'test_results',
  'human_reviews',
  'auditor_verdicts',
  'rewards',
  'error_events',
  'playbooks',
  'knowledge_docs',
  'preference_judgments',
  'tau_bench',
] as const;

/** One stream name. */
export type Stream = (typeof STREAMS)[number];
