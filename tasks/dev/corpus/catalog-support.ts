import type { Rng } from './prng.ts';
import { fnTool, type GatewayTask, type RawMessage, type RawToolDef } from './task-spec.ts';

/** The support policy facts; playbooks state the same facts, so RAG can ground the answers. */
export const POLICY = {
  refundDays: 30,
  refundProcessing: '5-7 business days',
  shippingStandard: '3-5 business days',
  shippingExpress: '1-2 business days',
  shippingInternational: '7-14 business days',
  warrantyYears: 2,
  exchangeDays: 30,
} as const;

const BRAND = 'Northwind Outfitters';
const PRODUCTS = [
  'Trailblazer rain jacket',
  'Summit 45L backpack',
  'Merino base layer',
  'Ridge hiking boots',
  'Packable down vest',
  'Canyon trail shorts',
  'Alpine fleece',
  'Drift sleeping bag',
];
const PROBLEMS = [
  "doesn't fit",
  'has a torn seam',
  'arrived in the wrong colour',
  'is not what I expected',
  'has a broken zip',
];
const DOMESTIC = ['Denver', 'Austin', 'Portland', 'Chicago', 'Boston', 'Atlanta'];
const ABROAD = ['Toronto', 'Berlin', 'Melbourne', 'Osaka', 'Lisbon'];
const GREETINGS = ['', 'Hi, ', 'Hello! ', 'Hey there, ', 'Good morning. '];

/** What a support conversation is about, with its answers. */
export interface SupportCase {
  intent: string;
  message: string;
  good: string;
  flawed: string;
  orderId: string;
  /** Present when looking the order up is part of handling the case. */
  lookup: { status: string; carrier: string; eta: string } | null;
  /** Present when the correct handling issues a refund (cents). */
  refundCents: number | null;
}

/** One customer case from a handful of intents and many parameter values. */
export function supportCase(rng: Rng): SupportCase {
  const g = rng.pick(GREETINGS);
  const orderId = `NW-${rng.range(100000, 999999)}`;
  const product = rng.pick(PRODUCTS);
  switch (rng.int(6)) {
    case 0: {
      const days = rng.range(3, 60);
      const inWindow = days <= POLICY.refundDays;
      const cents = rng.range(30, 320) * 100 - 1;
      return {
        intent: 'refund',
        message: `${g}I bought the ${product} ${days} days ago (order ${orderId}) and it ${rng.pick(PROBLEMS)}. Can I get a refund?`,
        good: inWindow
          ? `I'm sorry about that! Your order is within our ${POLICY.refundDays}-day refund window. If the item is unworn with its tags, start a return from Orders → ${orderId} → Return item. Once it reaches us, the refund goes to your original payment method within ${POLICY.refundProcessing}.`
          : `I'm sorry about that. Your order was delivered more than ${POLICY.refundDays} days ago, so it is outside our refund window. If the problem is a defect, our ${POLICY.warrantyYears}-year warranty covers repair or replacement - reply with a photo and I'll open a warranty claim.`,
        flawed: `No problem! We accept returns within 90 days, no questions asked, and the refund is instant.`,
        orderId,
        lookup: null,
        refundCents: inWindow ? cents : null,
      };
    }
    case 1: {
      const abroad = rng.chance(0.35);
      const city = abroad ? rng.pick(ABROAD) : rng.pick(DOMESTIC);
      return {
        intent: 'shipping_time',
        message: `${g}how long does shipping to ${city} take if I order the ${product} today?`,
        good: abroad
          ? `International orders to ${city} usually arrive in ${POLICY.shippingInternational}. Customs can add a few days; you'll get a tracking link by email once it ships.`
          : `Standard shipping to ${city} takes ${POLICY.shippingStandard}; express takes ${POLICY.shippingExpress} if you order before 2 pm local time.`,
        flawed: `Everything ships overnight, so you'll have it tomorrow.`,
        orderId,
        lookup: null,
        refundCents: null,
      };
    }
    case 2: {
      const status = rng.pick(['in_transit', 'out_for_delivery', 'label_created']);
      const carrier = rng.pick(['UPS', 'FedEx', 'DHL']);
      const eta = `2026-10-${String(rng.range(5, 28)).padStart(2, '0')}`;
      return {
        intent: 'order_status',
        message: `${g}where is my order ${orderId}? It still hasn't arrived.`,
        good: `Your order ${orderId} is ${status.replace(/_/g, ' ')} with ${carrier} and is expected on ${eta}. You can follow it with the tracking link in your shipping email.`,
        flawed: `Your order was delivered yesterday. Please check with your neighbours.`,
        orderId,
        lookup: { status, carrier, eta },
        refundCents: null,
      };
    }
    case 3:
      return {
        intent: 'password_reset',
        message: `${g}I can't log in to my ${BRAND} account, I think I forgot my password.`,
        good: `No worries! Go to the sign-in page, choose "Forgot password", and enter your account email. The reset link is valid for 60 minutes; check your spam folder if it doesn't show up.`,
        flawed: `Please reply with your current password and I'll reset it for you.`,
        orderId,
        lookup: null,
        refundCents: null,
      };
    case 4:
      return {
        intent: 'exchange',
        message: `${g}the ${product} is too ${rng.pick(['small', 'large', 'tight', 'long'])}. Can I swap it for another size?`,
        good: `Yes - size exchanges are free within ${POLICY.exchangeDays} days of delivery. Start it from Orders → Exchange, pick the new size, and we'll ship it as soon as the original is scanned by the carrier.`,
        flawed: `Exchanges aren't possible; you'll need to buy the other size and sell this one.`,
        orderId,
        lookup: null,
        refundCents: null,
      };
    default:
      return {
        intent: 'warranty',
        message: `${g}my ${product} ${rng.pick(['zip broke', 'sole came off', 'seam split'])} after ${rng.range(3, 20)} months. Is that covered?`,
        good: `That should be covered: our warranty lasts ${POLICY.warrantyYears} years from purchase for manufacturing defects. Send a photo of the damage and your order number, and we'll repair or replace it.`,
        flawed: `Warranty only covers the first 30 days, sorry.`,
        orderId,
        lookup: null,
        refundCents: null,
      };
  }
}

