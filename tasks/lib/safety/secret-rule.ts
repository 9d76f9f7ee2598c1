/**
 * The shape of one secret detector and the helpers every rule shares (entropy, JWT structure).
 * The table itself is assembled in secret-rules.ts from the gitleaks rule set (gitleaks-rules.ts),
 * distill's own structural and generic rules (distill-rules.ts, generic-secret.ts) and the
 * mirrors of the second engine's rules (secretlint-rules.ts).
 */

/** One detector. */
export interface SecretRule {
  id: string;
  /** Table version in which the rule last changed. */
  since: string;
  source: 'gitleaks' | 'secretlint' | 'distill';
  description: string;
  /** Lowercase literals; the regex runs only on text containing one of them (gitleaks-style prefilter). */
  keywords: readonly string[];
  /** Global regex. */
  regex: RegExp;
  /** Minimum Shannon entropy (bits per character) of the secret. */
  entropy?: number;
  /** The secret inside a match (default: capture group 1, else the whole match), or null: no secret. */
  secret?: (m: RegExpExecArray, text: string) => { text: string; start: number } | null;
  /** Extra validation of a candidate (structure checks, placeholders); false = not a secret. */
  check?: (secret: string, m: RegExpExecArray, text: string) => boolean;
}

/** Shannon entropy of a string in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  const n = [...s].length;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Decodes base64 / base64url (padding optional) to JSON, or undefined. */
function b64json(part: string): unknown {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url'));
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

/** detect-secrets' JWT check: header and payload both base64url-decode to JSON objects. */
export function isDecodableJwt(token: string): boolean {
  const [header, payload] = token.split('.');
  return (
    header !== undefined && payload !== undefined && isObject(b64json(header)) && isObject(b64json(payload))
  );
}

/** The secret of a match under a rule: its `secret` hook, else capture group 1, else the whole match. */
export function secretOf(
  rule: SecretRule,
  m: RegExpExecArray,
  text: string,
): { text: string; start: number } | null {
  if (rule.secret) return rule.secret(m, text);
  if (m[1] !== undefined) return { text: m[1], start: m.index + m[0].indexOf(m[1]) };
  return { text: m[0], start: m.index };
}
