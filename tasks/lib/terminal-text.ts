/**
 * Text from outside (file names, source bytes, parser messages) on its way to a terminal or a
 * report: control characters, escape sequences and invisible direction marks are written out
 * JSON-style (`\u001b`), so they show as text and a terminal never acts on them.
 */
// C0 controls (but tab), DEL, C1 controls, bidi overrides/isolates, line/paragraph separators
// eslint-disable-next-line no-control-regex
const UNSAFE =
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One character as `\uXXXX`. */
const escaped = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `s` with every unsafe character written as `\uXXXX` (a backslash itself stays as it is). */
export function safeText(s: string): string {
  return s.replace(UNSAFE, escaped);
}

// the same set without the line feed: for whole messages whose lines are ours
// eslint-disable-next-line no-control-regex
const UNSAFE_BUT_NEWLINE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A multi-line message with every unsafe character but the line feed escaped: the logger's
 * backstop, so a piece of source text that reached a message unescaped still cannot drive the
 * terminal (already escaped text passes unchanged).
 */
export function safeLines(s: string): string {
  return s.replace(UNSAFE_BUT_NEWLINE, escaped);
}

/**
 * JSON text (from JSON.stringify) with the characters JSON.stringify leaves raw but a terminal may
 * act on (DEL, C1 controls, bidi marks, U+2028/9) escaped too; still the same JSON value.
 */
export function safeJson(json: string): string {
  // eslint-disable-next-line no-control-regex
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, escaped);
}
