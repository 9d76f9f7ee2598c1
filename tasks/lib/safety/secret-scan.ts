import { sha256 } from '../hash.ts';
import type { Budget } from './budget.ts';
import { CleanMemo, MEMO_ENTRIES } from './clean-memo.ts';
import { encodedBlobs, flatView, looksLikeJson, MAX_DECODE_DEPTH } from './decode.ts';
import { pairIsSecret, SECRET_RULES, secretOf, shannonEntropy, type SecretRule } from './secret-rules.ts';
import { KeywordIndex } from './keyword-index.ts';

/**
 * Runs the secret rules over a parsed record: every string value and every key, the decoded
 * views of each string (decode.ts: NFKC, invisible characters, HTML entities, percent-encoding,
 * escapes, base64 / hex blobs nested up to 3 levels, JSON text inside a string),
 * every `key: value` pair whose key names a secret, and the text across the boundary of adjacent
 * message turns (a secret split over two messages). A hit carries where it is, never the secret:
 * the field path, offsets in that (possibly decoded) string, and the secret's sha256.
 */

/** One secret found. */
export interface SecretHit {
  rule: string;
  /** Field path, e.g. `run.messages[3].content`; `~json`, `~decoded`, `~base64@<offset>`, `~hex@<offset>` mark a decoded view. */
  path: string;
  start: number;
  end: number;
  sha256: string;
}

/** State of one record's scan. */
export interface SecretScan {
  budget: Budget;
  /** sha256 of known fake secrets that are not reported (config `secret_allowlist`). */
  allow: ReadonlySet<string>;
  hits: SecretHit[];
  /** Hits skipped because their hash is allowlisted. */
  allowlisted: number;
  /** Every secret reported (hit, repeat or allowlisted): a scan that adds none found nothing. */
  reported: number;
  /** sha256 → index in `hits` (a secret found again, in a decoded variant or by another rule, is one hit). */
  seen: Map<string, number>;
  /** The secrets found (in memory only), to mask them in paths: an object key can be a secret. */
  found: Map<string, string>;
}

/** A new scan state for one record. */
export function newScan(budget: Budget, allow: ReadonlySet<string> = new Set()): SecretScan {
  return { budget, allow, hits: [], allowlisted: 0, reported: 0, seen: new Map(), found: new Map() };
}

/** Strings longer than this are scanned in windows of this size (overlapping by WINDOW_OVERLAP). */
export const WINDOW = 1 << 20;
/** Overlap of consecutive windows: longer than any rule's longest match. */
export const WINDOW_OVERLAP = 32 * 1024;
/** How many characters of each side of a message boundary are joined and rescanned. */
export const JOIN_CHARS = 512;
export { MAX_DECODE_DEPTH };
/** Largest string parsed as JSON to scan its keys and values. */
const MAX_JSON_PARSE = 4 * 1024 * 1024;

/** Which keywords occur in a text, in one pass over it (gitleaks' keyword prefilter). */
const KEYWORDS = new KeywordIndex(SECRET_RULES.flatMap((r) => r.keywords));
/** Rules by keyword (table order kept by index), so a text runs only the rules of the keywords it holds. */
const RULES_BY_KEYWORD = new Map<string, number[]>();
SECRET_RULES.forEach((r, i) => {
  for (const k of new Set(r.keywords)) RULES_BY_KEYWORD.set(k, [...(RULES_BY_KEYWORD.get(k) ?? []), i]);
});
/** The rules whose keywords occur, in table order. */
function rulesFor(present: ReadonlySet<string>): SecretRule[] {
  const idx = new Set<number>();
  for (const k of present) for (const i of RULES_BY_KEYWORD.get(k) ?? []) idx.add(i);
  return [...idx].sort((a, b) => a - b).map((i) => SECRET_RULES[i] as SecretRule);
}

/** Shorter strings cannot hold any rule's match (the shortest, `pwd=` + a 6-character password, is 10). */
export const MIN_SCAN_CHARS = 10;

const PRIORITY = new Map(SECRET_RULES.map((r, i) => [r.id, i]));

