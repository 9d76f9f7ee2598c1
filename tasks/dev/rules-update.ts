/**
 * Regenerates the secret rule table from gitleaks' rule set (MIT licensed), offline:
 *
 *   npm run rules:update -- path/to/gitleaks.toml --commit <sha> --version <tag> [--examples path/to/cmd/generate/config/rules]
 *
 * Reads `config/gitleaks.toml` of a gitleaks checkout, converts every rule's Go regex to JavaScript
 * (tasks/lib/safety/rules/go-regex.ts), checks that each compiles, and writes
 * tasks/lib/safety/rules/gitleaks-table.ts: the rules as data with their origin, licence, commit
 * and the sha256 of the file read, the rules that could not be converted and why, and — with
 * `--examples` — the literal true / false positive examples of gitleaks' Go rule sources, which
 * test/safety/gitleaks-rules.test.ts replays. Nothing is fetched: the build and the tests only
 * read the generated file. After running it: bump SECRET_RULES_VERSION in secret-rules.ts,
 * `npm run format`, and the tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { sha256 } from '../lib/hash.ts';
import { goRegexToJs } from '../lib/safety/rules/go-regex.ts';
import type { GitleaksRuleData, GitleaksTable } from '../lib/safety/rules/table-types.ts';

const OUT = new URL('../lib/safety/rules/gitleaks-table.ts', import.meta.url);

interface TomlAllow {
  regexes?: string[];
  stopwords?: string[];
  regexTarget?: string;
  paths?: string[];
  condition?: string;
}
interface TomlRule {
  id: string;
  description: string;
  regex?: string;
  path?: string;
  entropy?: number;
  keywords?: string[];
  secretGroup?: number;
  allowlists?: TomlAllow[];
}

/** The text from `from` up to the bracket that closes the one opened just before it (Go strings and comments skipped). */
function balanced(src: string, from: number): string {
  let depth = 1;
  let i = from;
  while (i < src.length && depth > 0) {
    const c = src[i] as string;
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"' && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
    } else if (c === '`') i = src.indexOf('`', i + 1);
    else if (c === '/' && src[i + 1] === '/') i = src.indexOf('\n', i) - 1;
    else if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
    if (i < 0) break;
    i++;
  }
  return src.slice(from, i - 1);
}

/** Go string literals standing alone as slice elements, and literal secrets given to GenerateSampleSecret(s). */
export function goExamples(src: string): Map<string, { tps: string[]; fps: string[] }> {
  const out = new Map<string, { tps: string[]; fps: string[] }>();
  const lit = String.raw`(\x60[^\x60]*\x60|"(?:[^"\\\n]|\\.)*")`;
  const decode = (s: string): string | null => {
    if (s.startsWith('`')) return s.slice(1, -1);
    try {
      return JSON.parse(s) as string;
    } catch {
      return null; // a Go escape JSON does not have (\x, \a): skipped
    }
  };
  for (const fn of src.split(/\nfunc /)) {
    const id = /RuleID:\s*"([^"]+)"/.exec(fn)?.[1];
    if (!id) continue;
    const ex = out.get(id) ?? { tps: [], fps: [] };
    for (const kind of ['tps', 'fps'] as const) {
      const openRe = new RegExp(String.raw`\b${kind}\s*(?::?=\s*\[\]string\{|=\s*append\(${kind},)`, 'g');
      for (let b = openRe.exec(fn); b !== null; b = openRe.exec(fn)) {
        for (const line of balanced(fn, b.index + b[0].length).split('\n')) {
          const m = new RegExp(String.raw`^\s*${lit},?\s*(?://.*)?$`).exec(line);
          const v = m?.[1] === undefined ? null : decode(m[1]);
          if (v !== null && v !== '') ex[kind].push(v);
        }
      }
    }
    // utils.GenerateSampleSecret(id, s) writes `<id>_api_token = "<s>"`; GenerateSampleSecrets(id, s)
    // writes several config shapes, of which the YAML `<id>_token: <s>` is replayed
    const genRe = new RegExp(String.raw`GenerateSampleSecret(s?)\(\s*"([^"]*)",\s*${lit}\s*\)`, 'g');
    for (let g = genRe.exec(fn); g !== null; g = genRe.exec(fn)) {
      const secret = decode(g[3] as string);
      if (secret) ex.tps.push(g[1] ? `${g[2]}_token: ${secret}` : `${g[2]}_api_token = "${secret}"`);
    }
    if (ex.tps.length || ex.fps.length) out.set(id, ex);
  }
  return out;
}

/** gitleaks' end of a secret: a quote, whitespace, `;`, an escaped newline or the end of the text. */
const SECRET_SUFFIX = String.raw`(?:[\x60'"\s;]|\\[nr]|$)`;
/** … widened for prefixed tokens (`\b(` + a fixed prefix): prose puts `.`, `,`, `)` or `<` after a token. */
const PROSE_SUFFIX = String.raw`(?:[\x60'"\s;,:)\]}>|&<]|\.(?:\s|$)|\\[nr]|$)`;

