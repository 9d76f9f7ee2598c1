import { isInteger, isSafeNumber, parse as parseLossless } from 'lossless-json';
import type { BuildEvidenceReason, Reason } from '../phases/build-evidence/contract.ts';
import type { Drop as AnyDrop } from './result.ts';

type Drop = AnyDrop<BuildEvidenceReason>;

/**
 * Strict JSON row parsing. `JSON.parse` silently changes data (last duplicate key wins, big
 * integers round, 1e400 becomes Infinity, lone surrogates pass); lossless-json catches some of
 * these but is ~16x slower and recursive. So we pre-scan the text once (depth, key count, unsafe
 * integers), parse with `JSON.parse`, and walk the value once (key count, strings, numbers).
 */
export interface ParseLimits {
  maxDepth: number;
}

export type ParseOutcome =
  { ok: true; value: Record<string, unknown>; flags: string[] } | { ok: false; drop: Drop };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** More keys than this in one row (all levels) → TOO_MANY_KEYS. */
export const MAX_KEYS = 10_000;
/** More elements than this in one array → FIELD_TOO_LARGE. */
export const MAX_ARRAY_ITEMS = 100_000;
/** A string longer than this (UTF-16 units) → FIELD_TOO_LARGE. */
export const MAX_STRING_CHARS = 8 * 1024 * 1024;

// Accepted but flagged: text that renders differently from what it holds (RELIABILITY.md §5 #36, #37).
const SUSPECT_CHAR =
  /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff]/;
const TERMINAL = /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

interface ScanResult {
  keys: number;
  depth: number;
  unsafeInteger: string | null;
}

/** One pass over the text, outside and inside strings, without building anything. */
function scan(text: string, maxDepth: number): ScanResult | Drop {
  let depth = 0;
  let maxSeen = 0;
  let keys = 0;
  let unsafeInteger: string | null = null;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // skip the string; note whether a ':' follows (then it was a key)
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      let j = i + 1;
      while (j < n) {
        const w = text.charCodeAt(j);
        if (w === 0x20 || w === 0x09 || w === 0x0a || w === 0x0d) j++;
        else break;
      }
      if (text.charCodeAt(j) === 0x3a /* : */) keys++;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > maxSeen) {
        maxSeen = depth;
        if (depth > maxDepth) return { reason: 'TOO_DEEP', detail: `nesting deeper than ${maxDepth} levels` };
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      // a number token: integers with 16+ digits may exceed 2^53
      let j = i;
      if (text.charCodeAt(j) === 0x2d) j++;
      const start = j;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d >= 0x30 && d <= 0x39) j++;
        else break;
      }
      const intEnd = j;
      let isInteger = true;
      // consume the fraction and exponent too, so their digits are not read as another integer
      if (text.charCodeAt(j) === 0x2e) {
        isInteger = false;
        j++;
        while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      }
      const e = text.charCodeAt(j);
      if (e === 0x65 || e === 0x45) {
        isInteger = false;
        j++;
        const sign = text.charCodeAt(j);
        if (sign === 0x2b || sign === 0x2d) j++;
        while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      }
      if (isInteger && intEnd - start >= 16 && unsafeInteger === null) {
        const tok = text.slice(i, intEnd);
        if (!Number.isSafeInteger(Number(tok)) || BigInt(tok).toString() !== String(Number(tok)))
          unsafeInteger = tok;
      }
      i = j - 1;
    }
  }
  return { keys, depth: maxSeen, unsafeInteger };
}

interface WalkState {
  keys: number;
  flags: Set<string>;
  drop: Drop | null;
}

