import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SftSample } from '../../schemas/sft-sample.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import {
  answerTokens,
  armMetrics,
  levelMetrics,
  percentile,
  relevance,
  scoreRetrieval,
  tokenF1,
} from '../../tasks/replay/eval-metrics.ts';
import { evalTasks, taskFamily, toEvalTask, type EvalTask } from '../../tasks/replay/eval-tasks.ts';
import type { Retrieved } from '../../tasks/replay/retrieve.ts';

test('tokenF1: multiset token overlap, case and punctuation ignored, citations removed', () => {
  assert.equal(tokenF1('Refunds: 30 days [rag_aaaaaaaaaaaaaaaaaaaaaaaa].', 'refunds 30 DAYS'), 1);
  assert.equal(tokenF1('a b c d', 'a b x y'), 0.5);
  assert.equal(Math.round(tokenF1('the the cat', 'the cat sat') * 1e4) / 1e4, 0.6667);
  assert.equal(tokenF1('', ''), 1);
  assert.equal(tokenF1('x', ''), 0);
  assert.equal(tokenF1('abc', 'xyz'), 0);
  assert.deepEqual(answerTokens('SELECT COUNT(*) FROM t; — Größe'), [
    'select',
    'count',
    'from',
    't',
    'größe',
  ]);
});

test('taskFamily: structured keys lose their last segment; prompt: keys are their own family', () => {
  assert.equal(taskFamily('ide-assist:python:median:bb2129d7'), 'ide-assist:python:median');
  assert.equal(taskFamily('analytics-copilot:q-8359a15c'), 'analytics-copilot');
  assert.equal(taskFamily('tau-bench:airline:task-503'), 'tau-bench:airline');
  assert.equal(taskFamily('repo-fixer:acme/text-utils#412'), 'repo-fixer');
  assert.equal(taskFamily('prompt:016f611a33e6679e'), 'prompt:016f611a33e6679e');
  assert.equal(taskFamily('plain'), 'plain');
  assert.equal(taskFamily(null), null);
});

const sft = (
  id: string,
  messages: unknown[],
  split: 'train' | 'test' = 'test',
  task_key: string | null = 'analytics-copilot:q-1',
) =>
  SftSample.parse({
    schema_version: 2,
    id: `sft_${sha256(id).slice(0, 24)}`,
    run_id: `tr_${id}`,
    task_key,
    quality_score: 'accepted',
    messages,
    tools: [],
    derived_tools: [],
    repairs: [],
    split,
    provenance: { source_file: 'data/_kb/x.jsonl', line_offset: 0, sig_hash: sha256(id), recorded_at: null },
  });

test('toEvalTask: prompt = turns before the final answer; a single user turn is the task, longer prompts become a transcript', () => {
  const simple = toEvalTask(
    sft('a', [
      { role: 'system', content: 'You are a data analyst.' },
      { role: 'user', content: 'DAU last 30 days?' },
      { role: 'assistant', content: ' SELECT 1; ' },
    ]),
  );
  assert.deepEqual(simple, {
    type: 'keep',
    task: {
      id: `sft_${sha256('a').slice(0, 24)}`,
      runId: 'tr_a',
      taskKey: 'analytics-copilot:q-1',
      family: 'analytics-copilot',
      appSystem: 'You are a data analyst.',
      task: 'DAU last 30 days?',
      query: 'DAU last 30 days?',
      expected: 'SELECT 1;',
    },
  });
  const multi = toEvalTask(
    sft('b', [
      { role: 'user', content: 'Book SFO to BOS.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'search', arguments: '{"from":"SFO"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '[flight 1]' },
      { role: 'user', content: 'yes' },
      { role: 'assistant', content: 'Booked.' },
    ]),
  );
  assert.equal(multi.type, 'keep');
  const t = (multi as { task: EvalTask }).task;
  assert.equal(
    t.task,
    'The conversation so far:\n\n[user] Book SFO to BOS.\n\n[assistant] (tool calls: search({"from":"SFO"}))\n\n[tool result c1] [flight 1]\n\n[user] yes\n\nWrite the assistant\'s next reply.',
  );
  assert.deepEqual([t.query, t.expected, t.appSystem], ['Book SFO to BOS.\nyes', 'Booked.', null]);
  assert.deepEqual(
    toEvalTask(
      sft('c', [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
      ]),
    ),
    { type: 'drop', reason: 'NO_FINAL_TEXT' },
  );
});

test('evalTasks: only the test split, sorted by id, with skip counts', () => {
  const rows = [
    sft('z', [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
    ]),
    sft(
      'y',
      [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ],
      'train',
    ),
    sft('x', [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
    ]),
    sft('w', [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: ' ' },
    ]),
  ];
  const { tasks, skipped } = evalTasks(rows);
  assert.deepEqual(
    tasks.map((t) => t.id),
    [(rows[0] as SftSample).id, (rows[2] as SftSample).id].sort(),
  );
  assert.deepEqual(tasks.map((t) => t.runId).sort(), ['tr_x', 'tr_z']);
  assert.deepEqual(skipped, { NO_FINAL_TEXT: 1 });
});

