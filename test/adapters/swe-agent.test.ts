import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SourceConfig } from '../../schemas/config.ts';
import { sweAgent, tracePath } from '../../tasks/adapters/swe-agent.ts';
import { sweBenchReport } from '../../tasks/adapters/swe-bench-report.ts';
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
  assert.equal(run?.task_key, 'swe-agent:issue:7cc3db71f368a1bf');
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
    task_key: 'swe-agent:issue:7cc3db71f368a1bf',
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
  const promptOnly = (traj().history as unknown[]).filter(
    (h) => (h as { role: string }).role !== 'assistant' || (h as { is_demo?: boolean }).is_demo === true,
  );
  assert.deepEqual(dropOf(sweAgent.toEvidence({ ...traj(), trajectory: [], history: promptOnly }, CTX)), {
    reason: 'NO_CONVERSATION',
    detail: '$.trajectory: is empty and the history holds no model turn; the agent took no step',
  });
  assert.deepEqual(
    dropOf(sweAgent.toEvidence({ ...traj(), history: [{ role: 'system', content: 'x' }] }, CTX)),
    {
      reason: 'NO_CONVERSATION',
      detail: '$.history: no user message (the problem statement) before the first model turn',
    },
  );
});

/** A history-only trajectory (the newer SWE-agent format, as in its function_calling demonstration). */
const HISTORY_ONLY = {
  history: [
    {
      role: 'system',
      content: 'SETTING: You are an autonomous programmer.',
      agent: 'main',
      message_type: 'system_prompt',
    },
    {
      role: 'user',
      content:
        "We're currently solving the following issue within our repository. Here's the issue text:\nISSUE:\nSyntaxError: invalid syntax in missing_colon.py\n\nINSTRUCTIONS:\nFix it.",
      agent: 'main',
      message_type: 'observation',
    },
    {
      role: 'assistant',
      content: 'Let me add the colon.',
      thought: 'Let me add the colon.',
      action: 'edit',
      agent: 'main',
      message_type: 'action',
      tool_calls: [
        {
          id: 'call_e',
          type: 'function',
          function: { name: 'edit', arguments: '{"search":"b)","replace":"b):"}' },
        },
      ],
    },
    {
      role: 'tool',
      content: 'Text replaced.',
      agent: 'main',
      message_type: 'observation',
      tool_call_ids: ['call_e'],
    },
    {
      role: 'assistant',
      content: 'Submitting.',
      thought: 'Submitting.',
      action: 'submit',
      agent: 'main',
      message_type: 'action',
      tool_calls: [{ id: 'call_s', type: 'function', function: { name: 'submit', arguments: '{}' } }],
    },
    {
      role: 'tool',
      content:
        '\ndiff --git a/tests/missing_colon.py b/tests/missing_colon.py\n-def division(a, b)\n+def division(a, b):',
      agent: 'main',
      message_type: 'observation',
      tool_call_ids: ['call_s'],
    },
  ],
};

test('swe-agent: the newer history-only format is read: calls with their results, the submitted patch as its outcome; it sniffs as swe-agent', () => {
  assert.ok(sweAgent.sniff(HISTORY_ONLY).confidence >= 0.9);
  const [run, signal] = keptOf(
    sweAgent.toEvidence(HISTORY_ONLY, { ...CTX, sourceFile: 'runs/a/i1/i1.traj' }),
  );
  assert.ok(run?.kind === 'run');
  assert.equal(run.trace_id, 'swe-agent:runs/a/i1');
  assert.deepEqual(
    run.run.messages.map((m) => [
      m.role,
      m.role === 'tool'
        ? m.tool_call_id
        : m.role === 'assistant'
          ? (m.tool_calls ?? []).map((c) => c.function.name).join()
          : '',
    ]),
    [
      ['system', ''],
      ['user', ''],
      ['assistant', 'edit'],
      ['tool', 'call_e'],
      ['assistant', 'submit'],
      ['tool', 'call_s'],
    ],
  );
  assert.deepEqual(signal?.kind === 'signal' && signal.signal, {
    type: 'tool_exit',
    tool: 'swe-agent:submitted',
    exit_code: 0,
  });
  assert.ok(run.flags?.includes('outcome_from_history'));
});