/** The order-lookup tool of support assistants and agents. */
export const LOOKUP_ORDER: RawToolDef = fnTool('lookup_order', 'Look up an order by its id', {
  order_id: { type: 'string', description: 'Order id, e.g. NW-123456' },
});
/** The refund tool of the support agent. */
export const ISSUE_REFUND: RawToolDef = fnTool(
  'issue_refund',
  'Refund an order to its original payment method',
  {
    order_id: { type: 'string', description: 'Order id' },
    amount_cents: { type: 'integer', description: 'Amount to refund in cents' },
  },
);

/** The support assistant's system prompt. */
export const SUPPORT_SYSTEM = `You are Aria, the support assistant for ${BRAND}. Answer from the published policies only; never ask for passwords or card numbers. Be concise and friendly.`;

/** A support-chat task (no explicit task key: adapters derive it from the first user message). */
export function supportTask(rng: Rng, extraUserText: string): GatewayTask {
  const c = supportCase(rng);
  const prompt: RawMessage[] = [
    { role: 'system', content: SUPPORT_SYSTEM },
    { role: 'user', content: c.message + extraUserText },
  ];
  if (c.intent !== 'order_status' && rng.chance(0.25)) {
    prompt.push({
      role: 'assistant',
      content: 'Happy to help! Could you share your order number so I can check the details?',
    });
    prompt.push({ role: 'user', content: `Sure, it's ${c.orderId}.` });
  }
  return {
    family: 'support',
    app: 'support-chat',
    taskKey: null,
    prompt,
    tools: c.lookup ? [LOOKUP_ORDER] : [],
    toolStep: c.lookup
      ? {
          name: 'lookup_order',
          args: { order_id: c.orderId },
          result: JSON.stringify({ order_id: c.orderId, ...c.lookup }),
        }
      : null,
    good: c.good,
    flawed: c.flawed,
    checks: ['human', 'auditor'],
    suite: null,
    runner: null,
    environment: null,
  };
}
