import { isUtf8 } from 'node:buffer';
import { decodeHTMLStrict } from 'entities';

/**
 * Decoded views of a string, so a secret or a personal-data item hidden behind an encoding is
 * still found — and redacted where it really is. Layers, every one a trace can hold:
 * - the flat view, in one pass with an offset map back to the raw string: Unicode NFKC per code
 *   point (fullwidth letters, ligatures, compatibility forms), removal of format characters
 *   (general category Cf: zero-width space / joiners, U+2060, soft hyphen, bidi marks) and other
 *   invisible fillers, HTML entities (named and numeric, decoded by the `entities` package, the
 *   decoder of htmlparser2), %XX percent-encoding (as UTF-8), and backslash escapes (`\u0040`,
 *   `\x41`, `\n`, `\"`), repeated while it changes (a JSON string encoded twice, an entity inside
 *   percent-encoding), at most MAX_FLAT_ROUNDS times;
 * - encoded blobs in a view: base64 (standard, URL-safe, wrapped over lines as MIME and PEM do)
 *   and hex runs that decode to printable text. A blob's text is a new string with its own views,
 *   nested up to MAX_DECODE_DEPTH levels (a token base64-encoded three times).
 * Everything is linear in the input and charged to the record's budget by the callers.
 */

/** A decoded view: its text and, per position of `text` (plus its end), the raw offset it came from. */
export interface View {
  text: string;
  map: Int32Array;
}

/** How often the flat layers are applied in a row (a value escaped or encoded three times). */
export const MAX_FLAT_ROUNDS = 3;
/** How deep encoded blobs are followed (base64 inside base64 inside base64). */
export const MAX_DECODE_DEPTH = 3;
/** Shortest base64 run worth decoding (a 15-byte payload). */
export const MIN_BASE64_RUN = 20;
/** Shortest hex run worth decoding (a 16-byte payload). */
export const MIN_HEX_RUN = 32;

/** Characters that make a string worth a flat view: non-ASCII, an entity, a percent escape or a backslash. */
const NEEDS_FLAT = /[^\x00-\x7f]|&(?:#|[A-Za-z]{2,31};)|%[0-9A-Fa-f]{2}|\\[uxnrt"'\\/]/;
/** Invisible characters: format controls (Cf), variation selectors, the combining grapheme joiner, Hangul fillers. */
const INVISIBLE = /^[\p{Cf}\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f]$/u;
const ENTITY = /&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/y;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/y;
const ESCAPE = /\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([nrtbf"'\\/]))/y;
const SPECIAL = /[^\x00-\x7f]|[&%\\]/g;
const SIMPLE: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };

/** One round of the flat layers over `s`, or null when nothing changes. */
function flatOnce(s: string): { text: string; map: number[] } | null {
  if (!NEEDS_FLAT.test(s)) return null;
  let out = '';
  const map: number[] = [];
  let changed = false;
  const emit = (t: string, at: number): void => {
    out += t;
    for (let k = 0; k < t.length; k++) map.push(at);
  };
  let i = 0;
  while (i < s.length) {
    // copy the plain run up to the next character a layer could start at
    SPECIAL.lastIndex = i;
    const next = SPECIAL.exec(s);
    const stop = next === null ? s.length : next.index;
    if (stop > i) {
      out += s.slice(i, stop);
      for (let k = i; k < stop; k++) map.push(k);
      i = stop;
      if (i >= s.length) break;
    }
    const c = s.charCodeAt(i);
    if (c === 38 /* & */) {
      ENTITY.lastIndex = i;
      const m = ENTITY.exec(s);
      if (m) {
        const d = decodeHTMLStrict(m[0]);
        if (d !== m[0]) {
          emit(d, i);
          i += m[0].length;
          changed = true;
          continue;
        }
      }
    } else if (c === 37 /* % */) {
      PERCENT_RUN.lastIndex = i;
      const m = PERCENT_RUN.exec(s);
      if (m) {
        let d: string | null = null;
        try {
          d = decodeURIComponent(m[0]);
        } catch {
          d = null; // not UTF-8: left as written
        }
        if (d !== null) {
          // map each decoded character to the escape it started at (3 raw characters per byte)
          const bytes = Buffer.from(d, 'utf8');
          let at = i;
          for (const ch of d) {
            emit(ch, at);
            at += 3 * Buffer.byteLength(ch, 'utf8');
          }
          i += bytes.length * 3;
          changed = true;
          continue;
        }
      }
    } else if (c === 92 /* \ */) {
      ESCAPE.lastIndex = i;
      const m = ESCAPE.exec(s);
      if (m) {
        let d: string;
        if (m[1] !== undefined) d = String.fromCodePoint(Math.min(parseInt(m[1], 16), 0x10ffff));
        else if (m[2] !== undefined) d = String.fromCharCode(parseInt(m[2], 16));
        else if (m[3] !== undefined) d = String.fromCharCode(parseInt(m[3], 16));
        else d = SIMPLE[m[4] as string] ?? (m[4] as string);
        emit(d, i);
        i += m[0].length;
        changed = true;
        continue;
      }
    } else if (c >= 0x80) {
      const cp = s.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      if (INVISIBLE.test(ch)) {
        i += ch.length;
        changed = true;
        continue;
      }
      const n = ch.normalize('NFKC');
      if (n !== ch) {
        emit(n, i);
        i += ch.length;
        changed = true;
        continue;
      }
      emit(ch, i);
      i += ch.length;
      continue;
    }
    out += s[i];
    map.push(i);
    i++;
  }
  if (!changed) return null;
  map.push(s.length);
  return { text: out, map };
}

/**
 * The flat view of `s` (every flat layer, repeated while it changes, at most MAX_FLAT_ROUNDS
 * times), or null when `s` has nothing to decode. `charge` is called with the length of each
 * round's input; a false return stops (the caller's budget ran out).
 */
export function flatView(s: string, charge: (n: number) => boolean = () => true): View | null {
  let text = s;
  let map: number[] | null = null;
  for (let round = 0; round < MAX_FLAT_ROUNDS; round++) {
    if (!charge(text.length)) break;
    const r = flatOnce(text);
    if (r === null) break;
    // compose: a position of the new text → a position of the previous text → the raw string
    map = map === null ? r.map : r.map.map((p) => (map as number[])[p] as number);
    text = r.text;
  }
  return map === null ? null : { text, map: Int32Array.from(map) };
}

/** The raw span [start, end) of a view span. */
export function rawSpan(v: View, start: number, end: number): [number, number] {
  return [v.map[start] as number, v.map[end] as number];
}

/**
 * Decoded text when at least 90% of the bytes are printable ASCII or whitespace or valid UTF-8
 * letters (and none is NUL); an image or other binary blob decodes to mostly non-text and is skipped.
 */
function printable(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  let good = 0;
  let control = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === 0) return null;
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13) good++;
    else if (c < 0x20 || c === 0x7f) control++;
  }
  if (good >= 0.9 * bytes.length) return bytes.toString('utf8');
  // random bytes (a run of base64-alphabet characters that is not base64 of text) hold ~12 %
  // control bytes; text in another script holds none: only then is UTF-8 decoding worth trying
  if (control > 0) return null;
  // checked first: the fatal decoder throws on malformed UTF-8, and most runs that get here (long
  // lowercase identifiers read as base64 decode to high bytes only) are malformed; a thrown
  // TypeError per run cost more than all the rest of this check (same result: isUtf8 accepts
  // exactly the well-formed UTF-8 the fatal decoder does)
  if (!isUtf8(bytes)) return null;
  try {
    const t = UTF8.decode(bytes);
    return /[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]/.test(t) ? null : t;
  } catch {
    return null;
  }
}