test('swe-agent: attempts at one issue share a task key whatever their file name, config or instance-id spelling', () => {
  const a = keptOf(
    sweAgent.toEvidence(HISTORY_ONLY, { ...CTX, sourceFile: 'runs/x/SWE-agent__test-repo-i1.traj' }),
  )[0];
  const b = keptOf(
    sweAgent.toEvidence(
      {
        ...HISTORY_ONLY,
        history: [
          ...HISTORY_ONLY.history.slice(0, 1),
          {
            ...HISTORY_ONLY.history[1],
            content:
              'Other template.\nISSUE:\nSyntaxError:   invalid syntax in missing_colon.py\n\nINSTRUCTIONS:\nDo it.',
          },
          ...HISTORY_ONLY.history.slice(2),
        ],
      },
      { ...CTX, sourceFile: 'other/6e44b9.traj' },
    ),
  )[0];
  assert.ok(a?.task_key?.startsWith('swe-agent:issue:'));
  assert.equal(a?.task_key, b?.task_key);
  assert.notEqual(a?.trace_id, b?.trace_id);
});

test('swe-bench-report: a per-instance report and a run summary become test_result signals of the runs in the configured trajectories folder', () => {
  const ctx = { stream: 'eval', sourceFile: 'logs/report.json', index: 0, trajectories: 'runs/r1/' };
  const per = sweBenchReport.toEvidence(
    {
      'pydicom__pydicom-1458': {
        patch_is_None: false,
        patch_exists: true,
        patch_successfully_applied: true,
        resolved: false,
        tests_status: {
          FAIL_TO_PASS: { success: [], failure: ['test_a'] },
          PASS_TO_PASS: { success: ['test_b', 'test_c'], failure: [] },
        },
      },
    },
    ctx,
  );
  assert.deepEqual(
    keptOf(per).map((r) => [r.trace_id, r.kind === 'signal' && r.signal]),
    [
      [
        'swe-agent:runs/r1/pydicom__pydicom-1458',
        { type: 'test_result', passed: 2, failed: 1, suite: 'swe-bench' },
      ],
    ],
  );
  const sum = sweBenchReport.toEvidence(
    {
      resolved_ids: ['b__b-2'],
      unresolved_ids: ['a__a-1'],
      error_ids: ['c__c-3'],
      empty_patch_ids: [],
      schema_version: 2,
    },
    ctx,
  );
  assert.deepEqual(
    keptOf(sum).map((r) => [
      r.trace_id,
      r.kind === 'signal' && r.signal.type === 'test_result' && r.signal.failed,
      r.flags,
    ]),
    [
      ['swe-agent:runs/r1/a__a-1', 1, ['instances_skipped']],
      ['swe-agent:runs/r1/b__b-2', 0, ['instances_skipped']],
    ],
  );
  // the run the report names is the one the swe-agent adapter reads from that folder, in either layout
  assert.equal(`swe-agent:${tracePath('runs/r1/a__a-1.traj')}`, 'swe-agent:runs/r1/a__a-1');
  assert.equal(`swe-agent:${tracePath('runs/r1/a__a-1/a__a-1.traj')}`, 'swe-agent:runs/r1/a__a-1');
  assert.deepEqual(
    dropOf(
      sweBenchReport.toEvidence(
        { resolved_ids: [], unresolved_ids: [] },
        { ...ctx, trajectories: undefined },
      ),
    ).reason,
    'SOURCE_OPTION_MISSING',
  );
});

test('config: a swe-bench-report source must name its trajectories folder; other adapters may not', () => {
  const base = { stream: 'eval', files: ['r.json'] };
  assert.equal(SourceConfig.safeParse({ ...base, adapter: 'swe-bench-report' }).success, false);
  assert.equal(
    SourceConfig.safeParse({ ...base, adapter: 'swe-bench-report', trajectories: 'runs/r1' }).success,
    true,
  );
  assert.equal(
    SourceConfig.safeParse({ ...base, adapter: 'reward', trajectories: 'runs/r1' }).success,
    false,
  );
  assert.equal(
    SourceConfig.safeParse({ ...base, adapter: 'swe-bench-report', trajectories: '../x' }).success,
    false,
  );
});
