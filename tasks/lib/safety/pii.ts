import type { Budget } from './budget.ts';
import { encodedBlobs, flatView, MAX_DECODE_DEPTH, rawSpan } from './decode.ts';
import { emails, phones } from './pii-contact.ts';
import { cards, ibans, ips, ninos, ssns } from './pii-numbers.ts';
import { addresses, birthDates, jsonishFields, names } from './pii-prose.ts';
import { placeholder, type PiiSpan } from './pii-types.ts';

/**
 * PII detection and typed-placeholder redaction (Presidio's `replace` operator). Every detector
 * runs on the decoded view of a string (decode.ts: NFKC, invisible characters removed, entities,
 * percent-encoding and escapes resolved), and its spans are mapped back to the raw string, so
 * `alice%40example.com`, `alice\u0040example.com`, a number with non-breaking spaces or a
 * fullwidth e-mail is found and replaced where it really is: no output format can decode it back.
 * A base64 / hex blob that decodes to text holding PII is replaced whole. Detectors (in priority
 * order on overlap): e-mail, IP, IBAN, card, SSN, UK NINO, phone (pii-contact.ts, pii-numbers.ts),
 * street address, date of birth, person name (pii-prose.ts); validated by well-kept libraries
 * where one exists (validator, tldts, libphonenumber-js, ibantools, ipaddr.js).
 */

export { PII_TYPES, placeholder, isPiiPlaceholder, type PiiSpan, type PiiType } from './pii-types.ts';

/** A record is PII_DENSE when it has at least this many spans … */
export const DENSE_MIN_SPANS = 5;
/** … and at least this many spans per 1,000 characters of scanned text. */
export const DENSE_PER_1K = 10;

const PASSES: [string, (s: string, out: PiiSpan[]) => void][] = [
  ['fields', jsonishFields],
  ['email', emails],
  ['ip', ips],
  ['iban', ibans],
  ['card', cards],
  ['ssn', ssns],
  ['nino', ninos],
  ['phone', phones],
  ['address', addresses],
  ['dob', birthDates],
];

/** Spans of `s` itself (no decoding), sorted and non-overlapping; the earlier detector wins an overlap. */
export function detectPlain(s: string, budget: Budget, where: string): PiiSpan[] {
  const found: PiiSpan[] = [];
  for (const [name, pass] of PASSES) {
    if (!budget.charge(s.length, `${where} (pii ${name})`)) return [];
    pass(s, found);
  }
  if (!budget.charge(s.length, `${where} (pii names)`)) return [];
  names(s, found, [...found]);
  const kept: PiiSpan[] = [];
  for (const span of found) if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
  return kept.sort((a, b) => a.start - b.start);
}

/** True when a string could hold PII at all (cheap: a digit, an `@`, an encoded `@`, or a capital after a letter run). */
const MAYBE = /[\d@%&\\]|[^\x00-\x7f]|[A-Z][a-z]/;

/**
 * Every PII span of a raw string, in raw offsets: detectors on the decoded view (mapped back), and
 * on the decoded text of base64 / hex blobs (a blob with PII is one span, typed by its first item).
 */
export function detectPii(s: string, budget: Budget, where: string, depth = 0): PiiSpan[] {
  if (!MAYBE.test(s)) return [];
  const view = flatView(s, (n) => budget.charge(n, `${where} (decode)`));
  const text = view?.text ?? s;
  const spans = detectPlain(text, budget, where).map((sp) => {
    if (!view) return sp;
    const [start, end] = rawSpan(view, sp.start, sp.end);
    return { type: sp.type, start, end };
  });
  if (depth < MAX_DECODE_DEPTH && !budget.exhausted) {
    for (const blob of encodedBlobs(text, (n) => budget.charge(n, `${where} (pii blob)`))) {
      const inner = detectPii(blob.text, budget, `${where}~${blob.encoding}`, depth + 1);
      if (inner.length === 0) continue;
      const [start, end] = view ? rawSpan(view, blob.start, blob.end) : [blob.start, blob.end];
      spans.push({ type: (inner[0] as PiiSpan).type, start, end });
    }
  }
  const kept: PiiSpan[] = [];
  for (const span of spans.sort((a, b) => a.start - b.start || b.end - a.end))
    if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
  return kept;
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
