import { parse as parseDomain } from 'tldts';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import validator from 'validator';
import type { PiiSpan } from './pii-types.ts';

/**
 * E-mail addresses and phone numbers in (decoded) text.
 * - E-mail: expansion around each `@` over letters of any script (RFC 6531 local parts, IDN
 *   domains), validated by validator.isEmail and a domain whose public suffix is an ICANN one
 *   (tldts, the Public Suffix List): `x@pytest.mark.skipif` and `obj@self.assert` are code. A local
 *   part right after a backslash escape letter (`\n@decorator` in escaped code) starts after it.
 * - Phone: digit groups with single separators (space, `-`, `.`, `/`, parentheses), a leading `+`
 *   or `00`; parsed and validated by libphonenumber-js per region: international numbers by their
 *   country code, national numbers (trunk `0` or not) against the regions of REGIONS. A number
 *   written without any separator or prefix needs a phone word nearby (`tel`, `phone`, `Telefon`,
 *   …): a bare 10-digit run is an order id or a timestamp far more often than a phone number.
 */

const SERVICE_LOCALS = new Set(['git', 'noreply', 'no-reply', 'donotreply', 'do-not-reply', 'mailer-daemon']);

const isLocalChar = (c: string): boolean => /[\p{L}\p{N}\p{M}._%+'-]/u.test(c);
const isDomainChar = (c: string): boolean => /[\p{L}\p{N}\p{M}.-]/u.test(c);

/** E-mail spans of `s`. */
export function emails(s: string, out: PiiSpan[]): void {
  let from = 0;
  for (let at = s.indexOf('@', from); at !== -1; at = s.indexOf('@', from)) {
    from = at + 1;
    let a = at;
    while (a > 0 && at - a < 64 && isLocalChar(s[a - 1] as string)) a--;
    // `\n@pytest.mark` in escaped code: the letter after a backslash is part of the escape
    if (a > 0 && s[a - 1] === '\\') a++;
    while (a < at && s[a] === '.') a++;
    let b = at + 1;
    while (b < s.length && b - at <= 253 && isDomainChar(s[b] as string)) b++;
    while (b > at + 1 && (s[b - 1] === '.' || s[b - 1] === '-')) b--;
    if (a >= at || b === at + 1) continue;
    if (/:\/\/[^\s/@]*$/.test(s.slice(Math.max(0, a - 200), a))) continue; // URL userinfo, not a mailbox
    const local = s.slice(a, at);
    if (SERVICE_LOCALS.has(local.toLowerCase())) continue;
    const domain = s.slice(at + 1, b);
    if (!domain.includes('.')) continue;
    const p = parseDomain(domain);
    if (!p.isIcann || !p.domain) continue;
    if (!validator.isEmail(`${local}@${domain}`, { allow_utf8_local_part: true, ignore_max_length: false }))
      continue;
    out.push({ type: 'EMAIL_ADDRESS', start: a, end: b });
    from = b;
  }
}

/** Regions tried for a national number, most common first (trunk-prefix countries and NANP). */
const REGIONS: readonly CountryCode[] = [
  'US',
  'GB',
  'DE',
  'FR',
  'IN',
  'JP',
  'BR',
  'AU',
  'ES',
  'IT',
  'NL',
  'CA',
  'MX',
  'CH',
  'AT',
  'BE',
  'SE',
  'IE',
  'PL',
  'NZ',
  'ZA',
  'KR',
  'CN',
  'SG',
];

const PHONE_WORDS =
  /(?:phone|tel|mobile|mobil|cell|call|fax|whatsapp|sms|contact|ring|dial|handy|telefon|téléphone|portable|teléfono|telefono|móvil|celular|telemóvel|電話|携帯|手机|电话|फ़ोन|फोन|номер|телефон)\b[^\n]{0,24}$/i;
const ID_WORDS =
  /(?:^|[^\p{L}\p{N}])(?:order|invoice|id|#|no\.?|number|ref|reference|sku|ticket|tracking|confirmation|transaction|booking|reservation|po|serial|case|account|acct|isbn|issn|ean|upc|build|version|commit|job|pid|port|zip)\s*[:#=]?\s*$/iu;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isWordChar = (c: number): boolean =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * Digit groups separated by single separators (space, `-`, `.`, `/`, `(`, `)`), starting with a
 * digit, `+` or `(`: visits [start, end, digitCount]. A run inside a word is skipped whole.
 */
export function digitRuns(
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
      } else if (
        d === 32 ||
        d === 45 ||
        d === 46 ||
        d === 47 ||
        d === 40 ||
        d === 41 ||
        (d === 43 && j === start)
      ) {
        if (prevSep && !(d === 32 && s.charCodeAt(j - 1) === 41) && !(d === 40 && s.charCodeAt(j - 1) === 32))
          break;
        prevSep = true;
      } else break;
      j++;
    }
    let end = j;
    while (end > start && !isDigit(s.charCodeAt(end - 1)) && s.charCodeAt(end - 1) !== 41) end--;
    const before = start > 0 ? s.charCodeAt(start - 1) : 32;
    const after = end < n ? s.charCodeAt(end) : 32;
    const joined = (c: number, next: number): boolean => (c === 45 || c === 95) && isWordChar(next);
    const embedded =
      joined(before, start > 1 ? s.charCodeAt(start - 2) : 32) || // opus-4-5-20251101, a uuid's groups
      joined(after, end + 1 < n ? s.charCodeAt(end + 1) : 32) ||
      isWordChar(before) ||
      isWordChar(after) ||
      before === 46 ||
      before === 47 ||
      (after === 46 && end + 1 < n && isDigit(s.charCodeAt(end + 1)));
    if (!embedded && end - start <= maxChars && digits > 0) visit(start, end, digits);
    i = Math.max(j, start + 1);
  }
}

