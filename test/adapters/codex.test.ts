import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionUnit } from '../../tasks/adapters/adapter.ts';
import { codex } from '../../tasks/adapters/codex.ts';
import { fixtureRows, sessionGroups } from './format-fixtures.ts';

const file = (rows: Record<string, unknown>[], sourceFile = 'sessions/2026/10/11/rollout-x.jsonl') =>
  codex.toEvidenceFile?.(
    rows.map((row, index): SessionUnit => ({ index, row })),
    { stream: 'in', sourceFile },
  ) ?? [];

test('codex: a rollout is one run: function calls attach to the turn, outputs become tool messages, reasoning summaries the reasoning', () => {
  const groups = sessionGroups(codex, 'codex-rollout.jsonl');
  assert.deepEqual(
    groups.map((g) => [g.units, g.output.type]),
    [
      [[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14], 'keep'],
      [[9], 'drop'],
    ],
  );
  assert.deepEqual(groups[1]?.output, {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.payload: a response_item line needs a payload object',
  });
  assert.deepEqual(groups[0]?.output, {
    type: 'keep',
    records: [
      {
        kind: 'run',
        trace_id: 'codex:019a2d7a-41c4-78b1-b7cc-a45d62a89cd5',
        // keyed on the user's question, not on the environment context Codex injects
        task_key: 'prompt:78ae5737daaaff32',
        recorded_at: '2026-10-11T07:00:00.000Z',
        flags: ['lines_missing'],
        run: {
          messages: [
            {
              role: 'user',
              content:
                '<environment_context>\n  <cwd>/home/bob/api</cwd>\n  <approval_policy>on-request</approval_policy>\n</environment_context>',
            },
            { role: 'user', content: 'Why does test_health fail?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_c1',
                  type: 'function',
                  function: {
                    name: 'shell',
                    arguments: '{"command":["pytest","-q","tests/test_health.py"],"workdir":"/home/bob/api"}',
                  },
                },
              ],
              reasoning: '**Running the failing test**',
            },
            {
              role: 'tool',
              tool_call_id: 'call_c1',
              content:
                '{"output":"F\\nE   assert 503 == 200\\n1 failed in 0.21s\\n","metadata":{"exit_code":1,"duration_seconds":0.9}}',
            },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_c2',
                  type: 'function',
                  function: {
                    name: 'apply_patch',
                    arguments: JSON.stringify({
                      input:
                        '*** Begin Patch\n*** Update File: app/health.py\n@@\n-    return 503\n+    return 200\n*** End Patch',
                    }),
                  },
                },
              ],
            },
            {
              role: 'tool',
              tool_call_id: 'call_c2',
              content: 'Success. Updated the following files:\nM app/health.py\n',
            },
            {
              role: 'assistant',
              content:
                'The health handler returned 503 while the database check was stubbed; it now returns 200 and the test passes.',
            },
          ],
          tools: [],
          model: 'gpt-5-codex',
          provider: 'openai',
          tier: 'cloud',
          // token counts are cumulative: the last token_count event is the session's total
          usage: { prompt_tokens: 9300, completion_tokens: 310 },
          latency_ms: null,
          finish_reason: null,
          error: null,
          escalated_from: null,
        },
      },
    ],
  });
});

test('codex: an error event after the last answer is the run error; one before a later answer is not', () => {
  const meta = {
    timestamp: '2026-10-11T07:00:00.000Z',
    type: 'session_meta',
    payload: { id: 's1', model_provider: 'openai' },
  };
  const user = {
    timestamp: '2026-10-11T07:00:01.000Z',
    type: 'response_item',
    payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go' }] },
  };
  const answer = {
    timestamp: '2026-10-11T07:00:02.000Z',
    type: 'response_item',
    payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok' }] },
  };
  const error = {
    timestamp: '2026-10-11T07:00:03.000Z',
    type: 'event_msg',
    payload: { type: 'error', message: 'stream disconnected before completion' },
  };
  const run = (rows: Record<string, unknown>[]) => {
    const g = file(rows)[0];
    const r = g?.output.type === 'keep' ? g.output.records[0] : undefined;
    return r?.kind === 'run' ? r.run.error : 'dropped';
  };
  assert.deepEqual(run([meta, user, answer, error]), {
    type: 'codex_error',
    message: 'stream disconnected before completion',
    status: null,
  });
  assert.equal(run([meta, user, error, answer]), null);
});

test('codex: no session_meta → the file name is the session; a rollout with no answer has no conversation', () => {
  const user = {
    timestamp: '2026-10-11T07:00:01.000Z',
    type: 'response_item',
    payload: { type: 'message', role: 'user', content: 'hi' },
  };
  const answer = {
    timestamp: '2026-10-11T07:00:02.000Z',
    type: 'response_item',
    payload: { type: 'message', role: 'assistant', content: 'hello' },
  };
  const g = file([user, answer]);
  assert.deepEqual(
    g[0]?.output.type === 'keep' && [g[0].output.records[0]?.trace_id, g[0].output.records[0]?.flags],
    ['codex:rollout-x', ['no_session_meta']],
  );
  assert.deepEqual(file([user]), [
    {
      units: [0],
      output: {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: 'no assistant message among 1 rollout lines',
      },
    },
  ]);
});

test('codex: an image in a message is a typed placeholder in its turn; a line of an unknown type is kept in the run and flagged', () => {
  const rows = fixtureRows('codex-rollout.jsonl').filter((_, i) => i !== 9);
  rows.splice(3, 0, {
    timestamp: '2026-10-11T07:00:00.022Z',
    type: 'response_item',
    payload: {
      type: 'message',
      role: 'user',
      content: [{ type: 'input_image', image_url: 'data:image/png;base64,AAA' }],
    },
  });
  rows.splice(4, 0, { timestamp: '2026-10-11T07:00:00.023Z', type: 'future_line_type', payload: {} });
  const g = file(rows);
  assert.deepEqual(
    g.map((x) => [x.units.length, x.output.type === 'keep' ? x.output.records[0]?.flags : x.output.reason]),
    [[16, ['unknown_line_types']]],
  );
  const run = g[0]?.output.type === 'keep' ? g[0].output.records[0] : undefined;
  assert.ok(run?.kind === 'run');
  assert.ok(run.run.messages.some((m) => m.role === 'user' && m.content === '[image: image/png]'));
});

test('codex: an older rollout (meta line, bare ResponseItems, state lines) reads too, but does not sniff as certain', () => {
  const rows = [
    { id: 'old-1', timestamp: '2025-06-01T10:00:00.000Z', instructions: null },
    { record_type: 'state' },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'list files' }] },
    { type: 'function_call', name: 'shell', arguments: '{"command":["ls"]}', call_id: 'c1' },
    {
      type: 'function_call_output',
      call_id: 'c1',
      output: '{"output":"a.txt\\n","metadata":{"exit_code":0}}',
    },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'One file: a.txt' }] },
  ];
  const [g] = file(rows);
  const r = g?.output.type === 'keep' ? g.output.records[0] : undefined;
  assert.deepEqual(
    [g?.units, r?.trace_id, r?.recorded_at, r?.kind === 'run' && r.run.messages.map((m) => m.role)],
    [
      [0, 1, 2, 3, 4, 5],
      'codex:old-1',
      '2025-06-01T10:00:00.000Z',
      ['user', 'assistant', 'tool', 'assistant'],
    ],
  );
  assert.deepEqual(
    rows.map((x) => codex.sniff(x).confidence),
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
  );
});
