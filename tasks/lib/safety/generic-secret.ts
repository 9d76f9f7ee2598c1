import { isCodeExpression, isDateVersionOrNumber, isPlaceholder } from './placeholders.ts';
import { shannonEntropy } from './secret-rule.ts';

/**
 * Generic credential detection for what no provider rule names, on the model of detect-secrets'
 * KeywordDetector (a credential word, an assignment, a literal value) and gitleaks' generic-api-key
 * (an identifier holding a secret-ish word, an operator, a high-entropy value). A candidate is a
 * `<identifier> <operator> <value>` where the identifier holds a credential word in any case and
 * naming style (`DB_PASSWORD`, `dbPassword`, `"password"`, `<password>`, `Passwort`), in the
 * syntaxes configuration comes in (env lines, INI, YAML, JSON, XML, code assignments, `=>`,
 * `setProperty("X", "v")`). Two families decide differently:
 * - passwords (password, passwd, pwd, passphrase and other languages' words): any literal that is
 *   not a placeholder, a variable, code or a type name and holds a digit or a symbol;
 * - tokens (secret, token, api key, access key, private key, auth, credential): a literal with
 *   letters and digits, ≥ 12 characters and ≥ 3.2 bits of entropy per character.
 * Identifiers that name something else (`token_count`, `key_id`, `commit`, `idempotency key`,
 * `passenger`, `api_version`, …) are skipped, and so are values that are dates, versions, numbers,
 * UUIDs and hashes under an id-like name, URLs (the URL rules judge those), paths and e-mail addresses.
 */

/** Credential words, lowercase (the rule's keywords: one must occur for the rule to run). */
export const PASSWORD_WORDS = [
  'passw',
  'pwd',
  'passphrase',
  'passwort',
  'kennwort',
  'contraseña',
  'contrasena',
  'senha',
  'wachtwoord',
  'mot de passe',
  'mot_de_passe',
  'motdepasse',
  'salasana',
  'hasło',
  'haslo',
  'lösenord',
  'losenord',
  'adgangskode',
  'пароль',
  'パスワード',
  '密码',
  '密碼',
  '비밀번호',
];
export const TOKEN_WORDS = ['secret', 'token', 'key', 'auth', 'credential', 'creds', 'pass'];

const WORD = String.raw`(?:passw(?:or)?d|passwort|kennwort|passphrase|pwd|contrase[ñn]a|senha|wachtwoord|mot[ _]de[ _]passe|motdepasse|salasana|has[łl]o|l[öo]senord|adgangskode|пароль|パスワード|密[码碼]|비밀번호|secret|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|key|auth|credentials?|creds|pass)`;

/**
 * The keyword, up to 30 more identifier characters, an optional closing quote / bracket, and an
 * operator; the value is parsed by hand after the match (quoted or bare).
 */
export const GENERIC_REGEX = new RegExp(
  String.raw`${WORD}[\w.-]{0,30}(?:["'\x60]|&quot;)?\]?[ \t]{0,3}(?::=|=>|\?=|\|\|=|::|:|=|>|,)[ \t]{0,3}`,
  'gi',
);

