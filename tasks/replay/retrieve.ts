import type { IndexedDoc, RagIndex } from '../lib/rag-index.ts';

/** One retrieved document, in rank order. */
export interface Retrieved {
  /** 1-based rank. */
  rank: number;
  id: string;
  /** BM25+ score rounded to 6 decimals (the value ranks are decided on). */
  score: number;
  kind: string;
  task_key: string;
  trace_id: string;
  title: string;
  text: string;
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Pure: the top `k` documents for a query, best first. Ties (equal scores after rounding to 6
 * decimals, so float noise cannot reorder them) are broken by id, ascending, so the ranking is
 * the same on every run and machine. `exclude` drops documents before ranking (e.g. the held-out
 * run's own document in replay-eval).
 */
export function retrieve(
  index: RagIndex,
  query: string,
  k: number,
  exclude?: (doc: Pick<IndexedDoc, 'id' | 'trace_id' | 'task_key'>) => boolean,
): Retrieved[] {
  if (k <= 0 || index.documents === 0) return [];
  const hits = index.search(query).map((h) => ({
    id: h.id,
    score: round6(h.score),
    kind: h.kind,
    task_key: h.task_key,
    trace_id: h.trace_id,
    title: h.title,
    text: h.text,
  }));
  const kept = exclude ? hits.filter((h) => !exclude(h)) : hits;
  kept.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return kept.slice(0, k).map((h, i) => ({ rank: i + 1, ...h }));
}
