import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sweAgent } from '../../tasks/adapters/swe-agent.ts';
import { FORMATS_DIR, dropOf, keptOf } from './format-fixtures.ts';

const CTX = { stream: 'swe', sourceFile: 'data/in/textkit__textkit-7.traj', index: 0 };
const traj = (): Record<string, unknown> =>
  JSON.parse(readFileSync(`${FORMATS_DIR}swe-agent.traj`, 'utf8')) as Record<string, unknown>;
const bash = (id: string, command: string) => ({
  id,
  type: 'function',
  function: { name: 'bash', arguments: JSON.stringify({ command }) },
});

test('swe-agent: the history prompt, then each step as an assistant tool call and its observation as the tool result, in order', () => {
  const [run, signal] = keptOf(sweAgent.toEvidence(traj(), CTX));
  assert.equal(run?.trace_id, 'swe-agent:data/in/textkit__textkit-7');
  assert.equal(run?.task_key, 'swe-agent:textkit__textkit-7');
  assert.deepEqual(run?.flags, ['demonstration_in_prompt']);
  assert.ok(run?.kind === 'run');
  assert.deepEqual(
    run.run.messages.map((m) =>
      m.role === 'assistant'
        ? [m.role, m.content, m.tool_calls]
        : m.role === 'tool'
          ? [m.role, m.tool_call_id, m.content.slice(0, 24)]
          : [m.role, m.content.slice(0, 24)],
    ),
    [
      ['system', 'SETTING: You are an auto'],
      ['user', 'Here is a demonstration '],
      ['user', 'ISSUE:\nslugify drops acc'],
      ['assistant', "Let's find the file first.\n\n", [bash('call_0', 'find_file "slug.py"\n')]],
      ['tool', 'call_0', 'Found 1 matches for "slu'],
      [
        'assistant',
        'Transliterate first.\n\n',
        [
          bash(
            'call_1',
            "edit 3:3\n    return re.sub(r'[^a-z0-9]+', '-', unidecode(s).lower()).strip('-')\nend_of_edit\n",
          ),
        ],
      ],
      ['tool', 'call_1', '[File: /textkit/textkit/'],
      ['assistant', 'Submitting.\n\n', [bash('call_2', 'submit\n')]],
      ['tool', 'call_2', '\ndiff --git a/textkit/sl'],
    ],
  );
  assert.deepEqual(
    [run.run.tools.map((t) => t.function.name), run.run.usage, run.run.model, run.recorded_at],
    [['bash'], { prompt_tokens: 9000, completion_tokens: 210 }, null, null],
  );
  // "submitted" with a patch: the agent finished (exit code 0); whether the patch is right is for tests or a reviewer to say
  assert.deepEqual(signal, {
    kind: 'signal',
    trace_id: 'swe-agent:data/in/textkit__textkit-7',
    task_key: 'swe-agent:textkit__textkit-7',
    recorded_at: null,
    flags: [],
    signal: { type: 'tool_exit', tool: 'swe-agent:submitted', exit_code: 0 },
  });
});

test('swe-agent: function-calling history keeps its own tool calls; a step missing from the history gets a bash call', () => {
  const t = traj();
  const history = t.history as Record<string, unknown>[];
  history[3] = {
    ...history[3],
    tool_calls: [
      {
        id: 'call_AbC',
        type: 'function',
        function: { name: 'find_file', arguments: '{"file_name":"slug.py"}' },
      },
    ],
  };
  const [run] = keptOf(sweAgent.toEvidence({ ...t, history: history.slice(0, 5) }, CTX));
  const calls =
    run?.kind === 'run'
      ? run.run.messages
          .filter((m) => m.role === 'assistant')
          .map((m) => (m.role === 'assistant' ? m.tool_calls?.[0]?.function.name : null))
      : [];
  assert.deepEqual(calls, ['find_file', 'bash', 'bash']);
  assert.deepEqual(run?.kind === 'run' && run.run.messages[4], {
    role: 'tool',
    tool_call_id: 'call_AbC',
    content: 'Found 1 matches for "slug.py" in /textkit:\n/textkit/textkit/slug.py',
  });
});

test('swe-agent: any exit status but "submitted" with a patch is exit code 1', () => {
  for (const [info, code, tool] of [
    [{ exit_status: 'exit_cost', submission: 'diff' }, 1, 'swe-agent:exit_cost'],
    [
      { exit_status: 'submitted (exit_context)', submission: 'diff' },
      1,
      'swe-agent:submitted (exit_context)',
    ],
    [{ exit_status: 'submitted', submission: '' }, 1, 'swe-agent:submitted'],
  ] as const) {
    const [, s] = keptOf(sweAgent.toEvidence({ ...traj(), info }, CTX));
    assert.deepEqual(s?.kind === 'signal' && s.signal, { type: 'tool_exit', tool, exit_code: code });
  }
});

test('swe-agent: malformed trajectories are quarantined with the reason', () => {
  assert.deepEqual(dropOf(sweAgent.toEvidence({ ...traj(), trajectory: undefined }, CTX)), {
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.trajectory: Invalid input: expected array, received undefined',
  });
  assert.deepEqual(dropOf(sweAgent.toEvidence({ ...traj(), trajectory: [] }, CTX)), {
    reason: 'NO_CONVERSATION',
    detail: '$.trajectory: is empty; the agent took no step',
  });
  assert.deepEqual(
    dropOf(sweAgent.toEvidence({ ...traj(), history: [{ role: 'system', content: 'x' }] }, CTX)),
    {
      reason: 'NO_CONVERSATION',
      detail: '$.history: no user message (the problem statement) before the first model turn',
    },
  );
  assert.deepEqual(
    dropOf(
      sweAgent.toEvidence(
        { ...traj(), history: [{ role: 'user', content: [{ type: 'image_url', text: null }] }] },
        CTX,
      ),
    ),
    {
      reason: 'SCHEMA_TYPE',
      detail:
        '$.history[0].content[0]: part of type "image_url" is not text; the canonical chat shape holds only text',
    },
  );
});