/** Identifiers that hold a credential word but name something else (gitleaks' allowlist, widened). */
const ID_ALLOW = new RegExp(
  [
    String.raw`access(?:ibility|or|ible)|access[_.\s-]?(?:id|level|log|mode|type|control|time|count|pattern|list|rights?)\b`,
    String.raw`random[_.-]?access|api[_.-]?(?:id|name|version|base|type|url|uri|endpoint|host|path|docs?)\b|rapid|capital`,
    String.raw`author|authori[sz]ation[_.\s-]?(?:url|uri|endpoint|code[_.-]?url|server|header[_.-]?name|type|mode|status)|auth[_.\s-]?(?:type|method|mode|url|uri|provider|header|scheme|domain|endpoint|enabled|required|status|flow|server|service|user(?:name)?|name|strategy)\b|oauth[_.\s-]?(?:url|uri|provider|flow|scope)|authenticat(?:ed|ion[_.\s-]?(?:method|type|mode|status|results?))`,
    String.raw`credentials?[_.\s-]?(?:id|type|name|provider|file|path|helper|source)|withcredentials`,
    String.raw`(?:bucket|foreign|hot|idx|natural|primary|pub(?:lic)?|schema|sequence|sort|partition|cache|dict|map|row|lookup|order|group|task|dedup|dedupe|idempotency|join|cluster|shard|routing|object|s3|file|event|message|trace|run|unique|composite|hash|index|storage|translation|i18n|react|list|item|dom|redis|memcache|cursor|page|sign(?:ing)?[_.\s-]?key[_.\s-]?id|public)[_.\s-]?keys?\b`,
    String.raw`turkey|monkey|donkey|keyboard|keyword|keynote|keystroke|keychain[_.-]?(?:name|path)|hotkey|keyframe|keypad|keyring[_.-]?(?:name|path)|keyof|keys?[_.\s-]?(?:alias|board|code|frame|id|ids|length|mesh|name|pair[_.-]?name|press(?:ed)?|ring|selector|signature|size|stone|storetype|word|up|down|left|right|type|path|file|format|usage|spec|vault[_.-]?(?:id|name|url)|algorithm|version|count|prefix|field|column|by|fn|func|func?tion|map|set|s|value[_.-]?type)\b|keying`,
    String.raw`secret[_.\s-]?(?:length|name|size|ref|id|arn|path|version|key[_.-]?ref|manager|store|provider|type|scanning|detected|rules?|count|mount|volume|env)\b|usersecretsid|secretsmanager`,
    String.raw`csrf[_.\s-]?token|xsrf|(?:api|credentials|token)[_.\s-]?(?:endpoint|ur[il]|host)|public[_.\s-]?token|(?:key|token)[_.\s-]?(?:file|path|url|uri|endpoint)`,
    String.raw`(?:max|min|prompt|completion|total|input|output|num|n|count|cached|reasoning|context|remaining|used|budget|limit)[_.\s-]?tokens?|tokens?[_.\s-]?(?:count|type|usage|limit|ids?|s|len|length|budget|index|pos|position|stream|logprobs?|commit|sha|hash|expir\w*|ttl|lifetime|url|uri|endpoint|name|kind|class)\b|tokeni[sz]|tokens\b`,
    String.raw`passeng|passage|passport|passive|compass|bypass|overpass|underpass|trespass|pass[_.\s-]?(?:through|thru|rate|count|fail|ed|es|ing|k|at)\b|passw(?:or)?d[_.\s-]?(?:hash|hasher|hashers|reset|policy|length|min|max|strength|regex|pattern|field|label|hint|prompt|expir\w*|changed|last|rules?|validators?|input|placeholder|visible|toggle|required|manager|less|protected|auth|authentication|grant|flow|file|path|enabled|type|salt|confirm(?:ation)?[_.-]?(?:label|field)|updated|change[_.-]?(?:url|date)|age)\b`,
    String.raw`commit|\bsha\d*\b|checksum|digest|etag|fingerprint|nonce|idempotency|revision|request[_.\s-]?id|trace[_.\s-]?id|span[_.\s-]?id|correlation|uuid|guid|session[_.\s-]?id|build[_.\s-]?id|version`,
  ].join('|'),
  'i',
);

/** Identifier characters around a keyword (letters of any script, digits, `_ . -`). */
const isIdChar = (c: string): boolean => /[\p{L}\p{N}_.-]/u.test(c);

/** The whole identifier around the match: characters before the keyword, plus the matched name. */
function identifierAt(text: string, at: number, matched: string): string {
  let i = at;
  while (i > 0 && at - i < 40) {
    const c = text[i - 1] as string;
    // "idempotency key:" — one space between words of a spoken-style name
    if (isIdChar(c) || (c === ' ' && i - 2 >= 0 && isIdChar(text[i - 2] as string) && at - i < 20)) i--;
    else break;
  }
  return (text.slice(i, at) + matched).replace(/["'\x60\]\s:=>,|?]+$/g, '');
}

/** The value after an operator: a quoted literal, or a bare run up to whitespace / a delimiter. */
export function valueAt(text: string, from: number): { text: string; start: number; quoted: boolean } | null {
  let i = from;
  if (text.startsWith('&quot;', i)) {
    const end = text.indexOf('&quot;', i + 6);
    if (end === -1 || end - i > 260) return null;
    return { text: text.slice(i + 6, end), start: i + 6, quoted: true };
  }
  const q = text[i];
  if (q === '"' || q === "'" || q === '`') {
    i++;
    let j = i;
    while (j < text.length && j - i <= 256 && text[j] !== q && text[j] !== '\n')
      j += text[j] === '\\' ? 2 : 1;
    if (text[j] !== q) return null;
    return { text: text.slice(i, j), start: i, quoted: true };
  }
  let j = i;
  while (j < text.length && j - i <= 256) {
    const c = text.charCodeAt(j);
    // whitespace, quotes and backticks end a bare value
    if (c <= 32 || c === 34 || c === 39 || c === 96 || c === 0xa0) break;
    if (c === 92) return null; // an escape: the decoded view judges the value
    if (c === 38 && j > i) break; // & — the next query parameter
    j++;
  }
  if (j - i > 256) return null;
  let v = text.slice(i, j);
  v = v.replace(/[,;)}\]>.]+$/, ''); // trailing punctuation of prose or code
  if (v.startsWith('<')) return null; // XML markup that follows
  return v === '' ? null : { text: v, start: i, quoted: false };
}

