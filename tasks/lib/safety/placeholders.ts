/**
 * Values that stand for a secret without being one: template variables, masks, type names, code
 * expressions and documentation placeholders. Shared by the generic secret detectors (a
 * `password: ${DB_PASSWORD}` is configuration, not a leak) and the URL-credential checks. The
 * lists follow gitleaks' global allowlist and generic-api-key stopwords, secretlint's placeholder
 * checks and detect-secrets' KeywordDetector false-positive filters.
 */

/** Template and environment references: ${X}, {{ x }}, %X%, $X, $(x), <x>, [x], %(x)s, #{x}, @X@. */
const VARIABLE = [
  /\$\{[^}]{0,100}\}/,
  /\{\{[^}]{0,100}\}\}/,
  /^\{[\w.\s-]{0,50}\}$/,
  /^%[A-Za-z_][\w.]{0,50}%$/,
  /^\$[A-Za-z_][\w]{0,60}$/,
  /^\$\([^)]{0,100}\)$/,
  /^<[^<>]{0,80}>$/,
  /^\[[^[\]]{0,80}\]$/,
  /%\([\w.]{1,50}\)[sd]/,
  /^#\{[^}]{0,80}\}$/,
  /^@[A-Za-z_]{1,50}@$/,
  /^%[sdvq]$/,
];

/** Words whose presence marks a placeholder (lowercase). */
const STOPWORDS = [
  'example',
  'sample',
  'placeholder',
  'dummy',
  'changeme',
  'change_me',
  'changeit',
  'your_',
  'your-',
  'yourpassword',
  'yourtoken',
  'xxxxxx',
  '******',
  '••••',
  '000000',
  'aaaaaa',
  '123456',
  'abcdef',
  'redacted',
  'masked',
  'hidden',
  'removed',
  'secret_here',
  'token_here',
  'key_here',
  'password_here',
  'insert',
  'replace',
  'todo',
  'not_set',
  'notset',
  'undefined',
  'null',
];

/** Exact values that are type names, literals or the keyword itself (lowercase). */
const EXACT = new Set([
  'true',
  'false',
  'none',
  'null',
  'nil',
  'undefined',
  'str',
  'string',
  'int',
  'bool',
  'boolean',
  'number',
  'bytes',
  'any',
  'object',
  'optional',
  'required',
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'mypassword',
  'my_password',
  'pass',
  'pwd',
  'test',
  'testing',
  'admin',
  'root',
  'user',
  'username',
  'guest',
  'default',
  'empty',
  'n/a',
  'na',
  'tbd',
  '...',
]);

/** True when `v` is a placeholder, a template variable, a mask or a type name, not a secret. */
export function isPlaceholder(v: string): boolean {
  const t = v.trim();
  if (t === '') return true;
  const lower = t.toLowerCase();
  if (EXACT.has(lower)) return true;
  if (/^(.)\1{2,}$/.test(t)) return true; // "xxxx", "****", "...."
  if (/^[*•·.#x_-]+$/i.test(t)) return true; // masks
  if (VARIABLE.some((r) => r.test(t))) return true;
  return STOPWORDS.some((w) => lower.includes(w));
}

/**
 * True when `v` reads as code rather than a literal: a call, an attribute or index access, a
 * generic type (`os.environ["X"]`, `getpass()`, `self.password`, `Optional[str]`, `process.env.X`).
 */
export function isCodeExpression(v: string): boolean {
  const t = v.trim();
  if (/[()]/.test(t)) return true;
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(t) && !/\d/.test(t)) return true; // a.b.c without digits
  if (/^[A-Za-z_][\w.]*\[[^\]]*\]$/.test(t)) return true; // x["y"], Optional[str]
  if (/^(?:process\.env|os\.environ|env|ENV|secrets|vars|config|settings|self|this)\b/.test(t)) return true;
  return false;
}

/** Dates, times, versions and plain numbers: never a secret. */
export function isDateVersionOrNumber(v: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ||
    /^v?\d+(?:\.\d+){1,4}(?:[-+][\w.]{0,30})?$/.test(v) ||
    /^[+-]?\d+(?:\.\d+)?$/.test(v)
  );
}
