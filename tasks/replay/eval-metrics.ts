import type { Retrieved } from './retrieve.ts';
import { taskFamily, type EvalTask } from './eval-tasks.ts';

/** Pure measures for replay-eval: answer agreement and retrieval quality. */

/** Answer tokens for agreement: NFKC, lowercase, citations `[rag_…]` removed, runs of letters / digits. */
export function answerTokens(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/\[?rag_[0-9a-f]{24}(?:-\d+)?\]?/g, ' ')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/**
 * Token F1 (SQuAD style) between an answer and the recorded one: the harmonic mean of token
 * precision and recall over the multiset overlap. 1 when both are empty, 0 when one is.
 */
export function tokenF1(answer: string, expected: string): number {
  const a = answerTokens(answer);
  const b = answerTokens(expected);
  if (a.length === 0 && b.length === 0) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const t of b) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of a) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      overlap++;
      counts.set(t, c - 1);
    }
  }
  if (overlap === 0) return 0;
  const p = overlap / a.length;
  const r = overlap / b.length;
  return (2 * p * r) / (p + r);
}

/** How a corpus document relates to a held-out task. */
export type Relevance = 'task' | 'family' | null;

/** A corpus document as relevance needs it. */
export interface CorpusDoc {
  id: string;
  kind: string;
  task_key: string;
  trace_id: string;
}

/**
 * Pure: a document is relevant to a task when it comes from another run (never the held-out run
 * itself, which the eval excludes from retrieval) of the same task_key (`task`), or of the same
 * task family (`family`). Knowledge documents carry no task key and are never counted.
 */
export function relevance(task: Pick<EvalTask, 'runId' | 'taskKey' | 'family'>, doc: CorpusDoc): Relevance {
  if (doc.kind !== 'run' || doc.trace_id === task.runId || doc.task_key === '' || task.taskKey === null)
    return null;
  if (doc.task_key === task.taskKey) return 'task';
  return task.family !== null && taskFamily(doc.task_key) === task.family ? 'family' : null;
}

/** Retrieval quality of one level over the tasks that have at least one relevant document. */
export interface LevelMetrics {
  /** Tasks with ≥ 1 relevant document in the corpus (the denominator). */
  tasks: number;
  /** Share of those with ≥ 1 relevant document in the top k. */
  hit_at_k: number | null;
  /** Mean of |relevant ∩ top k| / |relevant|. */
  recall_at_k: number | null;
  /** Mean of |relevant ∩ top k| / min(|relevant|, k) (1 = the top k is as full of relevant documents as it can be). */
  capped_recall_at_k: number | null;
}

/** One task's retrieval, as the eval records it. */
export interface TaskRetrieval {
  retrieved: Retrieved[];
  /** Relevant documents in the corpus, per level (`family` includes `task`). */
  relevant: { task: number; family: number };
  /** Relevant documents in the top k, per level. */
  hits: { task: number; family: number };
}

/** Pure: relevance counts for one task's top k against the whole corpus. */
export function scoreRetrieval(
  task: EvalTask,
  retrieved: Retrieved[],
  corpus: readonly CorpusDoc[],
): TaskRetrieval {
  const relevant = { task: 0, family: 0 };
  const relevantIds = new Map<string, Relevance>();
  for (const d of corpus) {
    const r = relevance(task, d);
    if (r === null) continue;
    relevantIds.set(d.id, r);
    relevant.family++;
    if (r === 'task') relevant.task++;
  }
  const hits = { task: 0, family: 0 };
  for (const d of retrieved) {
    const r = relevantIds.get(d.id);
    if (r === undefined || r === null) continue;
    hits.family++;
    if (r === 'task') hits.task++;
  }
  return { retrieved, relevant, hits };
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const mean = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : round4(xs.reduce((s, x) => s + x, 0) / xs.length);

/** Pure: averages one level over tasks with a relevant document. */
export function levelMetrics(
  rows: readonly TaskRetrieval[],
  level: 'task' | 'family',
  k: number,
): LevelMetrics {
  const counted = rows.filter((r) => r.relevant[level] > 0);
  return {
    tasks: counted.length,
    hit_at_k: mean(counted.map((r) => (r.hits[level] > 0 ? 1 : 0))),
    recall_at_k: mean(counted.map((r) => r.hits[level] / r.relevant[level])),
    capped_recall_at_k: mean(counted.map((r) => r.hits[level] / Math.min(r.relevant[level], k))),
  };
}

/** Nearest-rank percentile of a list of numbers (null when empty). */
export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** One arm's result on one task. */
export interface ArmTaskResult {
  /** null = the call gave no reply. */
  valid: boolean | null;
  code: string | null;
  f1: number | null;
  latencyMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

/** One arm's totals. */
export interface ArmMetrics {
  tasks: number;
  replied: number;
  valid: number;
  validity_rate: number | null;
  agreeing: number;
  agreement_rate: number | null;
  mean_token_f1: number | null;
  latency_ms: { mean: number | null; p50: number | null; p95: number | null };
  tokens: { prompt: number; completion: number; mean_prompt: number | null; mean_completion: number | null };
  /** Calls without a reply, by error code. */
  errors: Record<string, number>;
  /** Replies that failed validation, by reason. */
  invalid: Record<string, number>;
}

/**
 * Pure: an arm's totals. Rates are over all tasks the arm ran (a call without a reply is neither
 * valid nor agreeing); an answer agrees when its token F1 with the recorded one is ≥ `threshold`.
 */
export function armMetrics(results: readonly ArmTaskResult[], threshold: number): ArmMetrics {
  const replied = results.filter((r) => r.valid !== null);
  const valid = results.filter((r) => r.valid === true).length;
  const f1s = replied.map((r) => r.f1 ?? 0);
  const agreeing = f1s.filter((f) => f >= threshold).length;
  const lat = results.map((r) => r.latencyMs).filter((x): x is number => x !== null);
  const pt = replied.map((r) => r.promptTokens).filter((x): x is number => x !== null);
  const ct = replied.map((r) => r.completionTokens).filter((x): x is number => x !== null);
  const errors: Record<string, number> = {};
  const invalid: Record<string, number> = {};
  for (const r of results) {
    if (r.valid === null) errors[r.code ?? 'UNKNOWN'] = (errors[r.code ?? 'UNKNOWN'] ?? 0) + 1;
    else if (!r.valid) invalid[r.code ?? 'UNKNOWN'] = (invalid[r.code ?? 'UNKNOWN'] ?? 0) + 1;
  }
  const n = results.length;
  const sorted = (m: Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    tasks: n,
    replied: replied.length,
    valid,
    validity_rate: n === 0 ? null : round4(valid / n),
    agreeing,
    agreement_rate: n === 0 ? null : round4(agreeing / n),
    mean_token_f1: mean(f1s),
    latency_ms: {
      mean: lat.length === 0 ? null : Math.round(lat.reduce((s, x) => s + x, 0) / lat.length),
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
    },
    tokens: {
      prompt: pt.reduce((s, x) => s + x, 0),
      completion: ct.reduce((s, x) => s + x, 0),
      mean_prompt: pt.length === 0 ? null : Math.round(pt.reduce((s, x) => s + x, 0) / pt.length),
      mean_completion: ct.length === 0 ? null : Math.round(ct.reduce((s, x) => s + x, 0) / ct.length),
    },
    errors: sorted(errors),
    invalid: sorted(invalid),
  };
}
