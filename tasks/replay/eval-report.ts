import type { EvalReport } from './eval.ts';

/** Pure: the replay-eval report as Markdown (printed, and written to reports/replay/eval.md). */

const f2 = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/`/g, "'");
const counts = (m: Record<string, number>): string =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** The Markdown text of a report. */
export function formatEvalReport(r: EvalReport): string {
  const k = r.retrieval.k;
  const out: string[] = [];
  const skipped = Object.keys(r.tasks.skipped).length > 0 ? `; skipped: ${counts(r.tasks.skipped)}` : '';
  out.push(
    '# replay-eval',
    '',
    `Held-out tasks: ${r.tasks.evaluated} (test split of \`${r.inputs.sft_file}\`, ${r.inputs.sft_test_rows} rows${r.settings.limit !== null ? `, --limit ${r.settings.limit}` : ''}${skipped}). Index: \`${r.inputs.index}\`, ${r.inputs.index_documents} documents. k = ${k}, task kind \`${r.settings.kind}\`.`,
    '',
    '## Retrieval',
    '',
    `Relevant = ${r.retrieval.relevance}.`,
    '',
    `| relevant documents | tasks with one | hit@${k} | recall@${k} | capped recall@${k} |`,
    '|---|---|---|---|---|',
    `| same task_key | ${r.retrieval.task.tasks} | ${f2(r.retrieval.task.hit_at_k)} | ${f2(r.retrieval.task.recall_at_k)} | ${f2(r.retrieval.task.capped_recall_at_k)} |`,
    `| same task family | ${r.retrieval.family.tasks} | ${f2(r.retrieval.family.hit_at_k)} | ${f2(r.retrieval.family.recall_at_k)} | ${f2(r.retrieval.family.capped_recall_at_k)} |`,
    '',
    `Retrieval hit rate (share of all ${r.tasks.evaluated} held-out tasks with a same-family document in the top ${k}): ${f2(r.retrieval.hit_rate)}.`,
    '',
    `## Model arms (local \`${r.settings.local.model}\` at ${r.settings.local.base_url})`,
    '',
    `| arm | status | tasks | validity rate | agreement rate (token F1 ≥ ${r.settings.agreement_threshold}) | mean token F1 | retrieval hit rate | latency mean / p50 / p95 ms | tokens prompt / completion |`,
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const a of r.arms) {
    if (a.status === 'unavailable') {
      out.push(
        `| ${a.arm} | unavailable | ${r.tasks.evaluated} | — | — | — | ${f2(a.retrieval_hit_rate)} | — | — |`,
      );
      continue;
    }
    const m = a.metrics;
    const lat = `${m.latency_ms.mean ?? '—'} / ${m.latency_ms.p50 ?? '—'} / ${m.latency_ms.p95 ?? '—'}`;
    out.push(
      `| ${a.arm} | ran | ${m.tasks} | ${f2(m.validity_rate)} | ${f2(m.agreement_rate)} | ${f2(m.mean_token_f1)} | ${f2(a.retrieval_hit_rate)} | ${lat} | ${m.tokens.prompt} / ${m.tokens.completion} |`,
    );
  }
  out.push('');
  if (r.model.note) out.push(`Note: ${r.model.note}`, '');
  for (const a of r.arms)
    if (a.status === 'ran')
      out.push(
        `- ${a.arm}: no reply ${counts(a.metrics.errors)}; invalid answers ${counts(a.metrics.invalid)}`,
      );
  if (r.arms.some((a) => a.status === 'ran')) out.push('');

  out.push('## Example queries', '');
  r.examples.forEach((e, i) => {
    out.push(
      `### ${i + 1}. \`${e.task_id}\` (task_key \`${e.task_key ?? '—'}\`, family \`${e.family ?? '—'}\`)`,
      '',
      `Query: ${cell(e.query)}`,
      '',
      `Relevant documents in the corpus: ${e.relevant.task} of the same task_key, ${e.relevant.family} of the same family.`,
      '',
      '| rank | id | score | task_key | relevant | text |',
      '|---|---|---|---|---|---|',
      ...e.results.map(
        (d) =>
          `| ${d.rank} | \`${d.id}\` | ${d.score.toFixed(3)} | ${cell(d.task_key || '—')} | ${d.relevance} | ${cell(d.snippet)} |`,
      ),
      '',
    );
  });
  return `${out.join('\n').trimEnd()}\n`;
}
