import ipaddr from 'ipaddr.js';
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import validator from 'validator';
import type { Budget } from './budget.ts';

/**
 * PII detection and typed-placeholder redaction (Presidio's `replace` operator). Candidates are found
 * by linear hand-written scanners or regexes with bounded quantifiers that start at a fixed shape,
 * then validated: e-mail by validator.isEmail, phone numbers by libphonenumber-js (valid for their
 * region, default US), card numbers by Luhn + issuer prefix (validator.isCreditCard), IBANs by
 * mod-97 (ibantools), IP addresses by ipaddr.js, keeping private, loopback, link-local and reserved
 * (documentation) ranges: only public unicast addresses are PII.
 */

/** The PII types, each replaced by `<TYPE>`. */
export const PII_TYPES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IBAN_CODE', 'IP_ADDRESS'] as const;
export type PiiType = (typeof PII_TYPES)[number];

/** A PII span in a string. */
export interface PiiSpan {
  type: PiiType;
  start: number;
  end: number;
}

/** The placeholder text for a type. */
export const placeholder = (t: PiiType): string => `<${t}>`;

/** A record is PII_DENSE when it has at least this many spans … */
export const DENSE_MIN_SPANS = 5;
/** … and at least this many spans per 1,000 characters of scanned text. */
export const DENSE_PER_1K = 10;

/** Local parts that address a service, not a person (`git@github.com`). */
const SERVICE_LOCALS = new Set(['git', 'noreply', 'no-reply']);

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isWordChar = (c: number): boolean =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isLocalChar = (c: number): boolean => isWordChar(c) || c === 46 || c === 37 || c === 43 || c === 45; // . % + -
const isDomainChar = (c: number): boolean =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45;

/** E-mail addresses: expand around each `@` (local ≤ 64, domain ≤ 253 characters), then validate. */
function emails(s: string, out: PiiSpan[]): void {
  let from = 0;
  for (let at = s.indexOf('@', from); at !== -1; at = s.indexOf('@', from)) {
    from = at + 1;
    let a = at;
    while (a > 0 && at - a < 64 && isLocalChar(s.charCodeAt(a - 1))) a--;
    while (a < at && s.charCodeAt(a) === 46) a++; // no leading dot
    let b = at + 1;
    while (b < s.length && b - at <= 253 && isDomainChar(s.charCodeAt(b))) b++;
    while (b > at + 1 && (s.charCodeAt(b - 1) === 46 || s.charCodeAt(b - 1) === 45)) b--; // no trailing dot / hyphen
    if (a === at || b === at + 1) continue;
    const local = s.slice(a, at);
    if (SERVICE_LOCALS.has(local.toLowerCase())) continue;
    const cand = s.slice(a, b);
    if (!/\.[A-Za-z]{2,}$/.test(cand)) continue;
    if (validator.isEmail(cand)) {
      out.push({ type: 'EMAIL_ADDRESS', start: a, end: b });
      from = b;
    }
  }
}

/**
 * Digit groups separated by single spaces, dots, dashes or parentheses, starting with a digit,
 * `+` or `(`: [start, end, digitCount]. A run inside a word, or longer than `maxChars`, is skipped
 * whole, so a 100k-digit run costs one pass.
 */
function digitRuns(
  s: string,
  maxChars: number,
  visit: (start: number, end: number, digits: number) => void,
): void {
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (!(isDigit(c) || c === 43 || c === 40)) {
      i++;
      continue;
    }
    const start = i;
    let digits = 0;
    let j = i;
    let prevSep = false;
    while (j < n) {
      const d = s.charCodeAt(j);
      if (isDigit(d)) {
        digits++;
        prevSep = false;
      } else if (d === 32 || d === 45 || d === 46 || d === 40 || d === 41 || (d === 43 && j === start)) {
        if (prevSep && !(d === 32 && s.charCodeAt(j - 1) === 41) && !(d === 40 && s.charCodeAt(j - 1) === 32))
          break; // one separator (or ") " / " (")
        prevSep = true;
      } else break;
      j++;
    }
    let end = j;
    while (end > start && !isDigit(s.charCodeAt(end - 1)) && s.charCodeAt(end - 1) !== 41) end--;
    const before = start > 0 ? s.charCodeAt(start - 1) : 32;
    const after = end < n ? s.charCodeAt(end) : 32;
    const embedded =
      isWordChar(before) ||
      isWordChar(after) ||
      before === 46 ||
      (after === 46 && end + 1 < n && isDigit(s.charCodeAt(end + 1)));
    if (!embedded && end - start <= maxChars && digits > 0) visit(start, end, digits);
    i = Math.max(j, start + 1);
  }
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Card numbers: 13–19 digits in groups separated by single spaces or dashes, Luhn-valid, known issuer. */
function cards(s: string, out: PiiSpan[]): void {
  digitRuns(s, 23, (start, end, count) => {
    if (count < 13 || count > 19) return;
    const text = s.slice(start, end);
    if (!/^\d+(?:[ -]\d+)*$/.test(text)) return;
    const digits = text.replace(/[ -]/g, '');
    if (luhn(digits) && validator.isCreditCard(digits)) out.push({ type: 'CREDIT_CARD', start, end });
  });
}

