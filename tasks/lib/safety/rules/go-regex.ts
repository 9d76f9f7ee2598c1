/**
 * Converts a Go (RE2) regular expression, as written in gitleaks' rule set, to an equivalent
 * JavaScript RegExp source without the `u` flag. Node 20's V8 has no inline modifiers (`(?i)`,
 * `(?i:…)`, `(?-i:…)`, `(?s:…)`), so they are applied here: a case-insensitive region spells each
 * letter as `[xX]` and widens letter ranges of classes; `(?s)` turns `.` into `[\s\S]`. Other
 * differences handled: `\z` → `$` and `\A` → `^` (no `m` flag, so both anchor the whole text),
 * `(?P<name>` → `(?<name>`, POSIX classes (`[[:alnum:]]`), Go's ASCII-only `\s` (JS's also matches
 * Unicode spaces) and Go's `.` (JS's also stops at `\r`, U+2028, U+2029). Anything else RE2 has and
 * JS lacks (`\p{…}`, `\Q…\E`, `\C`, flags other than i / s) throws, so a rule is never converted
 * wrongly in silence: the update script reports it as not converted.
 */

/** A converted pattern: JS source and flags (always `g`, plus `i` when the whole pattern was `(?i)`). */
export interface JsPattern {
  source: string;
  flags: string;
}

const POSIX: Record<string, string> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: 'A-Za-z0-9_',
  xdigit: 'A-Fa-f0-9',
};

const GO_SPACE = '\\t\\n\\f\\r ';

interface Flags {
  i: boolean;
  s: boolean;
}

const isLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);
const other = (c: string): string => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

/** Parses `(?flags)` / `(?flags:` at `at` (pointing after `(?`): the new flags and where it ends. */
function parseFlags(src: string, at: number, cur: Flags): { flags: Flags; end: number; group: boolean } {
  const flags = { ...cur };
  let on = true;
  let j = at;
  for (; j < src.length; j++) {
    const c = src[j] as string;
    if (c === '-') on = false;
    else if (c === 'i') flags.i = on;
    else if (c === 's') flags.s = on;
    else if (c === ')' || c === ':') return { flags, end: j + 1, group: c === ':' };
    else throw new Error(`unsupported flag "${c}" at ${j}`);
  }
  throw new Error('unterminated flag group');
}

/** Converts a character class starting at `at` (`[`): the JS class text and where it ends. */
function convertClass(src: string, at: number, flags: Flags): { text: string; end: number } {
  let j = at + 1;
  let out = '[';
  if (src[j] === '^') {
    out += '^';
    j++;
  }
  let first = true;
  const items: string[] = [];
  while (j < src.length) {
    const c = src[j] as string;
    if (c === ']' && !first) break;
    first = false;
    if (c === '[' && src[j + 1] === ':') {
      const close = src.indexOf(':]', j + 2);
      if (close === -1) throw new Error(`unterminated POSIX class at ${j}`);
      const name = src.slice(j + 2, close);
      const neg = name.startsWith('^');
      const body = POSIX[neg ? name.slice(1) : name];
      if (body === undefined || neg) throw new Error(`unsupported POSIX class [:${name}:]`);
      items.push(body);
      j = close + 2;
      continue;
    }
    if (c === '\\') {
      const e = src[j + 1] as string;
      if (e === 's') items.push(GO_SPACE);
      // JS's \S inside a class also excludes Unicode spaces (Go's does not); the screen turns those
      // into ASCII spaces by NFKC before matching, so the difference never shows
      else if (e === 'S') items.push('\\S');
      else if (e === 'p' || e === 'P' || e === 'Q' || e === 'C')
        throw new Error(`unsupported escape \\${e} in a class`);
      else if (e === 'x' && src[j + 2] === '{') throw new Error('unsupported \\x{…} escape');
      else {
        const lit = `\\${e}`;
        // a range whose ends are escapes (\x00-\x1F) stays as written
        items.push(lit);
      }
      j += 2;
      continue;
    }
    if (src[j + 1] === '-' && src[j + 2] !== undefined && src[j + 2] !== ']') {
      const lo = c;
      const hi = src[j + 2] as string;
      items.push(`${lo}-${hi}`);
      if (flags.i && isLetter(lo) && isLetter(hi) && (lo === lo.toLowerCase()) === (hi === hi.toLowerCase()))
        items.push(`${other(lo)}-${other(hi)}`);
      j += 3;
      continue;
    }
    items.push(c === '[' ? '\\[' : c);
    if (flags.i && isLetter(c)) items.push(other(c));
    j++;
  }
  if (src[j] !== ']') throw new Error(`unterminated class at ${at}`);
  out += items.join('') + ']';
  return { text: out, end: j + 1 };
}

