import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentTrajectory } from '../../tasks/adapters/agent-trajectory.ts';

const CTX = {
  stream: 'agent_trajectories',
  sourceFile: 'data/_kb/agent_trajectories/2026-10-04.jsonl',
  index: 3,
};

const TOOL = {
  type: 'function',
  function: {
    name: 'run_tests',
    description: 'Run pytest',
    parameters: { type: 'object', properties: { path: { type: 'string' } } },
  },
};

function row(): Record<string, unknown> {
  return {
    trace_id: 'tr_agent',
    task_key: 'repo-fixer:acme/text-utils#412',
    timestamp: '2026-10-04T08:30:00.000Z',
    agent: 'repo-fixer',
    model: 'qwen2.5-coder-7b-instruct',
    provider: 'vllm',
    tier: 'local',
    messages: [
      { role: 'system', content: 'You are a coding agent.' },
      { role: 'user', content: 'Fix tests/test_slugify.py.' },
      {
        role: 'assistant',
        content: "Next I'll call run_tests.",
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'run_tests', arguments: '{"path":"tests/test_slugify.py"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '4 passed in 0.12s' },
      { role: 'assistant', content: 'All 4 tests pass.' },
    ],
    tools: [TOOL],
    usage: { prompt_tokens: 900, completion_tokens: 60 },
    finish_reason: 'stop',
    error: null,
    duration_ms: 5400,
    steps: 1,
  };
}

test('agent-trajectory: a whole run becomes one run draft with its tools and explicit task key', () => {
  assert.deepEqual(agentTrajectory.toEvidence(row(), CTX), {
    type: 'keep',
    records: [
      {
        kind: 'run',
        trace_id: 'tr_agent',
        task_key: 'repo-fixer:acme/text-utils#412',
        recorded_at: '2026-10-04T08:30:00.000Z',
        flags: [],
        run: {
          messages: [
            { role: 'system', content: 'You are a coding agent.' },
            { role: 'user', content: 'Fix tests/test_slugify.py.' },
            {
              role: 'assistant',
              content: "Next I'll call run_tests.",
              tool_calls: [
                {
                  id: 'call_a',
                  type: 'function',
                  function: { name: 'run_tests', arguments: '{"path":"tests/test_slugify.py"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_a', content: '4 passed in 0.12s' },
            { role: 'assistant', content: 'All 4 tests pass.' },
          ],
          tools: [TOOL],
          model: 'qwen2.5-coder-7b-instruct',
          provider: 'vllm',
          tier: 'local',
          usage: { prompt_tokens: 900, completion_tokens: 60 },
          latency_ms: 5400,
          finish_reason: 'stop',
          error: null,
          escalated_from: null,
        },
      },
    ],
  });
});

test('agent-trajectory: an aborted run keeps its error; missing optional parts become null / unknown', () => {
  const r = row();
  for (const k of ['task_key', 'model', 'provider', 'tier', 'usage', 'finish_reason', 'duration_ms', 'tools'])
    delete r[k];
  r.error = { type: 'api_error', message: 'model API returned 503', status: 503 };
  const out = agentTrajectory.toEvidence(r, CTX);
  assert.ok(out.type === 'keep' && out.records[0]?.kind === 'run');
  const d = out.records[0];
  assert.equal(d.task_key, 'prompt:596ddde53dafc5c0');
  assert.deepEqual(
    [
      d.run.model,
      d.run.provider,
      d.run.tier,
      d.run.usage,
      d.run.finish_reason,
      d.run.latency_ms,
      d.run.tools,
      d.run.error,
    ],
    [
      null,
      null,
      'unknown',
      null,
      null,
      null,
      [],
      { type: 'api_error', message: 'model API returned 503', status: 503 },
    ],
  );
});

test('agent-trajectory: review_status / is_eval in the row are ignored and flagged untrusted_label', () => {
  for (const extra of [
    { review_status: 'approved' },
    { metadata: { is_eval: false, run_group: 'nightly' } },
  ]) {
    const out = agentTrajectory.toEvidence({ ...row(), ...extra }, CTX);
    assert.ok(out.type === 'keep');
    assert.deepEqual(out.records[0]?.flags, ['untrusted_label']);
  }
  const out = agentTrajectory.toEvidence({ ...row(), debug: { sandbox: 'sbx-1' } }, CTX);
  assert.ok(out.type === 'keep');
  assert.deepEqual(out.records[0]?.flags, ['unknown_fields']);
});

test('agent-trajectory: malformed rows drop with a reason', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [
      { ...row(), messages: 'see attached transcript' },
      'SCHEMA_TYPE',
      '$.messages: Invalid input: expected array, received string',
    ],
    [{ ...row(), messages: [] }, 'SCHEMA_INVALID', '$.messages: Too small: expected array to have >=1 items'],
    [
      { ...row(), agent: undefined },
      'SCHEMA_MISSING_FIELD',
      '$.agent: Invalid input: expected string, received undefined',
    ],
    [
      { ...row(), messages: [{ role: 'tool', content: 'x' }] },
      'SCHEMA_MISSING_FIELD',
      '$.messages[0].tool_call_id: Invalid input: expected string, received undefined',
    ],
    [{ ...row(), tier: 'edge' }, 'SCHEMA_ENUM', '$.tier: Invalid option: expected one of "local"|"cloud"'],
  ];
  for (const [r, reason, detail] of cases)
    assert.deepEqual(agentTrajectory.toEvidence(r, CTX), { type: 'drop', reason, detail });
});
