import { GENERIC_REGEX, genericSecret, PASSWORD_WORDS, TOKEN_WORDS, valueAt } from './generic-secret.ts';
import { isCodeExpression, isPlaceholder } from './placeholders.ts';
import { isDecodableJwt, shannonEntropy, type SecretRule } from './secret-rule.ts';

/**
 * distill's own rules: shapes no provider rule names (private keys of every container, credentials
 * in URLs of any scheme, Authorization headers, `-u user:pass`, generic keyword + value), and the
 * few provider shapes where distill's form is wider or stricter than gitleaks' (OpenAI's legacy
 * keys, JWTs that must decode). Every regex starts at a literal and has bounded quantifiers; the
 * judgement (placeholders, entropy, structure) is code in the `check` / `secret` hooks.
 */

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

// secretlint's placeholder checks for credentials in database URLs
const DB_PLACEHOLDERS = new Set([
  'password',
  'username',
  'secret',
  'mypassword',
  'myusername',
  'root',
  'admin',
  'user',
  'pass',
  'your_password',
  'your_username',
  'replace_with_password',
]);

/** True when a URL's password part is a real one (not a placeholder, variable, mask or port). */
function realUrlPassword(user: string, password: string): boolean {
  let p = password;
  try {
    p = decodeURIComponent(password);
  } catch {
    // keep it as written
  }
  if (p.length < 3 || isPlaceholder(p) || DB_PLACEHOLDERS.has(p.toLowerCase())) return false;
  if (/^\d{1,5}$/.test(p) && user === '') return false; // host:port, not a password
  if (/^[A-Za-z_]\w*$/.test(user) && isPlaceholder(user) && /^[A-Za-z_]+$/.test(p)) return false; // user:password words
  return !/^(?:\*+|x+|\.+)$/i.test(p);
}

const G = 'g';
const GI = 'gi';

/** The distill rules, in priority order within their group (see secret-rules.ts for the whole order). */
export function distillFirstRules(since: string): SecretRule[] {
  return [
    {
      id: 'private-key',
      since,
      source: 'distill',
      description:
        'Private key block: PEM of every type (RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS#8), PGP, SSH2 / PuTTY, followed by a key body',
      keywords: ['private key', 'putty-user-key-file'],
      regex: new RegExp(
        String.raw`-{4,5} ?BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)? ?-{4,5}|PuTTY-User-Key-File-\d{1,2}: ?[\w@.-]{1,60}`,
        GI,
      ),
      check: (_s, m, text) =>
        m[0].toLowerCase().startsWith('putty')
          ? /Private-Lines: ?\d{1,4}/.test(text.slice(m.index, m.index + 16384))
          : base64RunNear(text, m.index + m[0].length, 600, 40),
    },
    {
      id: 'openai-api-key',
      since,
      source: 'distill',
      description:
        'OpenAI API key (sk-proj- / sk-svcacct- / sk-admin- keys with or without the T3BlbkFJ marker, legacy sk- keys); wider than gitleaks',
      keywords: ['sk-'],
      entropy: 3,
      regex: new RegExp(
        String.raw`\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,300}T3BlbkFJ[A-Za-z0-9_-]{20,300}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{80,300}|sk-[A-Za-z0-9]{48})(?![A-Za-z0-9_-])`,
        G,
      ),
    },
    {
      id: 'anthropic-oauth-token',
      since,
      source: 'distill',
      description:
        "Anthropic OAuth access token (sk-ant-oat01-; shape from gitleaks' rule source anthropic.go)",
      keywords: ['sk-ant-oat01'],
      entropy: 3,
      regex: new RegExp(String.raw`\b(sk-ant-oat01-[A-Za-z0-9_-]{40,300})`, G),
    },
    {
      id: 'anthropic-refresh-token',
      since,
      source: 'distill',
      description:
        "Anthropic OAuth refresh token (sk-ant-ort01-; shape from gitleaks' rule source anthropic.go)",
      keywords: ['sk-ant-ort01'],
      entropy: 3,
      regex: new RegExp(String.raw`\b(sk-ant-ort01-[A-Za-z0-9_-]{40,300})`, G),
    },
    {
      id: 'jwt',
      since,
      source: 'distill',
      description: 'JSON Web Token whose header and payload decode to JSON objects (detect-secrets check)',
      keywords: ['eyj'],
      regex: new RegExp(
        String.raw`\b(eyJ[A-Za-z0-9_-]{14,8192}\.eyJ[A-Za-z0-9_-]{14,16384}\.[A-Za-z0-9_-]{0,8192})`,
        G,
      ),
      check: (s) => isDecodableJwt(s),
    },
  ];
}