/** Records a hit; one secret (by sha256) is one hit, under the highest-priority rule that found it. */
function report(scan: SecretScan, rule: string, path: string, start: number, secret: string): void {
  scan.reported++;
  const hash = sha256(secret);
  if (scan.allow.has(hash)) {
    scan.allowlisted++;
    return;
  }
  scan.found.set(secret, rule);
  const hit = { rule, path, start, end: start + secret.length, sha256: hash };
  const prev = scan.seen.get(hash);
  if (prev === undefined) {
    scan.seen.set(hash, scan.hits.length);
    scan.hits.push(hit);
  } else if ((PRIORITY.get(rule) ?? 0) < (PRIORITY.get((scan.hits[prev] as SecretHit).rule) ?? 0))
    scan.hits[prev] = hit;
}

/** Filters hits by rule and the secret's span in the scanned text (used for the message-boundary join). */
type Keep = (rule: string, start: number, end: number) => boolean;

function runRule(
  rule: SecretRule,
  text: string,
  base: number,
  path: string,
  scan: SecretScan,
  keep?: Keep,
): void {
  const re = new RegExp(rule.regex.source, rule.regex.flags);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const s = secretOf(rule, m, text);
    if (s === null) continue;
    if (rule.entropy !== undefined && shannonEntropy(s.text) < rule.entropy) continue;
    if (rule.check && !rule.check(s.text, m, text)) continue;
    if (keep && !keep(rule.id, base + s.start, base + s.start + s.text.length)) continue;
    report(scan, rule.id, path, base + s.start, s.text);
  }
}

/**
 * Runs every rule whose keyword occurs in `text` (one window at a time for long strings).
 * `keep` filters matches by their span (used for the message-boundary join).
 */
export function scanText(text: string, path: string, scan: SecretScan, keep?: Keep): void {
  if (text.length < MIN_SCAN_CHARS) return;
  for (let base = 0; base < text.length; base += WINDOW) {
    const win = text.length <= WINDOW ? text : text.slice(base, base + WINDOW + WINDOW_OVERLAP);
    if (!scan.budget.charge(win.length, path)) return;
    const present = KEYWORDS.present(win);
    if (present.size === 0) {
      if (text.length <= WINDOW) return;
      continue;
    }
    for (const rule of rulesFor(present)) {
      if (!scan.budget.charge(win.length, `${path} (${rule.id})`)) return;
      runRule(rule, win, base, path, scan, keep);
    }
    if (text.length <= WINDOW) return;
  }
}

/** Clean top-level strings and what scanning them cost (see clean-memo.ts). */
const cleanStrings = new CleanMemo(64, MEMO_ENTRIES);

/** Scans a string and its decoded variants (escapes, percent-encoding, base64 blobs, JSON text). */
export function scanString(s: string, path: string, scan: SecretScan, depth = 0): void {
  if (depth > 0) return scanStringOnce(s, path, scan, depth);
  if (cleanStrings.replay(s, scan.budget)) return;
  const spent = scan.budget.spent;
  const reported = scan.reported;
  scanStringOnce(s, path, scan, depth);
  if (scan.reported === reported && !scan.budget.exhausted)
    cleanStrings.remember(s, scan.budget.spent - spent);
}

function scanStringOnce(s: string, path: string, scan: SecretScan, depth: number): void {
  scanText(s, path, scan);
  if (scan.budget.exhausted) return;
  const flat = flatView(s, (n) => scan.budget.charge(n, `${path} (decode)`));
  if (flat !== null) scanText(flat.text, `${path}~decoded`, scan);
  if (depth < MAX_DECODE_DEPTH && !scan.budget.exhausted) {
    const base = flat?.text ?? s;
    for (const blob of encodedBlobs(base, (n) => scan.budget.charge(n, `${path} (${'blob'})`)))
      scanString(blob.text, `${path}~${blob.encoding}@${blob.start}`, scan, depth + 1);
  }
  const json = flat !== null && looksLikeJson(flat.text) && !looksLikeJson(s) ? flat.text : s;
  if (
    json.length <= MAX_JSON_PARSE &&
    looksLikeJson(json) &&
    scan.budget.charge(json.length, `${path} (json)`)
  ) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return;
    }
    scanPairs(parsed, `${path}~json`, scan);
  }
}

/**
 * The `key: value` pairs of JSON text found inside a string (and of JSON nested in its values). The
 * keys and values themselves were already scanned as part of the string and its unescaped variant.
 */
