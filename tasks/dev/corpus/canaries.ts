import type { Rng } from './prng.ts';

// ============================================================================================
// FAKE-SECRET CANARIES: everything in this file is synthetic. The keys below are built at run
// time from the seeded PRNG in the *shape* of real credentials (gitleaks rule shapes) so the
// safety passes have something to catch. None is a real credential. Rows that carry them stay
// valid evidence; later passes must quarantine them from every training export.
// ============================================================================================

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const AWS_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The kinds of canary a run can carry. */
export const CANARY_KINDS = ['openai_key', 'aws_key', 'github_token', 'pii'] as const;
/** One canary kind. */
export type CanaryKind = (typeof CANARY_KINDS)[number];

/** FAKE OpenAI project key: `sk-proj-` + 74 chars + `T3BlbkFJ` + 74 chars (gitleaks openai-api-key shape). */
export function fakeOpenAiKey(rng: Rng): string {
  return `sk-proj-${rng.chars(74, ALNUM)}T3BlbkFJ${rng.chars(74, ALNUM)}`;
}

/** FAKE AWS access key id: `AKIA` + 16 chars of [A-Z2-7]. */
export function fakeAwsKey(rng: Rng): string {
  return `AKIA${rng.chars(16, AWS_CHARS)}`;
}

/** FAKE GitHub personal access token: `ghp_` + 36 alphanumerics. */
export function fakeGithubToken(rng: Rng): string {
  return `ghp_${rng.chars(36, ALNUM)}`;
}

const FIRST = ['jordan', 'maria', 'li', 'sam', 'priya', 'tomasz', 'ana', 'kwame', 'elena', 'noah'];
const LAST = ['reyes', 'schmidt', 'wang', 'okafor', 'patel', 'nowak', 'silva', 'mensah', 'rossi', 'kim'];

/** FAKE contact details (example.com mail, 555-01xx fictional numbers). */
export function fakeContact(rng: Rng): { email: string; phone: string } {
  const email = `${rng.pick(FIRST)}.${rng.pick(LAST)}${rng.range(1, 99)}@example.com`;
  const phone = `+1 (${rng.pick(['212', '415', '617', '312'])}) 555-01${String(rng.range(0, 99)).padStart(2, '0')}`;
  return { email, phone };
}

/** A sentence a user might add that carries fake PII. */
export function piiSentence(rng: Rng): string {
  const c = fakeContact(rng);
  return rng.pick([
    ` You can reach me at ${c.email} or ${c.phone}.`,
    ` My email is ${c.email}, phone ${c.phone}.`,
    ` (contact: ${c.email})`,
  ]);
}

/** Text carrying one canary of the given kind, phrased the way it leaks in real traces. */
export function canaryText(kind: CanaryKind, rng: Rng): string {
  switch (kind) {
    case 'openai_key':
      return `\n\nFor local testing put this in your .env:\nOPENAI_API_KEY=${fakeOpenAiKey(rng)}`;
    case 'aws_key':
      return `\n\nI used these credentials from the CI config:\nAWS_ACCESS_KEY_ID=${fakeAwsKey(rng)}\nAWS_DEFAULT_REGION=us-east-1`;
    case 'github_token':
      return `\n\nThe clone works with: git clone https://x-access-token:${fakeGithubToken(rng)}@github.com/acme/web-backend.git`;
    case 'pii':
      return piiSentence(rng);
  }
}
// ============================================================================================
// END FAKE-SECRET CANARIES
// ============================================================================================
