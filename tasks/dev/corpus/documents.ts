import { isoUtc } from './clock.ts';
import type { Rng } from './prng.ts';
import { POLICY } from './catalog-support.ts';

interface Topic {
  id: string;
  title: string;
  tags: string[];
  when: string;
  steps: string[];
}

const PLAYBOOKS: readonly Topic[] = [
  {
    id: 'pb-refund-policy',
    title: 'Refund requests',
    tags: ['support', 'refunds'],
    when: 'A customer asks for their money back.',
    steps: [
      `Check the delivery date: refunds are allowed within ${POLICY.refundDays} days of delivery.`,
      'Confirm the item is unworn and has its tags.',
      `Start the return; the refund reaches the original payment method within ${POLICY.refundProcessing}.`,
      `Outside the window, offer the ${POLICY.warrantyYears}-year warranty for defects.`,
    ],
  },
  {
    id: 'pb-shipping-times',
    title: 'Shipping time questions',
    tags: ['support', 'shipping'],
    when: 'A customer asks when an order will arrive.',
    steps: [
      `Standard: ${POLICY.shippingStandard}.`,
      `Express: ${POLICY.shippingExpress} when ordered before 2 pm local time.`,
      `International: ${POLICY.shippingInternational}; customs may add days.`,
    ],
  },
  {
    id: 'pb-order-tracking',
    title: 'Where is my order?',
    tags: ['support', 'orders'],
    when: 'An order has not arrived.',
    steps: [
      'Look the order up with lookup_order.',
      'Quote status, carrier and ETA exactly as returned.',
      'If the ETA passed more than 5 days ago, open a carrier trace.',
    ],
  },
  {
    id: 'pb-password-reset',
    title: 'Account access and password resets',
    tags: ['support', 'account', 'security'],
    when: 'A customer cannot sign in.',
    steps: [
      'Send them to "Forgot password" on the sign-in page.',
      'The link is valid for 60 minutes.',
      'Never ask for a password or a full card number.',
    ],
  },
  {
    id: 'pb-size-exchange',
    title: 'Size exchanges',
    tags: ['support', 'exchanges'],
    when: 'An item does not fit.',
    steps: [
      `Exchanges are free within ${POLICY.exchangeDays} days of delivery.`,
      'Start from Orders → Exchange.',
      'The new size ships when the carrier scans the original.',
    ],
  },
  {
    id: 'pb-warranty',
    title: 'Warranty claims',
    tags: ['support', 'warranty'],
    when: 'A product failed in normal use.',
    steps: [
      `The warranty covers manufacturing defects for ${POLICY.warrantyYears} years from purchase.`,
      'Ask for a photo and the order number.',
      'Repair first; replace when repair is not possible.',
    ],
  },
  {
    id: 'pb-rotate-db-credentials',
    title: 'Rotating database credentials',
    tags: ['engineering', 'security', 'database'],
    when: 'A credential leaked or its 90-day rotation is due.',
    steps: [
      'Create the new role with the same grants.',
      'Update the secret in the vault; never paste credentials into tickets or chats.',
      'Roll the services, then drop the old role after 24 hours.',
    ],
  },
  {
    id: 'pb-rollback-deploy',
    title: 'Rolling back a deploy',
    tags: ['engineering', 'deploys', 'incidents'],
    when: 'Error rate or latency regressed right after a deploy.',
    steps: [
      'Freeze the pipeline.',
      'Redeploy the previous release tag.',
      'Confirm metrics recover, then open a follow-up review.',
    ],
  },
  {
    id: 'pb-upstream-429',
    title: 'Handling 429s from a model provider',
    tags: ['engineering', 'gateway', 'llm'],
    when: 'The gateway logs rate_limit_error from a cloud provider.',
    steps: [
      'Check the per-minute quota dashboard.',
      'Enable the secondary provider route.',
      'Back off with jitter; never retry in a tight loop.',
    ],
  },
  {
    id: 'pb-local-escalation',
    title: 'Escalating from the local model',
    tags: ['engineering', 'gateway', 'llm'],
    when: 'A local model call failed, was truncated or returned nothing.',
    steps: [
      'The gateway retries once on a cloud model with escalated_from set.',
      'Both attempts keep the same task_key.',
      'Review escalation rates weekly per task family.',
    ],
  },
];

