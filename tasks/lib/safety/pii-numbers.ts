import ipaddr from 'ipaddr.js';
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import validator from 'validator';
import { digitRuns } from './pii-contact.ts';
import type { PiiSpan } from './pii-types.ts';

/**
 * Numbers that identify a person or an account: payment cards (Luhn + issuer prefix by
 * validator.isCreditCard, in any grouping — spaces, dashes, dots — or none), IBANs (mod-97 by
 * ibantools, any case, grouped or not), US Social Security numbers (SSA's rules: area not 000, 666
 * or 9xx, group not 00, serial not 0000; without dashes only next to "SSN" / "social security"),
 * UK National Insurance numbers (HMRC's prefix rules) and public IP addresses (ipaddr.js: only
 * unicast; a dotted quad of small numbers is a version unless an address word or a port says otherwise).
 */

export function luhn(digits: string): boolean {
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

/** True when a digit string is a payment card number (13–19 digits, Luhn, a known issuer prefix). */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && luhn(digits) && validator.isCreditCard(digits);
}

const CARD_ID_WORDS = /(?:order|invoice|tracking|isbn|ean|upc|imei|serial|id)\s*[:#=]?\s*$/i;

/**
 * True when a digit run is written the way card numbers are: in one run, or in at least three
 * groups of 3–6 digits with one separator throughout (4-4-4-4, 4-6-5 Amex, 4-6-4 Diners,
 * 4-4-4-4-3; Presidio's CreditCardRecognizer likewise takes only 3–5-digit groups). Two groups
 * are a decimal or a split, not a card: `123724.79999999999` and Math.E (`2.718281828459045`)
 * pass Luhn and an issuer prefix once the dot is dropped, and floats like these fill tool results.
 */
export function cardGrouping(text: string): boolean {
  if (/^\d+$/.test(text)) return true;
  const m = /^\d+([ .-])\d+(?:\1\d+)+$/.exec(text);
  return m !== null && text.split(m[1] as string).every((g) => g.length >= 3 && g.length <= 6);
}

/** Card numbers: 13–19 digits in one run, or in a card's groups (`cardGrouping`) separated by spaces, dashes or dots. */
export function cards(s: string, out: PiiSpan[]): void {
  digitRuns(s, 23, (start, end, count) => {
    if (count < 13 || count > 19) return;
    const text = s.slice(start, end);
    if (!cardGrouping(text)) return;
    if (CARD_ID_WORDS.test(s.slice(Math.max(0, start - 20), start))) return;
    if (isCardNumber(text.replace(/[ .-]/g, ''))) out.push({ type: 'CREDIT_CARD', start, end });
  });
}

/** IBANs: country code, check digits, 11–30 alphanumerics (optionally in groups of 4), any case, mod-97 valid. */
export function ibans(s: string, out: PiiSpan[]): void {
  const re = /\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?\b/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const iban = electronicFormatIBAN(m[0].toUpperCase());
    if (iban && isValidIBAN(iban))
      out.push({ type: 'IBAN_CODE', start: m.index, end: m.index + m[0].length });
  }
}

/** True when nine digits follow SSA's SSN rules. */
export function validSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

const SSN_WORDS =
  /(?:ssn|social security(?: number| no\.?)?|sozialversicherungsnummer)\s*[:#=]?\s*(?:is\s*)?$/i;

/** US SSNs: `123-45-6789` / `123 45 6789` anywhere; nine bare digits only after an SSN word. */
export function ssns(s: string, out: PiiSpan[]): void {
  const re = /(?<![\w.-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-]|\.\d)/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (!validSsn(m[1] as string, m[3] as string, m[4] as string)) continue;
    if (m[2] === '' && !SSN_WORDS.test(s.slice(Math.max(0, m.index - 30), m.index))) continue;
    out.push({ type: 'US_SSN', start: m.index, end: m.index + m[0].length });
  }
}

/** UK National Insurance numbers (HMRC: no D F I Q U V in the prefix, O not second, no BG GB NK KN TN NT ZZ). */
export function ninos(s: string, out: PiiSpan[]): void {
  const re = /\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s))
    out.push({ type: 'NATIONAL_ID', start: m.index, end: m.index + m[0].length });
}

const IP_WORDS =
  /(?:\bip|address|addr|host|server|client|remote|from|connect(?:ed|ion)?|inet|src|dst|peer|ping|ssh|forwarded|origin|login|user|visitor|source|destination)\b[^\n]{0,20}$/i;
const VERSION_WORDS = /(?:version|release|build|v|ver|rev|@|==|>=|<=|~=|\^)\s*[:=]?\s*$/i;

/** Public IPv4 / IPv6 addresses (unicast only; versions and dotted build ids are skipped). */
export function ips(s: string, out: PiiSpan[]): void {
  const v4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d|\w)/g;
  for (let m = v4.exec(s); m !== null; m = v4.exec(s)) {
    const before = s.slice(Math.max(0, m.index - 40), m.index);
    if (VERSION_WORDS.test(before)) continue;
    const octets = m[0].split('.').map(Number);
    const after = s.slice(m.index + m[0].length, m.index + m[0].length + 2);
    const evidence = IP_WORDS.test(before) || /^:\d|^\/\d/.test(after) || /:\/\/$/.test(before);
    // 1.2.3.4-style version numbers: small octets need an address word, a port or a URL around them
    if (!evidence && octets.filter((o) => o >= 10).length < 2) continue;
    if (ipaddr.IPv4.isValidFourPartDecimal(m[0]) && ipaddr.IPv4.parse(m[0]).range() === 'unicast')
      out.push({ type: 'IP_ADDRESS', start: m.index, end: m.index + m[0].length });
  }
  if (!s.includes(':')) return;
  const v6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g;
  for (let m = v6.exec(s); m !== null; m = v6.exec(s)) {
    const a = m[0];
    if (a.length === 0) {
      v6.lastIndex++;
      continue;
    }
    if (!a.includes('::') && a.split(':').length !== 8) continue;
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
