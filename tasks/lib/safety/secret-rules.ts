import { distillFirstRules, distillLastRules } from './distill-rules.ts';
import { genericPairIsSecret } from './generic-secret.ts';
import { gitleaksRules } from './gitleaks-rules.ts';
import type { SecretRule } from './secret-rule.ts';
import { secretlintRules } from './secretlint-rules.ts';

/**
 * The secret detector table, versioned. A hit on any rule quarantines the record from every
 * training export (SECRET_DETECTED:<rule id>). Assembled, in priority order (the first rule in
 * table order names the reason):
 *   1. distill's replacements of three provider rules (private keys of every container, OpenAI's
 *      wider key shapes, JWTs that must decode; distill-rules.ts);
 *   2. the gitleaks rule set (gitleaks-rules.ts over the generated table in rules/, MIT licensed,
 *      origin and commit in GITLEAKS_ORIGIN; `npm run rules:update` regenerates it), except the
 *      rules replaced here and its generic-api-key;
 *   3. mirrors of the second engine's (secretlint) rules where its shapes are wider;
 *   4. credential URLs, Authorization headers, `-u user:pass`, and the generic keyword + value
 *      detector last (it names only what nothing more specific did).
 *
 * Changing the table: bump SECRET_RULES_VERSION (it is recorded in the screen manifest and every
 * quarantine detail, and invalidates screen's cache), add examples to
 * test/safety/secret-scan.test.ts or the adversarial corpus, and update docs/safety.md.
 */

/** Version of the rule table; recorded in the screen manifest and in every quarantine detail. */
export const SECRET_RULES_VERSION = '2026.12.1';

/** gitleaks rules distill replaces by its own of the same id (or drops, for the generic one), and why. */
export const REPLACED_GITLEAKS_RULES: Readonly<Record<string, string>> = {
  'private-key':
    'its lazy [\\s\\S-]{64,}? body reads to the end of the text for every BEGIN header; distill checks the body by hand and adds PuTTY and SSH2 keys',
  'openai-api-key':
    'distill also finds project keys without the T3BlbkFJ marker and legacy 48-character keys',
  jwt: 'distill requires the header and payload to decode to JSON objects (detect-secrets), gitleaks only their shape',
  'generic-api-key':
    "distill's generic detector (generic-secret.ts) also reads passwords with symbols, quoted values and other languages' words",
  'curl-auth-user':
    "its `(?:.*|.*(?:[\\r\\n]{1,2}.*){1,5})` is linear in RE2 but backtracks for minutes in JavaScript on a long line after `curl`; distill's cli-user-password finds `-u user:pass` without needing `curl` before it",
  'curl-auth-header':
    "the same backtracking shape as curl-auth-user; distill's authorization-header and bearer-token find the header's credential anywhere",
  'linear-api-key': "secretlint's shape (the second engine) is wider",
  '1password-service-account-token': "secretlint's shape (the second engine) is wider",
};

/** The rule table, in priority order. */
export const SECRET_RULES: readonly SecretRule[] = [
  ...distillFirstRules(SECRET_RULES_VERSION),
  ...gitleaksRules(SECRET_RULES_VERSION, new Set(Object.keys(REPLACED_GITLEAKS_RULES))),
  ...secretlintRules(SECRET_RULES_VERSION),
  ...distillLastRules(SECRET_RULES_VERSION),
];

/** A `key: value` pair of parsed JSON whose key names a credential and whose value looks like one. */
export const pairIsSecret = genericPairIsSecret;

export { isDecodableJwt, secretOf, shannonEntropy, type SecretRule } from './secret-rule.ts';