const RUNBOOKS: readonly Topic[] = [
  {
    id: 'kb/runbooks/restart-vllm',
    title: 'Restart the local vLLM server',
    tags: ['llm', 'local-models'],
    when: 'Local calls fail with ECONNREFUSED or CUDA out-of-memory errors.',
    steps: [
      'Drain the node from the gateway pool.',
      'systemctl restart vllm',
      'Send a warm-up request and re-add the node.',
    ],
  },
  {
    id: 'kb/runbooks/queue-backlog',
    title: 'Clear a queue backlog',
    tags: ['queues', 'incidents'],
    when: 'A consumer lags by more than 10k messages.',
    steps: [
      'Scale consumers to the maximum replica count.',
      'Check for a poison message in the dead-letter queue.',
      'Scale back once lag is under 1k.',
    ],
  },
  {
    id: 'kb/runbooks/renew-tls',
    title: 'Renew an internal TLS certificate',
    tags: ['security', 'tls'],
    when: 'A certificate expires within 14 days.',
    steps: [
      'Issue a new certificate from the internal CA.',
      'Deploy it to the load balancer.',
      'Verify the chain with openssl s_client.',
    ],
  },
];

const FAQS: ReadonlyArray<{ id: string; title: string; tags: string[]; qa: Array<[string, string]> }> = [
  {
    id: 'kb/faq/shipping',
    title: 'Shipping FAQ',
    tags: ['shipping'],
    qa: [
      ['How long does standard shipping take?', POLICY.shippingStandard + '.'],
      ['Do you ship internationally?', `Yes, in ${POLICY.shippingInternational}.`],
      ['Can I change my address?', 'Yes, until the order ships.'],
    ],
  },
  {
    id: 'kb/faq/returns',
    title: 'Returns and refunds FAQ',
    tags: ['refunds', 'returns'],
    qa: [
      ['How long do I have to return an item?', `${POLICY.refundDays} days from delivery.`],
      ['When do I get my money back?', `Within ${POLICY.refundProcessing} after we receive the item.`],
      ['Are exchanges free?', `Yes, within ${POLICY.exchangeDays} days.`],
    ],
  },
  {
    id: 'kb/faq/gateway',
    title: 'LLM gateway FAQ (internal)',
    tags: ['gateway', 'llm'],
    qa: [
      ['Which models can I call?', 'Local qwen2.5 / llama-3.1 models and the approved cloud models.'],
      ['What is task_key?', 'An id that groups attempts at the same task; set it when your app knows it.'],
      ['Why was my call escalated?', 'The local model failed; the gateway retried on a cloud model.'],
    ],
  },
];

const OWNERS = ['support-ops', 'platform-team', 'sre', 'ml-platform'];

/** A playbook row: the next version of one topic. */
export function playbookRow(rng: Rng, versions: Map<string, number>, atMs: number): Record<string, unknown> {
  const t = rng.pick(PLAYBOOKS);
  const version = (versions.get(t.id) ?? 0) + 1;
  versions.set(t.id, version);
  const body = [
    `# ${t.title}`,
    `## When to use\n\n${t.when}`,
    `## Steps\n\n${t.steps.map((s, i) => `${i + 1}. ${s}`).join('\n')}`,
    `## Changelog\n\n- v${version}: ${version === 1 ? 'first version' : rng.pick(['clarified wording', 'added an escalation note', 'updated links', 'reviewed, no changes'])}.`,
  ].join('\n\n');
  return {
    playbook_id: t.id,
    version,
    title: t.title,
    body_markdown: body,
    tags: t.tags,
    owner: rng.pick(OWNERS),
    updated_at: isoUtc(atMs),
  };
}

/** A knowledge-base page row (runbook or FAQ) at its next revision. */
export function knowledgeDocRow(
  rng: Rng,
  revisions: Map<string, number>,
  atMs: number,
): Record<string, unknown> {
  const faq = rng.chance(0.5);
  const page = faq ? rng.pick(FAQS) : rng.pick(RUNBOOKS);
  const revision = (revisions.get(page.id) ?? 0) + 1;
  revisions.set(page.id, revision);
  const sections =
    'qa' in page
      ? page.qa.map(([q, a]) => ({ heading: q, content: a }))
      : [
          { heading: 'When to use', content: page.when },
          { heading: 'Procedure', content: page.steps.map((s, i) => `${i + 1}. ${s}`).join('\n') },
        ];
  return {
    id: page.id,
    revision,
    kind: faq ? 'faq' : 'runbook',
    title: page.title,
    url: `https://wiki.northwind.example/${page.id}`,
    sections,
    labels: page.tags,
    last_modified: isoUtc(atMs),
  };
}
