import assert from 'node:assert/strict';
import { test } from 'node:test';
import { langfuse } from '../../tasks/adapters/langfuse.ts';
import { sessionGroups } from './format-fixtures.ts';

const groups = sessionGroups(langfuse, 'langfuse-export.jsonl');
const at = (i: number) => groups.find((g) => g.units[0] === i);

test('langfuse: every line is in exactly one group: a run per trace, a signal or a drop per score', () => {
  assert.deepEqual(
    groups.map((g) => [
      g.units,
      g.output.type === 'keep' ? g.output.records.map((r) => r.kind).join('+') : g.output.reason,
    ]),
    [
      [[0, 1, 2, 3, 4], 'run'],
      [[5], 'signal'],
      [[6], 'signal'],
      [[7], 'SIGNAL_UNMAPPABLE'],
      [[8], 'signal'],
      [[9], 'run'],
      [[10], 'run'],
      [[11], 'run'],
      [[12], 'SCHEMA_MISSING_FIELD'],
      [[13], 'SCHEMA_MISSING_FIELD'],
    ],
  );
});

test('langfuse: a trace is one run: the last GENERATION in tree order gives the conversation, usage sums over generations', () => {
  const g = at(0);
  assert.deepEqual(g?.output, {
    type: 'keep',
    records: [
      {
        kind: 'run',
        trace_id: 'langfuse:trace-lf-1',
        task_key: 'prompt:17d926713b11910c',
        recorded_at: '2026-10-07T09:00:00.000000Z',
        flags: ['timestamp_assumed_utc'],
        run: {
          messages: [
            { role: 'system', content: 'You are a support agent for Northwind.' },
            { role: 'user', content: 'My order NW-1001 has not arrived.' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_lf1',
                  type: 'function',
                  function: { name: 'resend_order', arguments: '{"order_id":"NW-1001"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_lf1', content: '{"ok":true}' },
            { role: 'assistant', content: 'I have re-sent your order NW-1001.' },
          ],
          tools: [],
          model: 'gpt-4o',
          provider: null,
          tier: 'unknown',
          usage: { prompt_tokens: 280, completion_tokens: 30 },
          latency_ms: 4800,
          finish_reason: null,
          error: null,
          escalated_from: null,
        },
      },
    ],
  });
});

test('langfuse: ANNOTATION scores are human reviews, EVAL scores evaluator rewards; a 1-5 rating cannot be mapped', () => {
  const sig = (i: number) => {
    const o = at(i)?.output;
    return o?.type === 'keep'
      ? [o.records[0]?.trace_id, o.records[0]?.kind === 'signal' ? o.records[0].signal : null]
      : o;
  };
  assert.deepEqual(sig(5), [
    'langfuse:trace-lf-1',
    {
      type: 'human_review',
      verdict: 'approve',
      corrected_answer: null,
      reviewer: 'user-ann-3',
      comment: 'resolved the issue',
    },
  ]);
  assert.deepEqual(sig(6), [
    'langfuse:trace-lf-1',
    { type: 'reward', value: 0.82, source: 'langfuse:eval:helpfulness' },
  ]);
  // a categorical label that is not pass / fail: the reviewer was unsure; the label is kept as the comment
  assert.deepEqual(sig(8), [
    'langfuse:trace-lf-2',
    {
      type: 'human_review',
      verdict: 'unsure',
      corrected_answer: null,
      reviewer: 'user-ann-3',
      comment: 'tone too curt',
    },
  ]);
  assert.deepEqual(at(7)?.output, {
    type: 'drop',
    reason: 'SIGNAL_UNMAPPABLE',
    detail:
      'score "stars" is 4, outside [0, 1], with no pass/fail label; distill cannot tell a good value on an unknown scale. Normalise it to [0, 1] or add a pass/fail label',
  });
});

test('langfuse: public-API camelCase rows, a trace with only its own input / output, and a failed generation', () => {
  const run = (i: number) => {
    const o = at(i)?.output;
    const r = o?.type === 'keep' ? o.records[0] : undefined;
    return r?.kind === 'run' ? r : undefined;
  };
  assert.deepEqual(run(9)?.run.messages, [
    { role: 'user', content: 'Summarise: the parcel was delivered to a neighbour.' },
    { role: 'assistant', content: 'Delivered to a neighbour.' },
  ]);
  assert.equal(run(9)?.recorded_at, '2026-10-07T11:00:00.000Z');
  assert.deepEqual(
    [run(10)?.run.messages, run(10)?.flags],
    [
      [
        { role: 'user', content: 'Do you ship to Norway?' },
        { role: 'assistant', content: 'Yes, within 5 working days.' },
      ],
      ['input_stringified', 'timestamp_assumed_utc', 'trace_io_only'],
    ],
  );
  assert.deepEqual(
    [run(11)?.run.messages, run(11)?.run.error],
    [
      [{ role: 'user', content: 'Cancel my subscription' }],
      { type: 'langfuse_error', message: 'Request timed out', status: null },
    ],
  );
});

test('langfuse: rows of other tables and scores without a trace are quarantined with the reason', () => {
  assert.deepEqual(at(12)?.output, {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail:
      '$: not a Langfuse trace (id, timestamp, ...), observation (trace_id, type) or score (name, value, source / data_type)',
  });
  assert.deepEqual(at(13)?.output, {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.trace_id: the score is not attached to a trace (session and dataset-run scores are not read)',
  });
});

test('langfuse: a trace whose observations hold no generation input drops all its lines as NO_CONVERSATION', () => {
  const [g] =
    langfuse.toEvidenceFile?.(
      [
        { index: 0, row: { id: 'o1', trace_id: 't9', type: 'SPAN', start_time: '2026-10-07 09:00:00' } },
        { index: 1, row: { id: 'o2', trace_id: 't9', type: 'EVENT', start_time: '2026-10-07 09:00:01' } },
      ],
      { stream: 'in', sourceFile: 'x' },
    ) ?? [];
  assert.deepEqual(g, {
    units: [0, 1],
    output: {
      type: 'drop',
      reason: 'NO_CONVERSATION',
      detail:
        'trace t9: no GENERATION observation with an input and no trace input among its 2 rows; nothing to learn from',
    },
  });
});
