import { isAddressKey, fieldType, fieldValueIsData, type FieldContext } from './pii-fields.ts';
import { isCardNumber } from './pii-numbers.ts';
import { placeholder, type PiiType } from './pii-types.ts';

/**
 * Redaction inside JSON text (tool arguments and results) that keeps it valid JSON with every byte
 * it does not change: the text is walked token by token; each string literal is decoded
 * (JSON.parse of the literal), redacted as a decoded value — so `\n@decorator` is a newline and a
 * decorator, not an e-mail, and `alice\u0040example.com` is an e-mail — and, only when that
 * changed it, re-encoded with JSON.stringify in place. Field-aware: a value under a key that names
 * personal data (pii-fields.ts) becomes its placeholder whole; a number under such a key, or a
 * number that is a payment card, becomes the placeholder as a JSON string. Keys, numbers and
 * everything else keep their exact bytes (big integers are never re-printed).
 */

/** What redacting a decoded string value gives (the caller's free-text redaction, nested JSON included). */
export type RedactValue = (value: string) => string;

type Frame =
  | {
      kind: 'obj';
      value: Record<string, unknown> | null;
      key: string | null;
      expectKey: boolean;
      inAddress: boolean;
      parentKey: string | null;
    }
  | { kind: 'arr'; value: unknown[] | null; index: number; inAddress: boolean; parentKey: string | null };

/** The end (exclusive) of the string literal starting at `i` (a `"`). */
function stringEnd(s: string, i: number): number {
  let j = i + 1;
  while (j < s.length && s.charCodeAt(j) !== 34) j += s.charCodeAt(j) === 92 ? 2 : 1;
  return j + 1;
}

/**
 * Redacts JSON text `s` (already known to parse as `parsed`); `count` is told each placeholder
 * put in by field or card. Returns the new text (the same string when nothing changed).
 */
export function redactJsonText(
  s: string,
  parsed: unknown,
  redact: RedactValue,
  count: (t: PiiType) => void,
): string {
  const stack: Frame[] = [];
  let out = '';
  let at = 0;
  const ctxOf = (): FieldContext | null => {
    const f = stack[stack.length - 1];
    if (!f) return null;
    if (f.kind === 'obj') {
      if (f.key === null) return null;
      return {
        key: f.key,
        parentKey: f.parentKey,
        siblings: f.value ? Object.keys(f.value) : [],
        inAddress: f.inAddress,
      };
    }
    return f.parentKey === null
      ? null
      : { key: f.parentKey, parentKey: null, siblings: [], inAddress: f.inAddress };
  };
  const childOf = (f: Frame | undefined): unknown => {
    if (!f) return parsed;
    if (f.kind === 'obj') return f.value && f.key !== null ? f.value[f.key] : null;
    return f.value ? f.value[f.index] : null;
  };
  const afterValue = (): void => {
    const f = stack[stack.length - 1];
    if (f?.kind === 'obj') {
      f.expectKey = true;
    } else if (f?.kind === 'arr') f.index++;
  };
  const replace = (start: number, end: number, text: string): void => {
    out += s.slice(at, start) + text;
    at = end;
  };
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 123 /* { */ || c === 91 /* [ */) {
      const parent = stack[stack.length - 1];
      const v = childOf(parent);
      const key = parent?.kind === 'obj' ? parent.key : parent?.kind === 'arr' ? parent.parentKey : null;
      const inAddress = (parent?.inAddress ?? false) || (key !== null && isAddressKey(key));
      stack.push(
        c === 123
          ? {
              kind: 'obj',
              value:
                v !== null && typeof v === 'object' && !Array.isArray(v)
                  ? (v as Record<string, unknown>)
                  : null,
              key: null,
              expectKey: true,
              inAddress,
              parentKey: key,
            }
          : { kind: 'arr', value: Array.isArray(v) ? v : null, index: 0, inAddress, parentKey: key },
      );
      i++;
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
      afterValue();
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      const end = stringEnd(s, i);
      const f = stack[stack.length - 1];
      const literal = s.slice(i, end);
      if (f?.kind === 'obj' && f.expectKey) {
        f.key = JSON.parse(literal) as string;
        f.expectKey = false;
        i = end;
        continue;
      }
      const value = JSON.parse(literal) as string;
      const ctx = ctxOf();
      const t = ctx ? fieldType(ctx) : null;
      let next: string;
      if (t !== null && fieldValueIsData(t, value)) {
        next = placeholder(t);
        count(t);
      } else next = redact(value);
      if (next !== value) replace(i, end, JSON.stringify(next));
      afterValue();
      i = end;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let end = i + 1;
      while (end < s.length && /[0-9eE.+-]/.test(s[end] as string)) end++;
      const num = s.slice(i, end);
      const ctx = ctxOf();
      const t = ctx ? fieldType(ctx) : null;
      let type: PiiType | null = null;
      if (t !== null && t !== 'PERSON' && fieldValueIsData(t, num)) type = t;
      else if (/^\d{13,19}$/.test(num) && isCardNumber(num)) type = 'CREDIT_CARD';
      if (type !== null) {
        replace(i, end, JSON.stringify(placeholder(type)));
        count(type);
      }
      afterValue();
      i = end;
      continue;
    }
    if (c === 116 || c === 102 || c === 110) {
      // true / false / null
      let end = i;
      while (end < s.length && /[a-z]/.test(s[end] as string)) end++;
      afterValue();
      i = end;
      continue;
    }
    i++; // whitespace, `,` and `:`
  }
  return at === 0 ? s : out + s.slice(at);
}
