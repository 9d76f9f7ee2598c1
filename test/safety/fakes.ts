/**
 * FAKE credentials for the safety tests, built at run time from a seeded generator in the shapes
 * of real ones (so no credential-shaped literal sits in the repository for other scanners to
 * trip on). None of them is a real credential.
 */

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const B64 = `${ALNUM}+/`;

/** A deterministic character source (LCG), one per test file. */
export function fakeChars(seed: number): (n: number, alphabet?: string) => string {
  let s = seed >>> 0;
  return (n, alphabet = ALNUM) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      out += alphabet[(s >>> 8) % alphabet.length];
    }
    return out;
  };
}

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** One fake secret of every kind the rule table must catch, by the rule id expected to name it. */
export function fakeSecrets(seed = 42): Record<string, string> {
  const c = fakeChars(seed);
  return {
    'openai-api-key': `sk-proj-${c(74)}T3BlbkFJ${c(74)}`,
    'anthropic-api-key': `sk-ant-api03-${c(93, `${ALNUM}_-`)}AA`,
    'anthropic-oauth-token': `sk-ant-oat01-${c(80, `${ALNUM}_-`)}`,
    'anthropic-refresh-token': `sk-ant-ort01-${c(80, `${ALNUM}_-`)}`,
    'aws-access-token': `AKIA${c(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    'github-pat': `ghp_${c(36)}`,
    'github-fine-grained-pat': `github_pat_${c(82)}`,
    'slack-bot-token': `xoxb-${c(12, '0123456789')}-${c(12, '0123456789')}-${c(24)}`,
    'slack-webhook-url': `https://hooks.slack.com/services/T${c(8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/B${c(8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/${c(24)}`,
    'gcp-api-key': `AIza${c(35, `${ALNUM}_-`)}`,
    'huggingface-access-token': `hf_${c(34, LETTERS)}`,
    'stripe-access-token': `sk_live_${c(24)}`,
    'private-key': `-----BEGIN RSA PRIVATE KEY-----\n${c(64, B64)}\n${c(64, B64)}\n-----END RSA PRIVATE KEY-----`,
    jwt: `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '1234567890', name: 'Test User', iat: 1516239022 })}.${c(43, `${ALNUM}_-`)}`,
    'generic-api-key': `api_key = "${c(24)}"`,
  };
}
