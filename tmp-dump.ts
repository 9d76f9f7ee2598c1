// Dumps, for every replay-eval task of the bundled corpus, the ranked ids and scores retrieval returns
// (k = 5 as replay-eval, and k = 1000 to see the whole ranking). Usage: node --import tsx dump-eval.ts ROOT OUT
import { writeFileSync } from 'node:fs';
import { loadRagIndex } from './tasks/replay/load-index.ts';
import { retrieve } from './tasks/replay/retrieve.ts';
import { evalTasks } from './tasks/replay/eval-tasks.ts';
import { allDocs } from './tasks/lib/rag-index.ts';
import { readJsonlFiles } from './tasks/lib/jsonl-read.ts';
import { readdirSync } from 'node:fs';
const [root, out] = process.argv.slice(2) as [string, string];
const { index } = await loadRagIndex(root);
const files = readdirSync(`${root}/exports/sft/instruction_response`).filter((f) => f.endsWith('.jsonl')).sort();
const rows: any[] = [];
for (const f of files) for await (const r of readJsonlFiles<any>(root, [`exports/sft/instruction_response/${f}`])) if (r.split === 'test') rows.push(r);
const tasks = evalTasks(rows).tasks;
const res = tasks.map((t: any) => ({
  q: t.query,
  k5: retrieve(index, t.query, 5, (d) => d.trace_id === t.runId).map((h) => [h.id, h.score, h.trace_id, h.kind]),
  all: retrieve(index, t.query, 1000).map((h) => [h.id, h.score]),
}));
writeFileSync(out, JSON.stringify({ docs: allDocs(index), tasks: res }, null, 1));
console.log(`${tasks.length} tasks, ${allDocs(index).length} docs`);
