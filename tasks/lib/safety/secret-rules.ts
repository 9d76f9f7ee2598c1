/**
 * The secret detector table, versioned. A hit on any rule quarantines the record from every
 * training export (SECRET_DETECTED:<rule id>).
 *
 * Attribution: rules with `source: 'gitleaks'` are adapted from gitleaks `config/gitleaks.toml`
 * (https://github.com/gitleaks/gitleaks, MIT License, Copyright (c) 2019 Zachary Rice), at commit
 * 009e025ad4106ab333aa0b9dc4f2a884390d134c (v8.x), plus the Anthropic OAuth / refresh token shapes
 * from its rule source `cmd/generate/config/rules/anthropic.go`. Rules with `source: 'secretlint'`
 * mirror @secretlint/secretlint-rule-preset-recommend 11.7.1 (MIT License, Copyright (c) azu), the
 * second engine that rescans every export before it is published, so that it never finds something
 * this table let through. Changes from the originals, for bounded time on hostile text:
 * - every regex starts at a literal (or `\b` + literal) and every quantifier has an upper bound,
 *   so one match attempt reads a bounded window and attempts only start at the literal;
 * - gitleaks' leading `[\w.-]{0,50}?` identifier prefix is not matched (the generic rule looks
 *   back for the identifier by hand, after a hit);
 * - the private-key rule matches the BEGIN header and then looks for a key-body line by hand
 *   instead of a lazy `[\s\S-]{64,}?` up to the END line.
 *
 * Adding or changing a rule: bump SECRET_RULES_VERSION, set the rule's `since` to it, and add a
 * positive and a negative example to test/safety/secret-scan.test.ts. docs/safety.md lists the table.
 */

/** Version of the rule table; recorded in the screen manifest and in every quarantine detail. */
export const SECRET_RULES_VERSION = '2026.11.1';

/** One detector. */
export interface SecretRule {
  id: string;
  /** Table version in which the rule last changed. */
  since: string;
  source: 'gitleaks' | 'secretlint' | 'distill';
  description: string;
  /** Lowercase literals; the regex runs only on text containing one of them (gitleaks-style prefilter). */
  keywords: readonly string[];
  /** Global regex; capture group 1, when present, is the secret, else the whole match. */
  regex: RegExp;
  /** Minimum Shannon entropy (bits per character) of the secret. */
  entropy?: number;
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

/** Decodes base64 / base64url (padding optional) to text, or null if it is not valid UTF-8. */
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

/** True when a run of at least `min` base64 characters starts within `window` characters of `from`. */
function base64RunNear(text: string, from: number, window: number, min: number): boolean {
  let run = 0;
  const end = Math.min(text.length, from + window);
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    const b64 = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47;
    run = b64 ? run + 1 : 0;
    if (run >= min) return true;
  }
  return false;
}

// secretlint's placeholder checks for credentials in URLs (basicauth, database-connection-string)
const URL_PLACEHOLDERS = [
  'localhost',
  '127.0.0.1',
  'password',
  'mypassword',
  'myusername',
  '{password}',
  '${password}',
  '{{password}}',
  '{username}',
  '${username}',
  '{{username}}',
  'your_password',
  'your_username',
  'replace_with_password',
  'replace_with_username',
];
const DB_PLACEHOLDERS = [
  'password',
  'username',
  'secret',
  'mypassword',
  'myusername',
  'root',
  'admin',
  'user',
  'pass',
  '{password}',
  '${password}',
  '{{password}}',
  '{username}',
  '${username}',
  '{{username}}',
  'your_password',
  'your_username',
  'replace_with_password',
];
const VARIABLE_LIKE = [
  /\$\{[^}]{1,50}\}/,
  /\{\{[^}]{1,50}\}\}/,
  /\{[^}]{1,50}\}/,
  /%[A-Z_]{1,30}%/,
  /\$[A-Z_]{1,30}/,
  /\$\([^)]{1,50}\)/,
];
const variableLike = (s: string): boolean => VARIABLE_LIKE.some((r) => r.test(s));
const repeated = (s: string): boolean => /^(.)\1{3,}$/.test(s);

