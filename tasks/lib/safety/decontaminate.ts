import { murmur3String, words as minhashWords } from './minhash.ts';
import { decontamForm } from './skeleton.ts';

/** Words of a text in decontamination's normal form (skeleton.ts), then as the MinHash shingles split them. */
const words = (text: string): string[] => minhashWords(decontamForm(text));

/**
 * Eval decontamination (GPT-3 appendix C / lm-evaluation-harness "janitor" style, stricter): a
 * training candidate that shares any normalised 13-gram with a protected item is quarantined
 * EVAL_CONTAMINATION (the whole unit: excising n-grams would leave incoherent dialogues). A protected
 * item shorter than 13 words is matched whole: a candidate text equal to it after normalisation is
 * contaminated. Normalisation: NFKC, invisible characters removed and the UTS #39 confusables
 * skeleton (skeleton.ts: zero-width spaces, soft hyphens and Cyrillic look-alikes do not hide a
 * copy), then NFC, lowercase, punctuation as space, split on whitespace (the same `words` as the
 * MinHash shingles).
 *
 * Protected items are every string value of the protected files (acceptance fixture, replay eval
 * tasks, the config's `eval_sets`), except the content of system turns ({role: "system"}), which
 * is boilerplate shared with production traces.
 */

/** n-gram size of the overlap check. */
export const DECONTAM_N = 13;
/** Protected items with fewer words than this are ignored ("yes", "user", enum values). */
export const MIN_EXACT_WORDS = 3;

/** Where a protected n-gram or item came from, for the quarantine detail and `ref`. */
export interface ProtectedOrigin {
  set: string;
  /** `file:line` (1-based line for JSONL; the element index for a JSON array). */
  at: string;
}

/** 53-bit hash of an n-gram (two 32-bit murmur3 hashes), as a Map key. */
function gramKey(ws: readonly string[], from: number): number {
  const s = ws.slice(from, from + DECONTAM_N).join(' ');
  return murmur3String(s, 0x0de7) * 0x200000 + (murmur3String(s, 0xc0de) & 0x1fffff);
}

/** The protected n-grams and short items. */
export class ProtectedIndex {
  readonly grams = new Map<number, ProtectedOrigin>();
  readonly exact = new Map<string, ProtectedOrigin>();
  items = 0;
  skipped = 0;

  /** Adds one protected text. */
  add(text: string, origin: ProtectedOrigin): void {
    const ws = words(text);
    if (ws.length < MIN_EXACT_WORDS) {
      this.skipped++;
      return;
    }
    this.items++;
    if (ws.length < DECONTAM_N) {
      const key = ws.join(' ');
      if (!this.exact.has(key)) this.exact.set(key, origin);
      return;
    }
    for (let i = 0; i + DECONTAM_N <= ws.length; i++) {
      const k = gramKey(ws, i);
      if (!this.grams.has(k)) this.grams.set(k, origin);
    }
  }

  /** Adds every string value of a parsed protected record (system-turn content excluded). */
  addValue(v: unknown, origin: ProtectedOrigin): void {
    if (typeof v === 'string') this.add(v, origin);
    else if (Array.isArray(v)) for (const x of v) this.addValue(x, origin);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const [k, x] of Object.entries(o))
        if (!(k === 'content' && o['role'] === 'system')) this.addValue(x, origin);
    }
  }

  get empty(): boolean {
    return this.grams.size === 0 && this.exact.size === 0;
  }
}

/** A contamination match: which protected item, and how. */
export interface Contamination {
  origin: ProtectedOrigin;
  how: string;
}

/** The first protected item a candidate's texts overlap, or null when it is clean. */
export function findContamination(pieces: readonly string[], index: ProtectedIndex): Contamination | null {
  if (index.empty) return null;
  for (let p = 0; p < pieces.length; p++) {
    const ws = words(pieces[p] as string);
    if (ws.length >= MIN_EXACT_WORDS && ws.length < DECONTAM_N) {
      const hit = index.exact.get(ws.join(' '));
      if (hit)
        return { origin: hit, how: `text ${p} equals a protected item (${ws.length} words, normalised)` };
    }
    for (let i = 0; i + DECONTAM_N <= ws.length; i++) {
      const hit = index.grams.get(gramKey(ws, i));
      if (hit)
        return {
          origin: hit,
          how: `text ${p} shares a normalised ${DECONTAM_N}-gram with a protected item (words ${i}–${i + DECONTAM_N - 1})`,
        };
    }
  }
  return null;
}