const PASSWORD_ID = new RegExp(
  String.raw`passw|pwd|passphrase|passwort|kennwort|contrase|senha|wachtwoord|mot[ _]?de[ _]?passe|salasana|has[łl]o|l[öo]senord|adgangskode|пароль|パスワード|密|비밀번호|^(?:.*[_.-])?pass$`,
  'i',
);
/** Names that say "credential" outright; a bare `key` or `auth` does not. */
const STRONG_ID =
  /secret|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|credential|creds|client[_.-]?secret/i;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]+$/i;

/** True when a password-family value looks like a real password. */
function passwordLike(v: string): boolean {
  if (v.length < 6 || v.length > 200) return false;
  if (/%[0-9A-Fa-f]{2}/.test(v) && !/[^%0-9A-Za-z]/.test(v.replace(/%[0-9A-Fa-f]{2}/g, ''))) return false; // encoded
  if (isPlaceholder(v) || isCodeExpression(v) || isDateVersionOrNumber(v)) return false;
  if (/^[a-z][\w-]*\.(?:txt|json|ya?ml|env|pem|key|cfg|conf|ini)$/i.test(v)) return false; // a file name
  if (v.startsWith('/') || v.startsWith('./') || v.includes('://')) return false;
  // a digit or a symbol, beyond one trailing full stop / exclamation of prose
  return /[0-9]/.test(v) || /[^\p{L}\s.!?]/u.test(v.replace(/[.!?]$/, ''));
}

/** True when a token-family value looks like a real token. */
function tokenLike(v: string, strong: boolean): boolean {
  if (v.length < 12 || v.length > 300 || /\s/.test(v)) return false;
  if (!/[0-9]/.test(v) || !/[A-Za-z]/.test(v)) return false;
  if (/%[0-9A-Fa-f]{2}|\\/.test(v)) return false; // encoded: the decoded view judges it
  if (isPlaceholder(v) || isCodeExpression(v) || isDateVersionOrNumber(v)) return false;
  if (v.startsWith('/') || v.startsWith('./') || v.includes('://') || /^[\w.+-]+@[\w-]+\.[\w.]+$/.test(v))
    return false;
  if (!strong && (UUID.test(v) || HEX.test(v))) return false; // an id or a hash under a bare `key` / `auth`
  return shannonEntropy(v) >= (strong ? 3.2 : 3.5);
}

/** The secret of a GENERIC_REGEX match, or null when it is not one. */
export function genericSecret(m: RegExpExecArray, text: string): { text: string; start: number } | null {
  const value = valueAt(text, m.index + m[0].length);
  if (!value || value.text.length < 6) return null;
  const id = identifierAt(text, m.index, m[0]);
  if (ID_ALLOW.test(id)) return null;
  const op = m[0].trimEnd();
  if (op.endsWith(',') && !value.quoted) return null; // `f(password, x)`: an argument list, not a pair
  if (
    op.endsWith('>') &&
    !op.endsWith('=>') &&
    !/<[^>]*$/.test(text.slice(Math.max(0, m.index - 40), m.index + m[0].length))
  )
    return null; // `>` only as the end of an XML start tag
  const v = value.text;
  const isPassword = PASSWORD_ID.test(id);
  const ok = isPassword ? passwordLike(v) : tokenLike(v, STRONG_ID.test(id));
  return ok ? { text: v, start: value.start } : null;
}

/** A key that names a secret, anywhere in it (compiled once: pairs are checked for every key of every record). */
const WORD_ID = new RegExp(WORD, 'i');

/** For `key: value` pairs of parsed JSON: the same decision with the key as identifier. */
export function genericPairIsSecret(key: string, value: string): boolean {
  if (!WORD_ID.test(key) || ID_ALLOW.test(key)) return false;
  return PASSWORD_ID.test(key) ? passwordLike(value) : tokenLike(value, STRONG_ID.test(key));
}