/** Credential shapes without a provider: URLs, headers, command lines, generic assignments (after the provider rules). */
export function distillLastRules(since: string): SecretRule[] {
  return [
    {
      id: 'stripe-webhook-secret',
      since,
      source: 'distill',
      description: 'Stripe webhook signing secret (whsec_, Stripe docs "Check the webhook signatures")',
      keywords: ['whsec_'],
      regex: new RegExp(String.raw`\b(whsec_[A-Za-z0-9+/=]{24,128})(?![A-Za-z0-9+/=])`, G),
      check: (s) => !isPlaceholder(s.slice(6)) && /\d/.test(s),
    },
    {
      id: 'azure-sas-token',
      since,
      source: 'distill',
      description:
        'Azure Storage shared access signature: a URL query with sv= and its sig= signature (Azure docs "Create SAS tokens")',
      keywords: ['sig='],
      regex: new RegExp(String.raw`[?&]sig=([A-Za-z0-9%+/=]{30,200})`, G),
      check: (_s, m, text) =>
        /[?&]sv=\d{4}-\d{2}-\d{2}/.test(text.slice(Math.max(0, m.index - 1000), m.index + 300)),
    },
    {
      id: 'telegram-bot-token',
      since,
      source: 'distill',
      description:
        'Telegram bot token <bot id>:<35 characters> in a Bot API URL or after a telegram / bot name (Telegram Bot API docs)',
      keywords: ['telegram', '/bot', 'bot_token', 'bottoken'],
      regex: new RegExp(
        String.raw`(?:/bot|telegram[\w.-]{0,30}["']?[ \t]{0,3}[:=][ \t]{0,3}["']?|bot_?token["']?[ \t]{0,3}[:=][ \t]{0,3}["']?)(\d{6,12}:[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])`,
        GI,
      ),
    },
    {
      id: 'discord-webhook-url',
      since,
      source: 'distill',
      description:
        'Discord webhook URL: /api/webhooks/<id>/<token> (Discord developer docs, Webhook resource)',
      keywords: ['discord'],
      regex: new RegExp(
        String.raw`discord(?:app)?\.com/api(?:/v\d{1,2})?/webhooks/\d{16,21}/([A-Za-z0-9_-]{60,100})`,
        GI,
      ),
    },
    {
      id: 'database-connection-string',
      since,
      source: 'secretlint',
      description:
        'MongoDB / MySQL / PostgreSQL URI with a password (secretlint shape, incl. +driver schemes)',
      keywords: ['mongodb', 'mysql', 'postgres'],
      regex: new RegExp(
        String.raw`\b(?:mongodb(?:\+srv)?|(?:jdbc:)?mysqlx?|postgres(?:ql)?)(?:\+[a-z0-9]{1,20})?://([^:/\s@]{1,100}):([^@/\s]{1,200})@`,
        GI,
      ),
      secret: (m) => ({ text: m[0], start: m.index }),
      check: (_s, m) => realUrlPassword(m[1] ?? '', m[2] ?? ''),
    },
    {
      id: 'url-credential',
      since,
      source: 'distill',
      description:
        'user:password@ or :password@ in a URL of any scheme (redis, amqp, scheme+driver, smtp, ftp, https, …)',
      keywords: ['://'],
      regex: new RegExp(
        String.raw`\b[a-z][a-z0-9+.-]{1,30}://([^\s:/@"'<>\x60]{0,100}):([^\s/@"'<>\x60]{1,200})@(?=[\w.[-])`,
        GI,
      ),
      secret: (m) => ({ text: m[0], start: m.index }),
      check: (_s, m) => realUrlPassword(m[1] ?? '', m[2] ?? ''),
    },
    {
      id: 'authorization-header',
      since,
      source: 'distill',
      description:
        'Authorization / Proxy-Authorization header with a Bearer, Basic, Token, Api-Token, SSWS, Bot, ApiKey or Digest credential, or a bare credential',
      keywords: ['authorization'],
      regex: new RegExp(
        String.raw`authorization["']?\s{0,3}[:=]\s{0,3}["']?(?:(?:Bearer|Basic|Token|Api-?Token|SSWS|Bot|Api-?Key|Digest|Key|OAuth|JWT)\s{1,3})?([^\s"'\x60,;\\]{8,4096})`,
        GI,
      ),
      check: (s) =>
        !isPlaceholder(s) &&
        !isCodeExpression(s) &&
        /\d/.test(s) &&
        shannonEntropy(s) >= 2.5 &&
        !/^(?:Bearer|Basic|Token)$/i.test(s),
    },
    {
      id: 'api-key-header',
      since,
      source: 'distill',
      description: 'An API-key header (X-Api-Key, Api-Token, X-Auth-Token, X-Access-Token, …) with a value',
      keywords: ['api-key', 'apikey', 'api-token', 'auth-token', 'access-token', 'token:'],
      regex: new RegExp(
        String.raw`(?:\b(?:X-)?(?:[A-Za-z]{1,20}-)?(?:Api-?Key|Api-?Token|Auth-?Token|Access-?Token)|(?<=^|["'\n])Token)["']?[ \t]{0,3}:[ \t]{0,3}["']?([^\s"'\x60,;\\]{8,512})`,
        GI,
      ),
      check: (s) => !isPlaceholder(s) && !isCodeExpression(s) && /\d/.test(s) && /[A-Za-z]/.test(s),
    },
    {
      id: 'bearer-token',
      since,
      source: 'distill',
      description: 'A Bearer credential outside an Authorization header (curl -H, code, prose)',
      keywords: ['bearer'],
      regex: new RegExp(String.raw`\bBearer[ \t]{1,3}([A-Za-z0-9._~+/=-]{16,4096})`, GI),
      check: (s) => !isPlaceholder(s) && /\d/.test(s) && /[A-Za-z]/.test(s) && shannonEntropy(s) >= 3,
    },
    {
      id: 'cli-user-password',
      since,
      source: 'distill',
      description:
        '-u / --user user:password on a command line (curl, wget, http clients), quoted or not; a token given as the user',
      keywords: ['-u', '--user'],
      regex: new RegExp(
        String.raw`(?:^|[\s"'])(?:-u|--user)(?:[ \t]{1,3}|=)((?:"[^"\n]{0,300}"|'[^'\n]{0,300}'|[^\s"':]{1,300})(?::(?:"[^"\n]{0,300}"|'[^'\n]{0,300}'|[^\s"']{0,300}))?)`,
        G,
      ),
      secret: (m) => {
        const arg = m[1] as string;
        const unq = (x: string): string => x.replace(/^["']|["']$/g, '');
        const colon = unq(arg).indexOf(':');
        if (colon === -1) return null;
        const whole = unq(arg);
        const user = unq(whole.slice(0, colon));
        const pass = unq(whole.slice(colon + 1));
        const start = m.index + m[0].length - arg.length;
        if (pass.length >= 3) return { text: pass, start: start + arg.lastIndexOf(pass) };
        // `-u "<token>:"`: an API token passed as the user, empty password
        if (pass === '' && user.length >= 8 && /\d/.test(user) && shannonEntropy(user) >= 3)
          return { text: user, start: start + arg.indexOf(user) };
        return null;
      },
      check: (s) => !isPlaceholder(s.replace(/^\{|\}$/g, '')) && !/^\$/.test(s),
    },
    {
      id: 'generic-api-key',
      since,
      source: 'distill',
      description:
        'A credential word (password, secret, token, api key, auth, … also Passwort, contraseña, пароль) assigned a literal that looks like one (see generic-secret.ts)',
      keywords: [...PASSWORD_WORDS, ...TOKEN_WORDS],
      regex: GENERIC_REGEX,
      secret: (m, text) => genericSecret(m, text),
    },
  ];
}

export { valueAt };
