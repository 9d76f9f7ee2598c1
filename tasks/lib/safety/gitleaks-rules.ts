import { GITLEAKS_TABLE } from './rules/gitleaks-table.ts';
import type { GitleaksRuleData, JsRegexData } from './rules/table-types.ts';
import { shannonEntropy, type SecretRule } from './secret-rule.ts';

/**
 * The gitleaks rule set as SecretRules, from the generated table (tasks/lib/safety/rules/, updated
 * by `npm run rules:update`), with gitleaks' own semantics: the secret is the rule's secretGroup or
 * the first capture group that matched; a secret at or below the rule's entropy is skipped, and so
 * is a `generic*` rule's secret without a digit; a rule allowlist skips a candidate when one of its
 * regexes matches its target (the secret, the whole match — here with the identifier before the
 * keyword that the converter stripped — or the line) or the secret holds one of its stopwords; the
 * global allowlist (placeholders such as `${VAR}`, `true`, paths) applies to every secret.
 */

const compile = (r: JsRegexData): RegExp => new RegExp(r.source, r.flags.replace('g', ''));

const GLOBAL_REGEXES = GITLEAKS_TABLE.global_allow.regexes.map(compile);
const GLOBAL_STOPWORDS = GITLEAKS_TABLE.global_allow.stopwords;

/** The `[\w.-]` run (up to 50) before `at`: the identifier gitleaks' stripped prefix would have matched. */
function identifierBefore(text: string, at: number): string {
  let i = at;
  while (i > 0 && at - i < 50 && /[\w.-]/.test(text[i - 1] as string)) i--;
  return text.slice(i, at);
}

/** The line of `text` around [start, end). */
function lineAround(text: string, start: number, end: number): string {
  const a = text.lastIndexOf('\n', start - 1) + 1;
  const b = text.indexOf('\n', end);
  return text.slice(a, b === -1 ? text.length : b);
}

/** True when the global allowlist lets `secret` through. */
export function globallyAllowed(secret: string): boolean {
  const lower = secret.toLowerCase();
  return GLOBAL_REGEXES.some((r) => r.test(secret)) || GLOBAL_STOPWORDS.some((w) => lower.includes(w));
}

function toRule(d: GitleaksRuleData, since: string): SecretRule {
  const allow = d.allow.map((a) => ({ ...a, res: a.regexes.map(compile) }));
  const generic = d.id.startsWith('generic');
  return {
    id: d.id,
    since,
    source: 'gitleaks',
    description: d.description,
    keywords: d.keywords,
    regex: new RegExp(d.js.source, d.js.flags),
    secret: (m) => {
      let g = d.secretGroup;
      if (g === undefined) for (let i = 1; i < m.length && g === undefined; i++) if (m[i]) g = i;
      const text = g === undefined ? m[0] : m[g];
      if (!text) return null;
      return { text, start: g === undefined ? m.index : m.index + m[0].indexOf(text) };
    },
    check: (secret, m, text) => {
      if (d.entropy !== undefined && shannonEntropy(secret) <= d.entropy) return false;
      if (generic && !/[0-9]/.test(secret)) return false;
      if (globallyAllowed(secret)) return false;
      const lower = secret.toLowerCase();
      for (const a of allow) {
        if (a.stopwords.some((w) => lower.includes(w))) return false;
        const target =
          a.target === 'secret'
            ? secret
            : a.target === 'match'
              ? identifierBefore(text, m.index) + m[0]
              : lineAround(text, m.index, m.index + m[0].length);
        if (a.res.some((r) => r.test(target))) return false;
      }
      return true;
    },
  };
}

/** Where the gitleaks rules came from, for the manifest, the docs and the tests. */
export const GITLEAKS_ORIGIN = GITLEAKS_TABLE.origin;
/** Rules of the table that could not be converted, and why. */
export const GITLEAKS_NOT_CONVERTED = GITLEAKS_TABLE.not_converted;
/** The raw table rows (examples, Go source), for the tests. */
export const GITLEAKS_RULE_DATA: readonly GitleaksRuleData[] = GITLEAKS_TABLE.rules;

/** Every converted gitleaks rule except those distill replaces (by id), in the table's order. */
export function gitleaksRules(since: string, replaced: ReadonlySet<string>): SecretRule[] {
  return GITLEAKS_TABLE.rules.filter((d) => !replaced.has(d.id)).map((d) => toRule(d, since));
}