function realUrlCredential(user: string, password: string): boolean {
  const has = (s: string): boolean => URL_PLACEHOLDERS.some((p) => s.toLowerCase().includes(p));
  return (
    user.length >= 2 &&
    !variableLike(user) &&
    !has(user) &&
    password.length >= 4 &&
    !variableLike(password) &&
    !has(password) &&
    !repeated(password)
  );
}

function realDbPassword(password: string): boolean {
  return (
    password.length >= 4 &&
    !variableLike(password) &&
    !DB_PLACEHOLDERS.includes(password.toLowerCase()) &&
    !repeated(password)
  );
}

/** Identifiers that name something other than a secret (from gitleaks' generic-api-key allowlist). */
const GENERIC_ID_ALLOW =
  /access(?:ibility|or)|access[_.-]?id|random[_.-]?access|api[_.-]?(?:id|name|version|base|type)|rapid|capital|author|(?:credentials?[_.-]?id|withcredentials)|(?:bucket|foreign|hot|idx|natural|primary|pub(?:lic)?|schema|sequence|sort|partition|cache|dict|map|row|lookup|order|group|task|dedup|idempotency|join|cluster|shard|routing|object|s3|file|event|message|trace|run)[_.-]?key|turkey|key[_.-]?(?:alias|board|code|frame|id|length|mesh|name|pair|press(?:ed)?|ring|selector|signature|size|stone|storetype|word|up|down|left|right|type|s)\b|key[_.-]?vault[_.-]?(?:id|name)|keying|monkey|donkey|secret[_.-]?(?:length|name|size|ref|id)|usersecretsid|csrf[_.-]?token|(?:api|credentials|token)[_.-]?(?:endpoint|ur[il])|public[_.-]?token|(?:key|token)[_.-]?file|(?:max|prompt|completion|total|input|output|num|n|count|cached|reasoning)[_.-]?tokens?|token[_.-]?(?:count|type|usage|limit|ids?|s)\b|tokeniz|auth[_.-]?(?:type|method|mode|url|uri|provider|header|scheme|or)/i;

/** Words whose presence in a value marks a placeholder, not a secret (a subset of gitleaks' stopwords). */
const GENERIC_STOPWORDS = [
  'example',
  'sample',
  'placeholder',
  'dummy',
  'changeme',
  'your_',
  'xxxxxx',
  '000000',
  'aaaaaa',
  '123456',
  'abcdef',
  'redacted',
  '<',
  '>',
];

/** An assignment of a high-entropy value to a secret-ish name (both gitleaks' and our extra filters). */
export function genericValueLooksSecret(identifier: string, value: string): boolean {
  if (GENERIC_ID_ALLOW.test(identifier)) return false;
  if (!/^[A-Za-z0-9_.=+/-]{10,150}$/.test(value)) return false; // the generic rule's value shape
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false; // gitleaks: ^[a-zA-Z_.-]+$ is allowed
  if (value.startsWith('/') || value.startsWith('./') || value.includes('://')) return false; // paths and URLs
  if (/^\d{4}-\d{2}-\d{2}/.test(value) || /^v?\d+(?:\.\d+){1,3}(?:[-+][\w.]*)?$/.test(value)) return false; // dates, versions
  const lower = value.toLowerCase();
  if (GENERIC_STOPWORDS.some((w) => lower.includes(w))) return false;
  return shannonEntropy(value) >= 3.5;
}

/** The keywords of the generic rule, also used for JSON keys. */
export const GENERIC_KEY_PATTERN = /access|auth|api|credential|creds|key|passw(?:or)?d|pwd|secret|token/i;

/** The identifier around a generic hit: word characters before the keyword, up to 40. */
function identifierBefore(text: string, at: number): string {
  let i = at;
  while (i > 0 && at - i < 40 && /[\w.-]/.test(text[i - 1] as string)) i--;
  return text.slice(i, at);
}

const G = 'g';
const GI = 'gi';

