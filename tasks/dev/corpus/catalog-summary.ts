import type { Rng } from './prng.ts';
import type { GatewayTask } from './task-spec.ts';

const SERVICES = [
  'checkout-api',
  'search-indexer',
  'auth-service',
  'payments-worker',
  'notification-fanout',
  'inventory-sync',
  'media-transcoder',
  'recommendation-api',
];
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2', 'eu-central-1'];
const CAUSES = [
  { cause: 'a connection-pool limit lowered in the previous deploy', fix: 'rolled back the deploy' },
  {
    cause: 'an expired TLS certificate on an internal endpoint',
    fix: 'rotated the certificate and added an expiry alert',
  },
  { cause: 'a hot partition after a bulk import', fix: 'rebalanced the partitions and throttled the import' },
  { cause: 'a feature flag enabled for all tenants instead of 5%', fix: 'turned the flag back to 5%' },
  { cause: 'a DNS change that dropped the internal resolver', fix: 'restored the resolver configuration' },
  { cause: 'an unbounded retry loop in a client library', fix: 'shipped a client patch with capped retries' },
];
const SYMPTOMS = [
  (n: number) => `p99 latency rose to ${n * 40} ms`,
  (n: number) => `the error rate reached ${(n / 10).toFixed(1)}%`,
  (n: number) => `the queue backlog grew to ${n}k messages`,
];

/** An incident-summary task (docs assistant; key derived from the prompt). */
export function summaryTask(rng: Rng): GatewayTask {
  const svc = rng.pick(SERVICES);
  const region = rng.pick(REGIONS);
  const { cause, fix } = rng.pick(CAUSES);
  const n = rng.range(12, 95);
  const symptom = rng.pick(SYMPTOMS)(n);
  const minutes = rng.range(12, 180);
  const pct = rng.range(1, 40);
  const start = `${String(rng.range(0, 23)).padStart(2, '0')}:${String(rng.range(0, 59)).padStart(2, '0')} UTC`;
  const report =
    `At ${start}, on-call was paged because ${svc} in ${region} degraded: ${symptom}. ` +
    `About ${pct}% of requests in the region were affected. The investigation found ${cause}. ` +
    `The team ${fix}; metrics were back to normal ${minutes} minutes after the page. ` +
    `A follow-up review is scheduled and no data was lost.`;
  const ask = rng.pick([
    'Summarise this incident report in exactly 3 bullet points for the status page:',
    'Give me a 3-bullet summary of this incident for customers:',
    'TL;DR this postmortem in three bullets, no jargon:',
  ]);
  return {
    family: 'summary',
    app: 'docs-assistant',
    taskKey: null,
    prompt: [
      { role: 'system', content: 'You write clear, factual incident summaries for a public status page.' },
      { role: 'user', content: `${ask}\n\n${report}` },
    ],
    tools: [],
    toolStep: null,
    good: `- ${svc} in ${region} was degraded for ${minutes} minutes (${symptom}), affecting about ${pct}% of requests.\n- Cause: ${cause}.\n- Fix: the team ${fix}; no data was lost and a follow-up review is scheduled.`,
    flawed: `- There was a short blip in ${region}.\n- It was caused by a database outage at our cloud provider.\n- Everything is fine now.\n- We apologise.\n- More details soon.`,
    checks: ['human', 'auditor'],
    suite: null,
    runner: null,
    environment: null,
  };
}