function walk(v: unknown, path: string, st: WalkState): void {
  if (st.drop) return;
  if (typeof v === 'string') {
    checkString(v, path, st);
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v))
      st.drop = { reason: 'NUMBER_OUT_OF_RANGE', detail: `number at ${path} is outside the double range` };
    else if (Object.is(v, -0)) st.flags.add('negative_zero');
  } else if (Array.isArray(v)) {
    if (v.length > MAX_ARRAY_ITEMS) {
      st.drop = {
        reason: 'FIELD_TOO_LARGE',
        detail: `array at ${path} has ${v.length} elements, over the limit of ${MAX_ARRAY_ITEMS}`,
      };
      return;
    }
    for (let i = 0; i < v.length; i++) {
      walk(v[i], `${path}[${i}]`, st);
      if (Object.is(v[i], -0)) v[i] = 0; // normalised (and flagged above)
    }
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      st.keys++;
      if (FORBIDDEN_KEYS.has(k)) {
        st.drop = {
          reason: 'FORBIDDEN_KEY',
          detail: `key "${k}" at ${path} is not allowed (prototype pollution)`,
        };
        return;
      }
      checkString(k, `${path} key`, st);
      walk(o[k], `${path}.${k}`, st);
      if (Object.is(o[k], -0)) o[k] = 0; // normalised (and flagged above)
    }
  }
}

function checkString(s: string, path: string, st: WalkState): void {
  if (st.drop) return;
  if (s.length > MAX_STRING_CHARS)
    st.drop = {
      reason: 'FIELD_TOO_LARGE',
      detail: `string at ${path} is ${s.length} characters, over the limit of ${MAX_STRING_CHARS}`,
    };
  else if (!s.isWellFormed())
    st.drop = { reason: 'LONE_SURROGATE', detail: `string at ${path} has a lone UTF-16 surrogate` };
  else if (s.includes('\u0000'))
    st.drop = { reason: 'NUL_IN_STRING', detail: `string at ${path} contains an escaped NUL (\\u0000)` };
  else if (SUSPECT_CHAR.test(s)) {
    if (BIDI.test(s)) st.flags.add('bidi_control');
    if (ZERO_WIDTH.test(s)) st.flags.add('zero_width_char');
    if (TERMINAL.test(s)) st.flags.add('terminal_control');
  }
}