/**
 * A unique-token rule (`\b(prefix…)` + the secret suffix) gets the prose suffix: the token's own
 * prefix makes it specific; the suffix only says where it ends. Semi-generic rules (a keyword, an
 * operator, then a bare value) keep gitleaks' strict end.
 */
export function uniqueTokenEnd(go: string): string {
  return /^(?:\(\?i\))?\\b\(/.test(go) && go.endsWith(SECRET_SUFFIX)
    ? go.slice(0, -SECRET_SUFFIX.length) + PROSE_SUFFIX
    : go;
}

function args(argv: string[]): { toml: string; commit: string; version: string; examples: string | null } {
  const get = (name: string): string | null => {
    const i = argv.indexOf(name);
    return i === -1 ? null : (argv[i + 1] ?? null);
  };
  const toml = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  const commit = get('--commit');
  const version = get('--version');
  if (!toml || !commit || !version)
    throw new Error(
      'usage: npm run rules:update -- path/to/gitleaks.toml --commit <sha> --version <tag> [--examples path/to/cmd/generate/config/rules]',
    );
  return { toml, commit, version, examples: get('--examples') };
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const text = readFileSync(a.toml, 'utf8');
  const doc = parse(text) as unknown as {
    allowlist?: TomlAllow;
    rules: TomlRule[];
  };
  const examples = new Map<string, { tps: string[]; fps: string[] }>();
  if (a.examples)
    for (const f of readdirSync(a.examples)
      .filter((x) => x.endsWith('.go'))
      .sort())
      for (const [id, ex] of goExamples(readFileSync(join(a.examples, f), 'utf8'))) examples.set(id, ex);
  const rules: GitleaksRuleData[] = [];
  const notConverted: { id: string; why: string }[] = [];
  const convertAllow = (al: TomlAllow): GitleaksRuleData['allow'][number] | string => {
    if (
      al.paths &&
      al.paths.length > 0 &&
      (al.condition === 'AND' || !al.regexes?.length) &&
      !al.stopwords?.length
    )
      return 'path allowlist (traces have no file paths)';
    return {
      target: (al.regexTarget ?? 'secret') as 'secret' | 'match' | 'line',
      regexes: (al.regexes ?? []).map((r) => goRegexToJs(r, false)),
      stopwords: (al.stopwords ?? []).map((w) => w.toLowerCase()),
    };
  };
  for (const r of doc.rules) {
    if (!r.regex) {
      notConverted.push({
        id: r.id,
        why: `matches file paths only (${r.path ?? 'no regex'}); traces have no files`,
      });
      continue;
    }
    try {
      const js = goRegexToJs(uniqueTokenEnd(r.regex));
      new RegExp(js.source, js.flags); // compiles
      const allow: GitleaksRuleData['allow'] = [];
      for (const al of r.allowlists ?? []) {
        const c = convertAllow(al);
        if (typeof c !== 'string') {
          for (const x of c.regexes) new RegExp(x.source, x.flags);
          allow.push(c);
        }
      }
      rules.push({
        id: r.id,
        description: r.description,
        keywords: (r.keywords ?? []).map((k) => k.toLowerCase()),
        ...(r.entropy !== undefined ? { entropy: r.entropy } : {}),
        ...(r.secretGroup !== undefined ? { secretGroup: r.secretGroup } : {}),
        go: r.regex,
        js,
        allow,
        examples: examples.get(r.id) ?? { tps: [], fps: [] },
      });
    } catch (e) {
      notConverted.push({ id: r.id, why: `regex not convertible: ${(e as Error).message}` });
    }
  }
  const global = doc.allowlist ?? {};
  const table: GitleaksTable = {
    origin: {
      repository: 'https://github.com/gitleaks/gitleaks',
      file: 'config/gitleaks.toml',
      commit: a.commit,
      version: a.version,
      licence: 'MIT License, Copyright (c) 2019 Zachary Rice',
      sha256: sha256(text),
    },
    global_allow: {
      regexes: (global.regexes ?? []).map((r) => goRegexToJs(r, false)),
      stopwords: (global.stopwords ?? []).map((w) => w.toLowerCase()),
    },
    rules,
    not_converted: notConverted,
  };
  const body = [
    '/**',
    ' * GENERATED by `npm run rules:update` (tasks/dev/rules-update.ts) from gitleaks config/gitleaks.toml:',
    ' * do not edit by hand. Origin, licence and commit are in `origin`; attribution: gitleaks,',
    ' * MIT License, Copyright (c) 2019 Zachary Rice.',
    ' */',
    "import type { GitleaksTable } from './table-types.ts';",
    '',
    `export const GITLEAKS_TABLE: GitleaksTable = ${JSON.stringify(table, null, 2)};`,
    '',
  ].join('\n');
  await writeFileAtomic(OUT.pathname, body);
  process.stdout.write(
    `wrote ${OUT.pathname}: ${rules.length} rules converted, ${notConverted.length} not (${notConverted.map((x) => x.id).join(', ')}); ${[...examples.values()].reduce((s, e) => s + e.tps.length + e.fps.length, 0)} examples\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
