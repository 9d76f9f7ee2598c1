import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tauBench } from '../../tasks/adapters/tau-bench.ts';

const CTX = { stream: 'tau_bench', sourceFile: 'data/_kb/tau_bench/gpt-4o-airline.json', index: 7 };

/** An element in the real tau-bench shape (tool messages carry a legacy `name`). */
function element(): Record<string, unknown> {
  return {
    task_id: 12,
    reward: 0,
    info: {
      task: { user_id: 'mia_li_3668', actions: [], instruction: 'You are mia_li_3668.', outputs: [] },
      source: 'user',
      user_cost: 0.0035,
    },
    traj: [
      { role: 'system', content: '# Airline Agent Policy' },
      { role: 'user', content: 'Hi, I want to book a flight.' },
      {
        content: null,
        role: 'assistant',
        tool_calls: [
          {
            function: { arguments: '{"user_id":"mia_li_3668"}', name: 'get_user_details' },
            id: 'call_x',
            type: 'function',
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_x', name: 'get_user_details', content: '{"membership":"gold"}' },
      { content: 'Booked.', role: 'assistant' },
    ],
    trial: 2,
  };
}

test('tau-bench: an element becomes one run and one reward signal with file-scoped trace id and domain task key', () => {
  const traceId = 'tau-bench:gpt-4o-airline:task-12:trial-2';
  assert.deepEqual(tauBench.toEvidence(element(), CTX), {
    type: 'keep',
    records: [
      {
        kind: 'run',
        trace_id: traceId,
        task_key: 'tau-bench:airline:task-12',
        recorded_at: null,
        flags: [],
        run: {
          messages: [
            { role: 'system', content: '# Airline Agent Policy' },
            { role: 'user', content: 'Hi, I want to book a flight.' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_x',
                  type: 'function',
                  function: { name: 'get_user_details', arguments: '{"user_id":"mia_li_3668"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_x', content: '{"membership":"gold"}' },
            { role: 'assistant', content: 'Booked.' },
          ],
          tools: [],
          model: null,
          provider: null,
          tier: 'cloud',
          usage: null,
          latency_ms: null,
          finish_reason: null,
          error: null,
          escalated_from: null,
        },
      },
      {
        kind: 'signal',
        trace_id: traceId,
        task_key: 'tau-bench:airline:task-12',
        recorded_at: null,
        flags: [],
        signal: { type: 'reward', value: 0, source: 'tau-bench' },
      },
    ],
  });
});

test('tau-bench: model comes from info when present; a file without a known domain keys by its stem', () => {
  const out = tauBench.toEvidence(
    { ...element(), info: { model: 'gpt-4o' } },
    { ...CTX, sourceFile: 'runs/my-eval.json' },
  );
  assert.ok(out.type === 'keep' && out.records[0]?.kind === 'run');
  assert.equal(out.records[0].run.model, 'gpt-4o');
  assert.equal(out.records[0].trace_id, 'tau-bench:my-eval:task-12:trial-2');
  assert.equal(out.records[0].task_key, 'tau-bench:my-eval:task-12');
});

test('tau-bench: malformed elements drop with a reason', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [
      { ...element(), traj: undefined },
      'SCHEMA_MISSING_FIELD',
      '$.traj: Invalid input: expected array, received undefined',
    ],
    [
      { ...element(), task_id: '12' },
      'SCHEMA_TYPE',
      '$.task_id: Invalid input: expected number, received string',
    ],
    [{ ...element(), reward: 2 }, 'SCHEMA_INVALID', '$.reward: Too big: expected number to be <=1'],
    [
      { ...element(), traj: [{ role: 'function', content: 'x' }] },
      'SCHEMA_ENUM',
      "$.traj[0].role: Invalid discriminator value. Expected 'system' | 'developer' | 'user' | 'assistant' | 'tool'",
    ],
  ];
  for (const [r, reason, detail] of cases)
    assert.deepEqual(tauBench.toEvidence(r, CTX), { type: 'drop', reason, detail });
});

test('tau-bench: sniff recognises an element and flags unknown element keys', () => {
  assert.deepEqual(tauBench.sniff(element()), { confidence: 1, reason: 'has all 5 tau-bench keys' });
  const out = tauBench.toEvidence({ ...element(), seed: 3 }, CTX);
  assert.ok(out.type === 'keep');
  assert.deepEqual(
    out.records.map((r) => r.flags),
    [['unknown_fields'], ['unknown_fields']],
  );
});
