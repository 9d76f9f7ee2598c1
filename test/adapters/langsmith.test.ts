import assert from 'node:assert/strict';
import { test } from 'node:test';
import { langsmith } from '../../tasks/adapters/langsmith.ts';
import { sessionGroups } from './format-fixtures.ts';

const groups = sessionGroups(langsmith, 'langsmith-runs.jsonl');
const at = (i: number) => groups.find((g) => g.units[0] === i);
const T1 = '0192f3b1-7c2e-7d11-9e3a-2b6c1f0a9d01';
const T2 = '0192f3b1-aaaa-7d11-9e3a-2b6c1f0a9d10';

test('langsmith: the runs of a trace make one run; each feedback row one signal or a drop', () => {
  assert.deepEqual(
    groups.map((g) => [
      g.units,
      g.output.type === 'keep' ? g.output.records.map((r) => r.kind).join('+') : g.output.reason,
    ]),
    [
      [[0, 1, 2, 3], 'run'],
      [[4], 'signal'],
      [[5], 'signal'],
      [[6], 'run'],
      [[7], 'signal'],
      [[8], 'SCHEMA_MISSING_FIELD'],
      [[9], 'SIGNAL_UNMAPPABLE'],
    ],
  );
});

test('langsmith: the last llm run (dotted_order) gives the conversation: LangChain messages, tool calls with args as JSON', () => {
  assert.deepEqual(at(0)?.output, {
    type: 'keep',
    records: [
      {
        kind: 'run',
        trace_id: `langsmith:${T1}`,
        task_key: 'prompt:f291309b2835b1bc',
        recorded_at: '2026-10-08T09:00:00.000000Z',
        flags: ['timestamp_assumed_utc'],
        run: {
          messages: [
            { role: 'system', content: 'You are a helpful assistant.' },
            { role: 'user', content: 'What is 3 times the price of a latte?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_ls1',
                  type: 'function',
                  function: { name: 'price_lookup', arguments: '{"item":"latte"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_ls1', content: '4.50 USD' },
            { role: 'assistant', content: 'Three lattes cost 13.50 USD.' },
          ],
          tools: [],
          model: 'gpt-4o',
          provider: 'openai',
          tier: 'unknown',
          usage: { prompt_tokens: 155, completion_tokens: 25 },
          latency_ms: 6500,
          finish_reason: 'stop',
          error: null,
          escalated_from: null,
        },
      },
    ],
  });
});

test('langsmith: feedback from the app is a human review (1 = approve, a correction = edit); a model evaluator gives a reward', () => {
  const sig = (i: number) => {
    const o = at(i)?.output;
    return o?.type === 'keep' && o.records[0]?.kind === 'signal'
      ? [o.records[0].trace_id, o.records[0].signal]
      : o;
  };
  assert.deepEqual(sig(4), [
    `langsmith:${T1}`,
    {
      type: 'human_review',
      verdict: 'approve',
      corrected_answer: null,
      reviewer: 'reviewer-9',
      comment: 'right answer',
    },
  ]);
  assert.deepEqual(sig(5), [
    `langsmith:${T1}`,
    { type: 'reward', value: 0.3, source: 'langsmith:model:conciseness' },
  ]);
  assert.deepEqual(sig(7), [
    `langsmith:${T2}`,
    {
      type: 'human_review',
      verdict: 'edit',
      corrected_answer: "Use the 'Forgot password' link on the sign-in page.",
      reviewer: null,
      comment: 'should point to the reset page',
    },
  ]);
});

test('langsmith: a trace with no llm run uses the root inputs; its error is the run error', () => {
  const o = at(6)?.output;
  const r = o?.type === 'keep' ? o.records[0] : undefined;
  assert.deepEqual(r?.kind === 'run' && [r.run.messages, r.run.error, r.flags], [
    [{ role: 'user', content: 'How do I reset my password?' }],
    { type: 'langsmith_error', message: "RateLimitError('Rate limit reached')", status: null },
    ['input_stringified', 'timestamp_assumed_utc', 'trace_io_only'],
  ]);
});

test('langsmith: a child run without its trace id, and a 1-10 score, are quarantined', () => {
  assert.deepEqual(at(8)?.output, {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.trace_id: a child run (with parent_run_id) needs the id of its trace',
  });
  assert.deepEqual(at(9)?.output, {
    type: 'drop',
    reason: 'SIGNAL_UNMAPPABLE',
    detail:
      'score "quality_1_to_10" is 7, outside [0, 1], with no pass/fail label; distill cannot tell a good value on an unknown scale. Normalise it to [0, 1] or add a pass/fail label',
  });
});

test('langsmith: a completion-style llm run (prompts) and an OpenAI-wrapped run read too', () => {
  const g =
    langsmith.toEvidenceFile?.(
      [
        {
          index: 0,
          row: {
            id: 'r1',
            run_type: 'llm',
            trace_id: 'r1',
            parent_run_id: null,
            start_time: '2026-10-08T09:00:00Z',
            inputs: { prompts: ['Say hi'] },
            outputs: { generations: [[{ text: 'hi', generation_info: { finish_reason: 'stop' } }]] },
          },
        },
        {
          index: 1,
          row: {
            id: 'r2',
            run_type: 'llm',
            trace_id: 'r2',
            start_time: '2026-10-08T09:00:00Z',
            inputs: { messages: [{ role: 'user', content: 'Ping' }], model: 'gpt-4o-mini' },
            outputs: {
              choices: [{ message: { role: 'assistant', content: 'Pong' }, finish_reason: 'stop' }],
            },
          },
        },
      ],
      { stream: 'in', sourceFile: 'x' },
    ) ?? [];
  const msgs = g.map((x) =>
    x.output.type === 'keep' && x.output.records[0]?.kind === 'run'
      ? x.output.records[0].run.messages
      : x.output,
  );
  assert.deepEqual(msgs, [
    [
      { role: 'user', content: 'Say hi' },
      { role: 'assistant', content: 'hi' },
    ],
    [
      { role: 'user', content: 'Ping' },
      { role: 'assistant', content: 'Pong' },
    ],
  ]);
});
