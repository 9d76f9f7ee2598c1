/**
 * The shape of the generated gitleaks rule table (tasks/lib/safety/rules/gitleaks-table.ts, written
 * by `npm run rules:update`). Kept apart from the data so the generator and the loader share it.
 */

/** A regex converted from Go to JavaScript. */
export interface JsRegexData {
  source: string;
  flags: string;
}

/** One converted rule. */
export interface GitleaksRuleData {
  id: string;
  description: string;
  /** Lowercase literals: the regex runs only on text holding one of them. */
  keywords: string[];
  /** Minimum Shannon entropy of the secret (a secret at or below it is skipped, as gitleaks does). */
  entropy?: number;
  /** Capture group that is the secret (default: the first group that matched, else the match). */
  secretGroup?: number;
  /** The upstream Go regex, verbatim. */
  go: string;
  js: JsRegexData;
  /** Rule allowlists: a candidate is not a secret when any regex of one matches its target, or the secret holds a stopword. */
  allow: { target: 'secret' | 'match' | 'line'; regexes: JsRegexData[]; stopwords: string[] }[];
  /** Literal examples from gitleaks' Go rule sources: tps must be found, fps must not. */
  examples: { tps: string[]; fps: string[] };
}

/** The whole generated table. */
export interface GitleaksTable {
  origin: {
    repository: string;
    file: string;
    commit: string;
    version: string;
    licence: string;
    /** sha256 of the gitleaks.toml the table was generated from. */
    sha256: string;
  };
  /** The global allowlist (applies to every rule's secret). */
  global_allow: { regexes: JsRegexData[]; stopwords: string[] };
  rules: GitleaksRuleData[];
  /** Rules left out, and why. */
  not_converted: { id: string; why: string }[];
}