/** One strict decoder, reused (a fatal TextDecoder holds no state between whole-buffer calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** An encoded blob inside a string and its decoded text. */
export interface DecodedBlob {
  start: number;
  end: number;
  text: string;
  encoding: 'base64' | 'hex';
}

/** A run's decoded text: as hex when it is an even-length hex run that decodes to text, else as base64. */
function decodeRun(flat: string): { text: string | null; encoding: DecodedBlob['encoding'] } {
  if (flat.length >= MIN_HEX_RUN && flat.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(flat)) {
    const t = printable(Buffer.from(flat, 'hex'));
    if (t !== null) return { text: t, encoding: 'hex' };
  }
  const body = flat.replace(/=+$/, '');
  if (body.length < MIN_BASE64_RUN || body.length % 4 === 1) return { text: null, encoding: 'base64' };
  return {
    text: printable(Buffer.from(body, /[-_]/.test(body) ? 'base64url' : 'base64')),
    encoding: 'base64',
  };
}

/** Base64 / base64url / hex runs, a run optionally wrapped over lines (MIME 76, PEM 64 columns). */
const BLOB =
  /[A-Za-z0-9+/_-]{20,}={0,2}(?:\r?\n[ \t]{0,8}[A-Za-z0-9+/_][A-Za-z0-9+/_-]{3,}={0,2}){0,100000}/g;

/**
 * Base64 and hex runs that decode to printable text (a hex run of even length first, as hex;
 * otherwise as base64, URL-safe when it holds `-` or `_`). Calls `charge` with the length of each
 * run before decoding it; stops when it returns false.
 */
export function encodedBlobs(s: string, charge: (n: number) => boolean): DecodedBlob[] {
  const out: DecodedBlob[] = [];
  BLOB.lastIndex = 0;
  for (let m = BLOB.exec(s); m !== null; m = BLOB.exec(s)) {
    const whole = m[0];
    if (!charge(whole.length)) break;
    // a run over lines is base64 wrapped at one width (MIME 76, PEM 64; the last line may be
    // shorter) — or a blob followed by a line of text: the first line alone is tried too
    const lines = whole.includes('\n') ? whole.split(/\r?\n[ \t]*/) : [whole];
    const width = (lines[0] as string).length;
    const wrapped =
      lines.length > 1 &&
      width <= 128 &&
      lines.slice(1, -1).every((l) => l.length === width) &&
      (lines.at(-1) as string).length <= width;
    const tries = wrapped ? [lines.join(''), lines[0] as string] : [lines[0] as string];
    let text: string | null = null;
    let encoding: DecodedBlob['encoding'] = 'base64';
    let run = whole;
    for (const flat of tries) {
      ({ text, encoding } = decodeRun(flat));
      if (text !== null) {
        run = flat === lines[0] ? flat : whole;
        break;
      }
    }
    if (lines.length > 1 && run !== whole) BLOB.lastIndex = m.index + run.length;
    if (text !== null) out.push({ start: m.index, end: m.index + run.length, text, encoding });
    else if (lines.length > 1) BLOB.lastIndex = m.index + width;
  }
  return out;
}

/** True when a string could be a JSON object or array (cheap check before JSON.parse). */
export function looksLikeJson(s: string): boolean {
  const t = s.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}