/** Parses one row of JSON text into a plain object, or explains why it cannot be used. */
export function parseRow(text: string, limits: ParseLimits): ParseOutcome {
  const sc = scan(text, limits.maxDepth);
  if ('reason' in sc) return { ok: false, drop: sc };
  if (sc.keys > MAX_KEYS)
    return {
      ok: false,
      drop: { reason: 'TOO_MANY_KEYS', detail: `row has ${sc.keys} keys, over the limit of ${MAX_KEYS}` },
    };
  let value: unknown;
  const flags0: string[] = [];
  try {
    if (sc.unsafeInteger === null) value = JSON.parse(text);
    else {
      // Integers beyond 2^53 (API seeds, snowflake ids) would round under JSON.parse. We never
      // compute with such fields, so they are read exactly as their decimal strings (lossless-json,
      // only for these rows: it is much slower) and the row is flagged `big_integer_as_string`.
      value = parseLossless(text, null, (n: string) => (isInteger(n) && !isSafeNumber(n) ? n : Number(n)));
      flags0.push('big_integer_as_string');
    }
  } catch (e) {
    const msg = (e as Error).message;
    const trailing = /Unexpected non-whitespace character after JSON/.test(msg);
    if (/Duplicate key/i.test(msg))
      return {
        ok: false,
        drop: {
          reason: 'DUPLICATE_KEY',
          detail: `an object repeats a key (at ${where(text, errorPosition(text, msg))}); JSON.parse would keep only the last`,
        },
      };
    return {
      ok: false,
      drop: { reason: trailing ? 'JSON_TRAILING_DATA' : 'JSON_PARSE', detail: describeJsonError(text, msg) },
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return { ok: false, drop: { reason: 'NOT_AN_OBJECT', detail: `expected a JSON object, got ${kind}` } };
  }
  const st: WalkState = { keys: 0, flags: new Set(flags0), drop: null };
  walk(value, '$', st);
  if (st.drop) return { ok: false, drop: st.drop };
  if (st.keys !== sc.keys) {
    return {
      ok: false,
      drop: {
        reason: 'DUPLICATE_KEY',
        detail: `object has ${sc.keys - st.keys} duplicate key(s); JSON.parse would keep only the last`,
      },
    };
  }
  return { ok: true, value: value as Record<string, unknown>, flags: [...st.flags].sort() };
}

/**
 * An adapter's type drop on a row whose big integers were read as strings: when the field it
 * refuses is numeric (a count, an exit code) the cause is the integer beyond 2^53, so the drop says
 * UNSAFE_INTEGER (never rounded) rather than a type error the row's author cannot see.
 */
export function relabelBigInteger(d: AnyDrop<Reason>, rowFlags: readonly string[]): AnyDrop<Reason> {
  if (!rowFlags.includes('big_integer_as_string') || d.reason !== 'SCHEMA_TYPE') return d;
  if (!/expected number, received string/.test(d.detail)) return d;
  const path = d.detail.split(':')[0] ?? '$';
  return {
    reason: 'UNSAFE_INTEGER',
    detail: `integer at ${path} is beyond 2^53: read exactly as a string, it cannot fill this numeric field`,
  };
}

/**
 * A JSON syntax error described by kind, position and the class of character found there, never
 * by quoting the row: V8's messages copy the start of the text (`Unexpected token 'x', "{..."`),
 * which would put raw source bytes, secrets or terminal escape sequences into quarantine details.
 */
export function describeJsonError(text: string, v8Message: string): string {
  let kind: string;
  if (/^Unexpected token/.test(v8Message)) kind = 'unexpected character';
  else if (/^Unexpected end of JSON input/.test(v8Message)) kind = 'the text ends inside a value';
  else {
    kind = v8Message.replace(/ (in JSON )?at position \d+.*$/s, '');
    // V8's fixed messages quote only punctuation; anything else quoted could be source text
    const quoted = kind.replace(/'[{}[\],:]'/g, '');
    if (/["'\\]/.test(quoted) || kind.length > 80) kind = 'syntax error';
    kind = kind.charAt(0).toLowerCase() + kind.slice(1);
  }
  return `not valid JSON: ${kind}, at ${where(text, errorPosition(text, v8Message))}`;
}

/** 0-based character position of a parse error: from V8's message, else from lossless-json's, else null. */
function errorPosition(text: string, msg: string): number | null {
  const m = /at position (\d+)/.exec(msg);
  if (m) return Number(m[1]);
  if (/^Unexpected end of JSON input/.test(msg)) return text.length;
  try {
    parseLossless(text);
  } catch (e) {
    const l = /at position (\d+)/.exec((e as Error).message);
    if (l) {
      // lossless-json points at the start of the bad value; V8 names the character: the first one from there
      const tok = /^Unexpected token '(.)'/su.exec(msg)?.[1];
      const at = tok === undefined ? -1 : text.indexOf(tok, Number(l[1]));
      return at !== -1 ? at : Number(l[1]);
    }
  }
  return null;
}

/** `character 6 of 9 (a letter)`: where, and what class of character is there; never the character itself unless it is ASCII punctuation. */
function where(text: string, pos: number | null): string {
  if (pos === null) return `an unknown position of ${text.length} characters`;
  if (pos >= text.length) return `character ${pos} of ${text.length} (the end of the text)`;
  return `character ${pos} of ${text.length} (${charClass(text.codePointAt(pos) as number)})`;
}

/** A character's class in words; ASCII punctuation is named as itself (it cannot act on a terminal). */
export function charClass(c: number): string {
  const hex = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `control character ${hex}`;
  if (c === 0x20) return 'a space';
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return 'a letter';
  if (c >= 0x30 && c <= 0x39) return 'a digit';
  if (c < 0x7f) return `"${String.fromCharCode(c)}"`;
  if (c >= 0xd800 && c <= 0xdfff) return `lone surrogate ${hex}`;
  if (/[\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u.test(String.fromCodePoint(c)))
    return `invisible format character ${hex}`;
  return `non-ASCII character ${hex}`;
}
