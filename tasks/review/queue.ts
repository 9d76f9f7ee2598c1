import type { ScoredRun } from '../../schemas/scored-run.ts';
import { sha256 } from '../lib/hash.ts';
import { clip, runDocumentText } from '../lib/export/run-document.ts';
import { safeJson, safeText } from '../lib/terminal-text.ts';

/**
 * The review queue (pure): runs whose category is `needs_human_review` with the context a
 * reviewer needs, and a reviewer's decision as a row of the human-review ledger that
 * build-evidence reads (adapter `human-review`) and score joins by trace_id (rules R05–R09,
 * docs/scoring.md). Recording a decision is how such a run reaches a verdict.
 */

/** One run awaiting a human decision. */
export interface QueueEntry {
  run_id: string;
  stream: string;
  task_key: string | null;
  recorded_at: string | null;
  /** The rule that placed the run here and every rule that held. */
  decided_by: string;
  rules_fired: string[];
  /** Signals already joined, one short line each. */
  signals: string[];
  /** The run as a document (task, steps, answer, patch), the way export-rag would write it. */
  context: string;
  source: string;
}

/** The context of a run, whatever its category (a review run is not exported, so the RAG core is asked as if accepted). */
function contextOf(run: ScoredRun): string {
  const doc = runDocumentText({ ...run, category: 'accepted' });
  return doc.type === 'keep' ? doc.text : `(no document: ${doc.detail})`;
}

function signalLine(s: ScoredRun['signals'][number]): string {
  const { type, ...rest } = s.signal;
  return clip(`${type} ${JSON.stringify(rest)} (${s.stream})`, 200);
}

/** The queue: every needs_human_review run, sorted by run_id. */
export function reviewQueue(runs: readonly ScoredRun[]): QueueEntry[] {
  return runs
    .filter((r) => r.category === 'needs_human_review')
    .sort((a, b) => (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0))
    .map((r) => ({
      run_id: r.run_id,
      stream: r.stream,
      task_key: r.task_key,
      recorded_at: r.recorded_at,
      decided_by: r.decided_by,
      rules_fired: r.rules_fired,
      signals: r.signals.map(signalLine),
      context: contextOf(r),
      source: `${r.provenance.source_file}:${r.provenance.line_offset + 1}`,
    }));
}

/** Source text for one line of a report or the terminal: escape sequences and controls written out (issue #20). */
const safe = (s: string): string => safeText(s);
/** Multi-line source text: each line escaped, the line breaks kept. */
const safeLines = (s: string): string => s.split('\n').map(safeText).join('\n');

/** The queue as Markdown (reports/review/queue.md): one section per run; every piece of source text escaped. */
export function queueMarkdown(q: readonly QueueEntry[]): string {
  const out = [
    '# Runs awaiting a human decision',
    '',
    `${q.length} run${q.length === 1 ? '' : 's'}. Record a decision with`,
    '`distill review --decide <run_id> --verdict approve|reject|edit|unsure --reviewer <name> [--answer "<corrected answer>"] [--comment "<why>"]`,',
    'then rebuild (`npm run run-all`): the decision is a row of the human-review ledger, and score places the run by it.',
    '',
  ];
  for (const e of q) {
    out.push(
      `## ${safe(e.run_id)}`,
      '',
      `- stream: ${safe(e.stream)}; task: ${e.task_key === null ? '(none)' : safe(e.task_key)}; recorded: ${e.recorded_at === null ? '(unknown)' : safe(e.recorded_at)}; source: ${safe(e.source)}`,
      `- placed here by ${safe(e.decided_by)} (rules that held: ${e.rules_fired.map(safe).join(', ')})`,
      `- signals: ${e.signals.length === 0 ? 'none' : e.signals.map(safe).join('; ')}`,
      '',
      '```text',
      safeLines(e.context.replace(/```/g, "'''")),
      '```',
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

/** The terminal listing: one short block per run; every piece of source text escaped. */
export function queueText(q: readonly QueueEntry[], file: string): string {
  if (q.length === 0) return 'no run awaits a human decision';
  const lines = [
    `${q.length} run${q.length === 1 ? '' : 's'} await a human decision (full context: ${safe(file)})`,
  ];
  q.forEach((e, i) => {
    const task = /^Task: (.*)$/m.exec(e.context)?.[1] ?? '';
    lines.push(
      `${String(i + 1).padStart(3)}. ${safe(e.run_id)}  [${safe(e.stream)}]  ${safe(e.decided_by)}`,
      `     task: ${safe(clip(task, 120))}`,
      `     signals: ${e.signals.length === 0 ? 'none' : safe(clip(e.signals.join('; '), 160))}`,
    );
  });
  lines.push(
    'decide: distill review --decide <run_id> --verdict approve|reject|edit|unsure --reviewer <name>',
  );
  return lines.join('\n');
}

export const VERDICTS = ['approve', 'reject', 'edit', 'unsure'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A decision as it is written to the ledger (the human-review adapter's row). */
export interface ReviewRow {
  review_id: string;
  trace_id: string;
  timestamp: string;
  reviewer: string;
  decision: Verdict;
  corrected_answer?: string;
  comment?: string;
}

/** Problems with a decision before it is written (empty when fine). */
export function decisionProblems(d: { verdict: string; reviewer: string; answer: string | null }): string[] {
  const p: string[] = [];
  if (!(VERDICTS as readonly string[]).includes(d.verdict))
    p.push(`--verdict must be one of ${VERDICTS.join(', ')}, got ${safeJson(JSON.stringify(d.verdict))}`);
  if (d.reviewer.trim() === '') p.push('--reviewer must name who decided');
  if (d.verdict === 'edit' && (d.answer === null || d.answer.trim() === ''))
    p.push('--verdict edit needs the corrected answer (--answer or --answer-file)');
  if (d.verdict !== 'edit' && d.answer !== null) p.push('--answer goes with --verdict edit only');
  return p;
}

/** The ledger row of a decision; its id is a hash of what it says, so recording it twice is a no-op. */
export function reviewRow(d: {
  runId: string;
  verdict: Verdict;
  reviewer: string;
  at: string;
  answer: string | null;
  comment: string | null;
}): ReviewRow {
  const body = [d.runId, d.verdict, d.reviewer, d.at, d.answer ?? '', d.comment ?? ''].join('\u0000');
  return {
    review_id: `rv_${sha256(body).slice(0, 16)}`,
    trace_id: d.runId,
    timestamp: d.at,
    reviewer: d.reviewer,
    decision: d.verdict,
    ...(d.answer !== null ? { corrected_answer: d.answer } : {}),
    ...(d.comment !== null ? { comment: d.comment } : {}),
  };
}