/** Phone numbers: 7–15 digits (or a leading +), valid for their region by libphonenumber (default US). */
function phones(s: string, out: PiiSpan[]): void {
  digitRuns(s, 25, (start, end, count) => {
    if (count < 7 || count > 15) return;
    const text = s.slice(start, end);
    if (!text.startsWith('+') && count < 10) return; // a national number needs its area code
    if (/^\d{4}-\d{2}-\d{2}/.test(text) || /^\d+\.\d+$/.test(text)) return; // dates, decimals
    const p = parsePhoneNumberFromString(text, 'US');
    if (p?.isValid()) out.push({ type: 'PHONE_NUMBER', start, end });
  });
}

/** IBANs: country code, check digits, 11–30 alphanumerics (optionally in groups of 4), mod-97 valid. */
function ibans(s: string, out: PiiSpan[]): void {
  const re = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const iban = electronicFormatIBAN(m[0]);
    if (iban && isValidIBAN(iban))
      out.push({ type: 'IBAN_CODE', start: m.index, end: m.index + m[0].length });
  }
}

/** Public IPv4 / IPv6 addresses (unicast range only; version-like dotted numbers are skipped; IPv6 only in 2000::/3). */
function ips(s: string, out: PiiSpan[]): void {
  const v4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d|\w)/g;
  for (let m = v4.exec(s); m !== null; m = v4.exec(s)) {
    if (/(?:version|release|build|v)\s*[:=]?\s*$/i.test(s.slice(Math.max(0, m.index - 12), m.index)))
      continue; // "version 1.2.3.4"
    if (ipaddr.IPv4.isValidFourPartDecimal(m[0]) && ipaddr.IPv4.parse(m[0]).range() === 'unicast')
      out.push({ type: 'IP_ADDRESS', start: m.index, end: m.index + m[0].length });
  }
  if (!s.includes(':')) return;
  const v6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g;
  for (let m = v6.exec(s); m !== null; m = v6.exec(s)) {
    const a = m[0];
    if (m[0].length === 0) {
      v6.lastIndex++;
      continue;
    }
    if (!a.includes('::') && a.split(':').length !== 8) continue;
    // global unicast is 2000::/3: a full first group 2xxx / 3xxx, and at least three groups
    // (Python slices such as `arr[3::6]` and C++ `a::b` are not addresses)
    if (
      !/^[23][0-9A-Fa-f]{3}:/.test(a) ||
      a.split(':').filter((g) => g !== '').length < 3 ||
      !ipaddr.IPv6.isValid(a)
    )
      continue;
    if (ipaddr.IPv6.parse(a).range() === 'unicast')
      out.push({ type: 'IP_ADDRESS', start: m.index, end: m.index + a.length });
  }
}

/**
 * Every PII span of a string, sorted and non-overlapping (on overlap the earlier detector in
 * e-mail, IP, IBAN, card, phone order wins). Charges the budget once per detector pass.
 */
export function detectPii(s: string, budget: Budget, where: string): PiiSpan[] {
  const found: PiiSpan[] = [];
  const passes: [string, (s: string, out: PiiSpan[]) => void][] = [
    ['email', emails],
    ['ip', ips],
    ['iban', ibans],
    ['card', cards],
    ['phone', phones],
  ];
  for (const [name, pass] of passes) {
    if (!budget.charge(s.length, `${where} (pii ${name})`)) return [];
    pass(s, found);
  }
  const kept: PiiSpan[] = [];
  for (const span of found) if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
  return kept.sort((a, b) => a.start - b.start);
}

/** The string with each span replaced by its placeholder. */
export function applyRedactions(s: string, spans: readonly PiiSpan[]): string {
  let out = '';
  let at = 0;
  for (const sp of spans) {
    out += s.slice(at, sp.start) + placeholder(sp.type);
    at = sp.end;
  }
  return out + s.slice(at);
}
