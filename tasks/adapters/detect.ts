import type { Adapter, FileShape } from './adapter.ts';

/**
 * Format detection (pure): which adapter reads a file, from a sample of its first parsed rows.
 * An adapter can win only if it reads the file's layout (JSONL lines, a JSON array, one JSON
 * document); its confidence is the mean of its `sniff` over the sampled rows. The winner needs
 * MIN_CONFIDENCE and a lead of MIN_MARGIN over the runner-up; otherwise the file is unknown (or
 * ambiguous) and the closest candidates are named, so a person can decide.
 */

/** What the sampler saw in a file. */
export interface FileSample {
  /** `lines`: JSONL; `array`: a JSON array; `document`: one JSON value; the rest say why no rows. */
  kind: 'lines' | 'array' | 'document' | 'not-json' | 'empty' | 'unreadable';
  /** Up to the sample size of parsed object rows (elements, lines, or the one document). */
  rows: Record<string, unknown>[];
  /** A JSONL file of exactly one line is also one JSON document (a minified `.traj`). */
  oneDocument: boolean;
  /** Human-readable note on what was found (`first line is not JSON: ...`). */
  note: string;
}

/** One adapter's fit to a sample. */
export interface Candidate {
  adapter: string;
  confidence: number;
  reason: string;
  /** False when the adapter reads another layout than the file has. */
  readsLayout: boolean;
}

/** The verdict on one file. */
export type Detection =
  | { ok: true; adapter: string; confidence: number; reason: string; candidates: Candidate[] }
  | { ok: false; detail: string; candidates: Candidate[] };

/** Below this mean confidence no adapter is chosen. */
export const MIN_CONFIDENCE = 0.75;
/** The winner must lead the runner-up by at least this much. */
export const MIN_MARGIN = 0.1;

const SHAPE_LAYOUT: Record<FileShape, FileSample['kind']> = {
  jsonl: 'lines',
  'jsonl-session': 'lines',
  'json-array': 'array',
  'json-document': 'document',
};

const LAYOUT_WORDS: Record<string, string> = {
  lines: 'JSONL',
  array: 'a JSON array',
  document: 'one JSON document',
};

function readsLayout(a: Adapter, s: FileSample): boolean {
  const layout = SHAPE_LAYOUT[a.shape];
  return layout === s.kind || (layout === 'document' && s.kind === 'lines' && s.oneDocument);
}

/** Every adapter scored on the sample, best first (ties by name). */
export function rankAdapters(sample: FileSample, adapters: readonly Adapter[]): Candidate[] {
  if (sample.rows.length === 0) return [];
  const out = adapters.map((a) => {
    const scores = sample.rows.map((r) => a.sniff(r));
    const mean = Math.round((scores.reduce((s, x) => s + x.confidence, 0) / scores.length) * 100) / 100;
    const first = scores[0] as { reason: string };
    const reason = scores.length > 1 ? `${first.reason} (mean over ${scores.length} rows)` : first.reason;
    return { adapter: a.name, confidence: mean, reason, readsLayout: readsLayout(a, sample) };
  });
  return out.sort(
    (x, y) => y.confidence - x.confidence || (x.adapter < y.adapter ? -1 : x.adapter > y.adapter ? 1 : 0),
  );
}

/** A candidate as one line of a message: `name 0.90 (reason)`, noting a layout mismatch. */
export function describeCandidate(c: Candidate, sample: FileSample, adapters: readonly Adapter[]): string {
  const a = adapters.find((x) => x.name === c.adapter);
  const layout = a ? LAYOUT_WORDS[SHAPE_LAYOUT[a.shape]] : undefined;
  const mismatch = c.readsLayout
    ? ''
    : `; it reads ${layout}, this file is ${LAYOUT_WORDS[sample.kind] ?? sample.kind}`;
  return `${c.adapter} ${c.confidence.toFixed(2)} (${c.reason}${mismatch})`;
}

/**
 * The adapter that is the clear best fit (≥ MIN_CONFIDENCE, a lead of MIN_MARGIN) of more than half
 * of the sampled rows, or null. A file whose rows are mostly one format's but include lines every
 * reader finds odd (a torn row, a bookkeeping line of a newer version) is still that format's.
 */
export function majorityAdapter(
  sample: FileSample,
  adapters: readonly Adapter[],
): { adapter: string; votes: number; confidence: number } | null {
  const fitting = adapters.filter((a) => readsLayout(a, sample));
  const votes = new Map<string, number>();
  for (const row of sample.rows) {
    const scores = fitting
      .map((a) => ({ name: a.name, c: a.sniff(row).confidence }))
      .sort((x, y) => y.c - x.c || (x.name < y.name ? -1 : 1));
    const [first, second] = scores;
    if (first && first.c >= MIN_CONFIDENCE && first.c - (second?.c ?? 0) >= MIN_MARGIN)
      votes.set(first.name, (votes.get(first.name) ?? 0) + 1);
  }
  const ranked = [...votes.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  const top = ranked[0];
  if (!top || top[1] * 2 <= sample.rows.length) return null;
  return {
    adapter: top[0],
    votes: top[1],
    confidence: Math.round((top[1] / sample.rows.length) * 100) / 100,
  };
}

/** Picks the adapter for a file, or says why none can be picked. */
export function detectFormat(sample: FileSample, adapters: readonly Adapter[]): Detection {
  const candidates = rankAdapters(sample, adapters);
  if (sample.rows.length === 0) return { ok: false, detail: sample.note, candidates };
  const byMean = detectByMean(sample, adapters, candidates);
  if (byMean.ok) return byMean;
  const major = majorityAdapter(sample, adapters);
  if (major)
    return {
      ok: true,
      adapter: major.adapter,
      confidence: major.confidence,
      reason: `the best fit of ${major.votes} of the ${sample.rows.length} sampled rows (a majority)`,
      candidates,
    };
  return byMean;
}

function detectByMean(sample: FileSample, adapters: readonly Adapter[], candidates: Candidate[]): Detection {
  const fitting = candidates.filter((c) => c.readsLayout);
  const best = fitting[0];
  const closest = candidates
    .filter((c) => c.confidence > 0)
    .slice(0, 3)
    .map((c) => describeCandidate(c, sample, adapters));
  const closestText =
    closest.length > 0 ? `closest: ${closest.join('; ')}` : 'no adapter matches any of its keys';
  if (!best || best.confidence < MIN_CONFIDENCE) {
    return {
      ok: false,
      detail: `no adapter recognises ${LAYOUT_WORDS[sample.kind] ?? 'it'} with ${sample.rows.length === 1 ? 'this row' : `these ${sample.rows.length} rows`} (needs confidence ≥ ${MIN_CONFIDENCE}); ${closestText}`,
      candidates,
    };
  }
  const second = fitting[1];
  if (second && Math.round((best.confidence - second.confidence) * 100) / 100 < MIN_MARGIN) {
    return {
      ok: false,
      detail: `ambiguous: ${describeCandidate(best, sample, adapters)} and ${describeCandidate(second, sample, adapters)} fit almost equally (a lead of ${MIN_MARGIN} is needed)`,
      candidates,
    };
  }
  return { ok: true, adapter: best.adapter, confidence: best.confidence, reason: best.reason, candidates };
}