/** The identifier prefix gitleaks puts before keywords; it only moves where a match starts. */
export const IDENTIFIER_PREFIX = String.raw`[\w.-]{0,50}?`;

/**
 * Converts a Go pattern. `stripPrefix` removes gitleaks' lazy identifier prefix `[\w.-]{0,50}?`
 * (it can match the empty string and holds no capture, so the same secrets are found; matching
 * starts at the keyword instead of trying 50 characters before every position).
 */
export function goRegexToJs(goSource: string, stripPrefix = true): JsPattern {
  let src = stripPrefix ? goSource.split(IDENTIFIER_PREFIX).join('') : goSource;
  // a leading (?i) with no later flag change is the JS `i` flag (faster than spelled-out classes)
  const lead = /^\(\?i\)/.exec(src);
  if (lead && !/\(\?-?[is]+[:)]|\(\?i:/.test(src.slice(lead[0].length))) {
    src = src.slice(lead[0].length);
    return { source: convert(src, { i: false, s: false }), flags: 'gi' };
  }
  return { source: convert(src, { i: false, s: false }), flags: 'g' };
}

function convert(src: string, start: Flags): string {
  const stack: Flags[] = [{ ...start }];
  let out = '';
  let j = 0;
  const top = (): Flags => stack[stack.length - 1] as Flags;
  while (j < src.length) {
    const c = src[j] as string;
    const flags = top();
    if (c === '\\') {
      const e = src[j + 1];
      if (e === undefined) throw new Error('trailing backslash');
      if (e === 'z') out += '$';
      else if (e === 'A') out += '^';
      else if (e === 's') out += `[${GO_SPACE}]`;
      else if (e === 'S') out += `[^${GO_SPACE}]`;
      else if (e === 'p' || e === 'P' || e === 'Q' || e === 'C') throw new Error(`unsupported escape \\${e}`);
      else if (e === 'x' && src[j + 2] === '{') throw new Error('unsupported \\x{…} escape');
      else if (flags.i && isLetter(e) && !/[dDwWbBnrtfvx0]/.test(e)) throw new Error(`unknown escape \\${e}`);
      else out += `\\${e}`;
      j += 2;
      continue;
    }
    if (c === '[') {
      const cls = convertClass(src, j, flags);
      out += cls.text;
      j = cls.end;
      continue;
    }
    if (c === '(') {
      if (src[j + 1] !== '?') {
        stack.push({ ...flags });
        out += '(';
        j++;
        continue;
      }
      const n = src[j + 2];
      if (n === ':') {
        stack.push({ ...flags });
        out += '(?:';
        j += 3;
      } else if (
        (n === 'P' && src[j + 3] === '<') ||
        (n === '<' && src[j + 3] !== '=' && src[j + 3] !== '!')
      ) {
        const from = src.indexOf('<', j);
        const close = src.indexOf('>', from);
        if (close === -1) throw new Error(`unterminated group name at ${j}`);
        stack.push({ ...flags });
        out += `(?<${src.slice(from + 1, close)}>`; // the name verbatim
        j = close + 1;
      } else if (n === '=' || n === '!' || n === '<') {
        throw new Error('lookaround is not RE2');
      } else {
        const f = parseFlags(src, j + 2, flags);
        if (f.group) {
          stack.push(f.flags);
          out += '(?:';
        } else stack[stack.length - 1] = f.flags; // (?i) changes the rest of the enclosing group
        j = f.end;
      }
      continue;
    }
    if (c === ')') {
      if (stack.length === 1) throw new Error(`unbalanced ) at ${j}`);
      stack.pop();
      out += ')';
      j++;
      continue;
    }
    if (c === '.') {
      out += flags.s ? '[\\s\\S]' : '[^\\n]';
      j++;
      continue;
    }
    if (flags.i && isLetter(c)) {
      out += `[${c}${other(c)}]`;
      j++;
      continue;
    }
    out += c;
    j++;
  }
  if (stack.length !== 1) throw new Error('unbalanced (');
  return out;
}