/** The rule table, in priority order: the first rule that hits names the quarantine reason. */
export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'private-key',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'PEM / OpenSSH / PGP private key (BEGIN header followed by a key body line)',
    keywords: ['-----begin'],
    regex: new RegExp(String.raw`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----`, G),
    check: (_s, m, text) => base64RunNear(text, m.index + m[0].length, 400, 40),
  },
  {
    id: 'openai-api-key',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'OpenAI API key (sk-proj- / sk-svcacct- / sk-admin- project keys, legacy sk- keys)',
    keywords: ['sk-'],
    entropy: 3,
    regex: new RegExp(
      String.raw`\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,300}T3BlbkFJ[A-Za-z0-9_-]{20,300}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{80,300}|sk-[A-Za-z0-9]{48})(?![A-Za-z0-9_-])`,
      G,
    ),
  },
  {
    id: 'anthropic-api-key',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Anthropic API key (sk-ant-api03-)',
    keywords: ['sk-ant-api0'],
    regex: new RegExp(String.raw`\b(sk-ant-api0\d-[A-Za-z0-9_-]{80,128}AA)(?![A-Za-z0-9_-])`, G),
  },
  {
    id: 'anthropic-admin-api-key',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Anthropic admin API key (sk-ant-admin01-)',
    keywords: ['sk-ant-admin01'],
    regex: new RegExp(String.raw`\b(sk-ant-admin01-[A-Za-z0-9_-]{80,128}AA)(?![A-Za-z0-9_-])`, G),
  },
  {
    id: 'anthropic-oauth-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Anthropic OAuth access token (sk-ant-oat01-)',
    keywords: ['sk-ant-oat01'],
    entropy: 3,
    regex: new RegExp(String.raw`\b(sk-ant-oat01-[A-Za-z0-9_-]{40,300})`, G),
  },
  {
    id: 'anthropic-refresh-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Anthropic OAuth refresh token (sk-ant-ort01-)',
    keywords: ['sk-ant-ort01'],
    entropy: 3,
    regex: new RegExp(String.raw`\b(sk-ant-ort01-[A-Za-z0-9_-]{40,300})`, G),
  },
  {
    id: 'aws-access-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'AWS access key id (AKIA / ASIA / ABIA / ACCA / A3T…)',
    keywords: ['a3t', 'akia', 'asia', 'abia', 'acca'],
    entropy: 3,
    regex: new RegExp(String.raw`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`, G),
    check: (s) => !s.endsWith('EXAMPLE'),
  },
  {
    id: 'aws-secret-access-key',
    since: '2026.11.1',
    source: 'secretlint',
    description: 'AWS secret access key assigned to aws_secret_access_key (git-secrets pattern)',
    keywords: ['secret'],
    regex: new RegExp(
      String.raw`secret_?access_?key["']?\s{0,3}(?::|=>|=)\s{0,3}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`,
      GI,
    ),
    check: (s) => s !== 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
  {
    id: 'github-pat',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'GitHub personal access token (ghp_)',
    keywords: ['ghp_'],
    entropy: 3,
    regex: new RegExp(String.raw`(ghp_[0-9A-Za-z]{36})`, G),
  },
  {
    id: 'github-fine-grained-pat',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'GitHub fine-grained personal access token (github_pat_)',
    keywords: ['github_pat_'],
    entropy: 3,
    regex: new RegExp(String.raw`(github_pat_\w{82})`, G),
  },
  {
    id: 'github-oauth',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'GitHub OAuth access token (gho_)',
    keywords: ['gho_'],
    entropy: 3,
    regex: new RegExp(String.raw`(gho_[0-9A-Za-z]{36})`, G),
  },
  {
    id: 'github-app-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'GitHub app token (ghu_ / ghs_)',
    keywords: ['ghu_', 'ghs_'],
    entropy: 3,
    regex: new RegExp(String.raw`((?:ghu|ghs)_[0-9A-Za-z]{36})`, G),
  },
  {
    id: 'github-refresh-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'GitHub refresh token (ghr_)',
    keywords: ['ghr_'],
    entropy: 3,
    regex: new RegExp(String.raw`(ghr_[0-9A-Za-z]{36})`, G),
  },
  {
    id: 'github-xoauth-url',
    since: '2026.11.1',
    source: 'secretlint',
    description: 'GitHub token in an x-oauth-basic clone URL',
    keywords: ['x-oauth-basic'],
    regex: new RegExp(String.raw`https?://([^\s:@/]{1,256}):x-oauth-basic@github\.com/`, G),
  },
  {
    id: 'slack-bot-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Slack bot token (xoxb-)',
    keywords: ['xoxb'],
    entropy: 3,
    regex: new RegExp(String.raw`(xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]{0,64})`, G),
  },
  {
    id: 'slack-user-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Slack user token (xoxp- / xoxe-)',
    keywords: ['xoxp-', 'xoxe-'],
    entropy: 2,
    regex: new RegExp(String.raw`(xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34})`, G),
  },
  {
    id: 'slack-app-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Slack app-level token (xapp-)',
    keywords: ['xapp'],
    entropy: 2,
    regex: new RegExp(String.raw`(xapp-\d-[A-Z0-9]{1,64}-\d{1,32}-[a-z0-9]{1,128})`, GI),
  },
  {
    id: 'slack-token',
    since: '2026.11.1',
    source: 'secretlint',
    description: 'Any other Slack token shape (xoxa/xoxo/xoxr/…, secretlint pattern)',
    keywords: ['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-'],
    regex: new RegExp(
      String.raw`\b((?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(?:\d-)?(?:[a-zA-Z0-9]{1,40}-){1,8}[a-zA-Z0-9]{1,40})\b`,
      G,
    ),
  },
  {
    id: 'slack-webhook-url',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Slack incoming webhook / workflow URL',
    keywords: ['hooks.slack.com'],
    regex: new RegExp(
      String.raw`(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}|hooks\.slack\.com/services/T[a-zA-Z0-9]{1,40}/B[a-zA-Z0-9]{1,40}/[a-zA-Z0-9]{1,40})`,
      GI,
    ),
  },
  {
    id: 'gcp-api-key',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Google / GCP API key (AIza…)',
    keywords: ['aiza'],
    entropy: 4,
    regex: new RegExp(String.raw`\b(AIza[\w-]{35})(?![\w-])`, G),
  },
  {
    id: 'huggingface-access-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Hugging Face access token (hf_)',
    keywords: ['hf_'],
    entropy: 2,
    regex: new RegExp(String.raw`\b(hf_[A-Za-z]{34})(?![A-Za-z0-9_])`, G),
  },
  {
    id: 'huggingface-organization-api-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Hugging Face organization API token (api_org_)',
    keywords: ['api_org_'],
    entropy: 2,
    regex: new RegExp(String.raw`\b(api_org_[A-Za-z]{34})(?![A-Za-z0-9_])`, G),
  },
  {
    id: 'stripe-access-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'Stripe secret / restricted key (sk_live_, rk_test_, …)',
    keywords: ['sk_test', 'sk_live', 'sk_prod', 'rk_test', 'rk_live', 'rk_prod'],
    entropy: 2,
    regex: new RegExp(String.raw`\b((?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99})(?![A-Za-z0-9])`, G),
  },
  {
    id: 'npm-access-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'npm access token (npm_)',
    keywords: ['npm_'],
    entropy: 2,
    regex: new RegExp(String.raw`\b(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9_])`, G),
  },
  {
    id: 'npmrc-auth-token',
    since: '2026.11.1',
    source: 'secretlint',
    description: '_authToken= line of an .npmrc',
    keywords: ['_authtoken='],
    regex: new RegExp(String.raw`_authToken=([^$\s][^\s]{0,511})`, G),
  },
  {
    id: 'sendgrid-api-token',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'SendGrid API key (SG.)',
    keywords: ['sg.'],
    entropy: 2,
    regex: new RegExp(String.raw`\b(SG\.[A-Za-z0-9=_.-]{66})(?![A-Za-z0-9=_.-])`, G),
  },
  {
    id: 'shopify-token',
    since: '2026.11.1',
    source: 'secretlint',
    description: 'Shopify access token / shared secret (shpat_, shpca_, shppa_, shpss_)',
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    regex: new RegExp(String.raw`\b((?:shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32,64})(?![a-zA-Z0-9])`, G),
  },
  {
    id: 'linear-api-key',
    since: '2026.11.1',
    source: 'secretlint',
    description: 'Linear API key (lin_api_)',
    keywords: ['lin_api_'],
    regex: new RegExp(String.raw`\b(lin_api_[a-zA-Z0-9_]{32,128})(?![a-zA-Z0-9_])`, G),
  },
  {
    id: '1password-service-account-token',
    since: '2026.11.1',
    source: 'secretlint',
    description: '1Password service account token (ops_eyJ…)',
    keywords: ['ops_'],
    regex: new RegExp(String.raw`\b(ops_ey[A-Za-z0-9+/=]{100,1280}fQ={0,2})(?![A-Za-z0-9+/=])`, G),
  },
  {
    id: 'jwt',
    since: '2026.11.1',
    source: 'gitleaks',
    description: 'JSON Web Token whose header and payload decode to JSON objects (detect-secrets check)',
    keywords: ['eyj'],
    regex: new RegExp(
      String.raw`\b(eyJ[A-Za-z0-9_-]{14,8192}\.eyJ[A-Za-z0-9_-]{14,16384}\.[A-Za-z0-9_-]{0,8192})`,
      G,
    ),
    check: (s) => isDecodableJwt(s),
  },
  {
    id: 'database-connection-string',
    since: '2026.11.1',
    source: 'secretlint',
    description: 'MongoDB / MySQL / PostgreSQL URI with a password',
    keywords: ['mongodb', 'mysql', 'postgres'],
    regex: new RegExp(
      String.raw`\b(?:mongodb(?:\+srv)?|(?:jdbc:)?mysqlx?|postgres(?:ql)?)://([^:/\s@]{1,100}):([^@/\s]{1,200})@`,
      GI,
    ),
    check: (_s, m) => realDbPassword(m[2] ?? ''),
  },
  {
    id: 'basic-auth-url',
    since: '2026.11.1',
    source: 'secretlint',
    description: 'user:password@ in an http(s) / ftp(s) URL',
    keywords: ['://'],
    regex: new RegExp(
      String.raw`\b(?:https?|ftps?)://([-a-zA-Z0-9_]{1,256}):([-a-zA-Z0-9_]{1,256})@[-a-zA-Z0-9%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b`,
      G,
    ),
    check: (_s, m) => realUrlCredential(m[1] ?? '', m[2] ?? ''),
  },
  {
    id: 'generic-api-key',
    since: '2026.11.1',
    source: 'gitleaks',
    description:
      'A secret-ish name (key, token, secret, password, auth, api, …) assigned a high-entropy value (≥ 3.5 bits/char, letters and digits)',
    keywords: [
      'access',
      'api',
      'auth',
      'key',
      'credential',
      'creds',
      'passwd',
      'password',
      'pwd',
      'secret',
      'token',
    ],
    regex: new RegExp(
      String.raw`(?:access|auth|api|credential|creds|key|passw(?:or)?d|pwd|secret|token)([\w.-]{0,20})["'\x60]?\s{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)\s{0,3}["'\x60]?(?=([A-Za-z0-9_.=+/-]{10,150}))\2(?=[\x60'"\s;,)}\]]|\\[nr]|$)`,
      GI,
    ),
    check: (_s, m, text) =>
      genericValueLooksSecret(
        identifierBefore(text, m.index) + m[0].slice(0, m[0].length - (m[2] ?? '').length),
        m[2] ?? '',
      ),
  },
];

/** The capture that is the secret: group 2 for the generic rule (the value), else group 1 or the whole match. */
export function secretOf(rule: SecretRule, m: RegExpExecArray): { text: string; start: number } {
  if (rule.id === 'generic-api-key' && m[2] !== undefined)
    return { text: m[2], start: m.index + m[0].length - m[2].length };
  if (
    m[1] !== undefined &&
    rule.id !== 'database-connection-string' &&
    rule.id !== 'basic-auth-url' &&
    rule.id !== 'github-xoauth-url'
  ) {
    return { text: m[1], start: m.index + m[0].indexOf(m[1]) };
  }
  return { text: m[0], start: m.index };
}