function scanPairs(value: unknown, path: string, scan: SecretScan): void {
  if (scan.budget.exhausted) return;
  if (typeof value === 'string') {
    if (
      value.length <= MAX_JSON_PARSE &&
      looksLikeJson(value) &&
      scan.budget.charge(value.length, `${path} (json)`)
    ) {
      try {
        scanPairs(JSON.parse(value), `${path}~json`, scan);
      } catch {
        // not JSON after all
      }
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => scanPairs(v, `${path}[${i}]`, scan));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = `${path}.${k}`;
      if (typeof v === 'string') scanPair(k, v, p, scan);
      scanPairs(v, p, scan);
    }
  }
}

/** A generic-api-key hit for a `key: value` pair whose key names a secret and whose value looks like one. */
function scanPair(key: string, value: string, path: string, scan: SecretScan): void {
  if (value.length >= 6 && value.length <= 300 && pairIsSecret(key, value))
    report(scan, 'generic-api-key', path, 0, value);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isMessage = (v: unknown): v is { role: unknown; content: unknown } =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && 'role' in v && 'content' in v;

/**
 * Joined seams in which no rule matched at all, and what scanning them cost (see clean-memo.ts).
 * Only a seam without a single match is remembered: whether a match is reported depends on where
 * the seam is and on the hits of the left message, but no match means no report either way, and
 * the work charged depends on the joined text alone. The same conversation's seams recur in every
 * format an export writes, and templated conversations recur across records.
 */
const cleanSeams = new CleanMemo(64, MEMO_ENTRIES);

/**
 * Joins the end of each message's text with the start of the next one's and rescans the seam,
 * keeping only secrets that cross it and that are not a secret already found in the left message
 * extended by the right one's first characters.
 */
function scanSeams(messages: readonly unknown[], path: string, scan: SecretScan): void {
  const texts: { i: number; text: string }[] = [];
  messages.forEach((m, i) => {
    if (isMessage(m) && typeof m.content === 'string' && m.content !== '') texts.push({ i, text: m.content });
  });
  for (let k = 0; k + 1 < texts.length; k++) {
    const a = texts[k] as { i: number; text: string };
    const b = texts[k + 1] as { i: number; text: string };
    const left = a.text.slice(-JOIN_CHARS);
    const seam = left.length;
    const leftPath = `${path}[${a.i}].content`;
    const shift = a.text.length - seam;
    const joined = left + b.text.slice(0, JOIN_CHARS);
    if (cleanSeams.replay(joined, scan.budget)) continue;
    const spent = scan.budget.spent;
    let candidates = 0;
    const crosses: Keep = (rule, s, e) => {
      candidates++;
      return (
        s < seam &&
        e > seam &&
        !scan.hits.some((h) => h.rule === rule && h.path === leftPath && h.start === shift + s)
      );
    };
    scanText(joined, `${leftPath}+${path}[${b.i}].content`, scan, crosses);
    if (candidates === 0 && !scan.budget.exhausted) cleanSeams.remember(joined, scan.budget.spent - spent);
  }
}

/** Scans every key and string value under `value`, with `path` as the field path of its root. */
export function scanValue(value: unknown, path: string, scan: SecretScan, depth = 0): void {
  if (scan.budget.exhausted) return;
  if (typeof value === 'string') scanString(value, path, scan, depth);
  else if (Array.isArray(value)) {
    value.forEach((v, i) => scanValue(v, `${path}[${i}]`, scan, depth));
    if (value.some(isMessage)) scanSeams(value, path, scan);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, Json>)) {
      const p = path === '' ? k : `${path}.${k}`;
      scanText(k, `${p}~key`, scan);
      if (typeof v === 'string') scanPair(k, v, p, scan);
      scanValue(v, p, scan, depth);
    }
  }
}

/** A path with every secret found in the record replaced by `<rule id>` (a key that is a secret is part of paths). */
function maskPath(path: string, found: ReadonlyMap<string, string>): string {
  let p = path;
  for (const [secret, rule] of found) if (p.includes(secret)) p = p.split(secret).join(`<${rule}>`);
  return p;
}

/** Scans a whole record; returns its hits in rule-table order, then by path and offset. */
export function scanRecord(record: unknown, scan: SecretScan): SecretHit[] {
  scanValue(record, '', scan);
  return scan.hits
    .map((h) => ({ ...h, path: maskPath(h.path, scan.found) }))
    .sort(
      (a, b) =>
        (PRIORITY.get(a.rule) ?? 0) - (PRIORITY.get(b.rule) ?? 0) ||
        (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
        a.start - b.start,
    );
}