/** True when the text of a digit run is a valid phone number; `before` is the text before it. */
export function isPhone(text: string, before: string, digits: number, forced = false): boolean {
  if (digits < 7 || digits > 15) return false;
  const intl = text.startsWith('+') || /^00[1-9]/.test(text);
  const formatted = intl || /[ ./()-]/.test(text);
  if (/^\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)/.test(text) || /^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$/.test(text))
    return false; // dates
  if (/^\d+\.\d+$/.test(text) || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) return false; // decimals, IPs
  if (/^\d{3}-\d{2}-\d{4}$/.test(text)) return false; // the SSN shape, valid or not
  if (/[ .\/-]\d$/.test(text) || /\.\d{1,2}[ )]/.test(text)) return false; // a one-digit last group, a decimal inside
  if (/[,.]\d*$/.test(before) && /\d[,.]$/.test(before)) return false; // part of 1,234,567
  if (/\d:$/.test(before)) return false; // the seconds of a clock time: 12:06:45.369 1234567
  if (!forced) {
    const phoneWord = PHONE_WORDS.test(before);
    if (!phoneWord && ID_WORDS.test(before)) return false; // "phone number:" is a phone's label, "order number:" an id's
    if (!formatted && (!phoneWord || digits < 9)) return false;
    if (!intl && digits < 8 && !PHONE_WORDS.test(before)) return false;
  }
  if (intl) {
    const p = parsePhoneNumberFromString(text.startsWith('00') ? `+${text.slice(2)}` : text);
    return p?.isValid() ?? false;
  }
  for (const r of REGIONS) if (parsePhoneNumberFromString(text, r)?.isValid()) return true;
  return false;
}

/** Phone number spans of `s` (cards, IBANs and SSNs are found first; an overlap keeps the earlier type). */
export function phones(s: string, out: PiiSpan[]): void {
  digitRuns(s, 25, (start, end, count) => {
    if (count < 7 || count > 15) return;
    const text = s.slice(start, end);
    if (s[end] === '%') return;
    if (isPhone(text, s.slice(Math.max(0, start - 40), start), count))
      out.push({ type: 'PHONE_NUMBER', start, end });
  });
}