const task: EvalTask = {
  id: 'sft_1',
  runId: 'tr_self',
  taskKey: 'ide:python:median:aa',
  family: 'ide:python:median',
  appSystem: null,
  task: 't',
  query: 'q',
  expected: 'e',
};
const corpus = [
  { id: 'rag_self', kind: 'run', task_key: 'ide:python:median:aa', trace_id: 'tr_self' },
  { id: 'rag_same', kind: 'run', task_key: 'ide:python:median:aa', trace_id: 'tr_2' },
  { id: 'rag_fam1', kind: 'run', task_key: 'ide:python:median:bb', trace_id: 'tr_3' },
  { id: 'rag_fam2', kind: 'run', task_key: 'ide:python:median:cc', trace_id: 'tr_4' },
  { id: 'rag_other', kind: 'run', task_key: 'ide:python:slugify:aa', trace_id: 'tr_5' },
  { id: 'rag_doc', kind: 'document', task_key: '', trace_id: '' },
];

test('relevance: same task_key from another run = task, same family = family; the held-out run and knowledge docs never count', () => {
  assert.deepEqual(
    corpus.map((d) => relevance(task, d)),
    [null, 'task', 'family', 'family', null, null],
  );
});

const hit = (id: string, rank: number): Retrieved => ({
  rank,
  id,
  score: 1,
  kind: 'run',
  task_key: '',
  trace_id: '',
  title: '',
  text: '',
});

test('scoreRetrieval + levelMetrics: hit@k, recall@k and capped recall@k per level, over tasks with a relevant document', () => {
  const r1 = scoreRetrieval(task, [hit('rag_fam1', 1), hit('rag_other', 2)], corpus);
  assert.deepEqual(
    { relevant: r1.relevant, hits: r1.hits },
    { relevant: { task: 1, family: 3 }, hits: { task: 0, family: 1 } },
  );
  const r2 = scoreRetrieval(task, [hit('rag_same', 1), hit('rag_fam2', 2)], corpus);
  const lonely = scoreRetrieval(
    { ...task, taskKey: 'x:y', family: 'x', runId: 'tr_9' },
    [hit('rag_same', 1)],
    corpus,
  );
  assert.deepEqual(lonely.relevant, { task: 0, family: 0 });
  assert.deepEqual(levelMetrics([r1, r2, lonely], 'task', 2), {
    tasks: 2,
    hit_at_k: 0.5,
    recall_at_k: 0.5,
    capped_recall_at_k: 0.5,
  });
  assert.deepEqual(levelMetrics([r1, r2, lonely], 'family', 2), {
    tasks: 2,
    hit_at_k: 1,
    recall_at_k: 0.5,
    capped_recall_at_k: 0.75,
  });
  assert.deepEqual(levelMetrics([lonely], 'family', 2), {
    tasks: 0,
    hit_at_k: null,
    recall_at_k: null,
    capped_recall_at_k: null,
  });
});

test('armMetrics: rates over all tasks; agreement at the threshold; errors and invalid answers by code', () => {
  const m = armMetrics(
    [
      { valid: true, code: null, f1: 0.8, latencyMs: 100, promptTokens: 50, completionTokens: 10 },
      { valid: true, code: null, f1: 0.5, latencyMs: 300, promptTokens: 70, completionTokens: 30 },
      { valid: false, code: 'NO_CITATION', f1: 0.2, latencyMs: 200, promptTokens: 60, completionTokens: 20 },
      { valid: null, code: 'TIMEOUT', f1: null, latencyMs: 5000, promptTokens: null, completionTokens: null },
    ],
    0.5,
  );
  assert.deepEqual(m, {
    tasks: 4,
    replied: 3,
    valid: 2,
    validity_rate: 0.5,
    agreeing: 2,
    agreement_rate: 0.5,
    mean_token_f1: 0.5,
    latency_ms: { mean: 1400, p50: 200, p95: 5000 },
    tokens: { prompt: 180, completion: 60, mean_prompt: 60, mean_completion: 20 },
    errors: { TIMEOUT: 1 },
    invalid: { NO_CITATION: 1 },
  });
  assert.deepEqual(armMetrics([], 0.5).validity_rate, null);
});

test('percentile: nearest rank', () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 95), 5);
  assert.equal(percentile([], 50), null);
});
