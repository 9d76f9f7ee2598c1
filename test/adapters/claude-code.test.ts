import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionUnit } from '../../tasks/adapters/adapter.ts';
import { claudeCode } from '../../tasks/adapters/claude-code.ts';
import { fixtureRows, sessionGroups } from './format-fixtures.ts';

const SID = '6c073d8e-2bb1-45cb-90bc-a28ce44da090';
const file = (rows: Record<string, unknown>[]) =>
  claudeCode.toEvidenceFile?.(
    rows.map((row, index): SessionUnit => ({ index, row })),
    { stream: 'in', sourceFile: 'x.jsonl' },
  ) ?? [];

test('claude-code: one session file is one run; a malformed line is quarantined by itself', () => {
  const groups = sessionGroups(claudeCode, 'claude-code-session.jsonl');
  assert.deepEqual(
    groups.map((g) => [g.units, g.output.type]),
    [
      [[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11], 'keep'],
      [[8], 'drop'],
    ],
  );
  assert.deepEqual(groups[1]?.output, {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.message: a user line needs the Anthropic message object',
  });
});

test('claude-code: the parentUuid chain is the conversation; split lines of one API message merge; tool results become tool messages', () => {
  const [g] = sessionGroups(claudeCode, 'claude-code-session.jsonl');
  assert.deepEqual(g?.output, {
    type: 'keep',
    records: [
      {
        kind: 'run',
        trace_id: `claude-code:${SID}`,
        task_key: 'prompt:b81b9601e9e57c6b',
        recorded_at: '2026-10-10T09:00:00.000Z',
        // the abandoned answer x1 is off the chain; line 8 was quarantined
        flags: ['branches_skipped', 'lines_missing'],
        run: {
          messages: [
            { role: 'user', content: "slugify('Crème brûlée') returns an empty string. Fix it." },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'toolu_01Read',
                  type: 'function',
                  function: {
                    name: 'Read',
                    arguments: '{"file_path":"/home/alice/textkit/textkit/slug.py"}',
                  },
                },
              ],
              reasoning: 'Look at the slugify implementation first.',
            },
            {
              role: 'tool',
              tool_call_id: 'toolu_01Read',
              content:
                "     1\timport re\n     2\tdef slugify(s):\n     3\t    return re.sub(r'[^a-z0-9]+', '-', s.lower()).strip('-')\n",
            },
            {
              role: 'assistant',
              content: 'Transliterate with unicodedata before stripping.',
              tool_calls: [
                {
                  id: 'toolu_01Edit',
                  type: 'function',
                  function: {
                    name: 'Edit',
                    arguments: JSON.stringify({
                      file_path: '/home/alice/textkit/textkit/slug.py',
                      old_string: '    return re.sub',
                      new_string:
                        "    s = unicodedata.normalize('NFKD', s).encode('ascii', 'ignore').decode()\n    return re.sub",
                    }),
                  },
                },
              ],
            },
            {
              role: 'tool',
              tool_call_id: 'toolu_01Edit',
              content: 'The file /home/alice/textkit/textkit/slug.py has been updated.',
            },
            { role: 'assistant', content: "Fixed: slugify('Crème brûlée') now returns 'creme-brulee'." },
          ],
          tools: [],
          model: 'claude-sonnet-4-5-20250929',
          provider: 'anthropic',
          tier: 'cloud',
          // three API messages on the chain: (3 + 2100 + 11000) + 2 × (5 + 300 + 13100) prompt, 120 + 2 × 40 completion
          usage: { prompt_tokens: 39913, completion_tokens: 200 },
          latency_ms: null,
          finish_reason: 'stop',
          error: null,
          escalated_from: null,
        },
      },
    ],
  });
});

test('claude-code: lines the shell already quarantined leave a gap: the run is flagged lines_missing', () => {
  const rows = fixtureRows('claude-code-session.jsonl').filter((_, i) => i !== 8);
  const clean = file(rows);
  assert.deepEqual(clean[0]?.output.type === 'keep' && clean[0].output.records[0]?.flags, [
    'branches_skipped',
  ]);
  const gap = sessionGroups(claudeCode, 'claude-code-session.jsonl', [8, 5]);
  assert.deepEqual(gap[0]?.units, [0, 1, 2, 3, 4, 6, 7, 9, 10, 11]);
  assert.deepEqual(gap[0]?.output.type === 'keep' && gap[0].output.records[0]?.flags, [
    'branches_skipped',
    'lines_missing',
  ]);
});

test('claude-code: a session that ends on an API error line has that error; a snapshot-only file has no conversation', () => {
  const base = { sessionId: SID, isSidechain: false };
  const errorRun = file([
    {
      ...base,
      type: 'user',
      uuid: 'u1',
      parentUuid: null,
      timestamp: '2026-10-10T09:00:00.000Z',
      message: { role: 'user', content: 'hi' },
    },
    {
      ...base,
      type: 'assistant',
      uuid: 'a1',
      parentUuid: 'u1',
      timestamp: '2026-10-10T09:00:01.000Z',
      message: {
        id: 'm1',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [{ type: 'text', text: 'Hello.' }],
        stop_reason: 'end_turn',
      },
    },
    {
      ...base,
      type: 'user',
      uuid: 'u2',
      parentUuid: 'a1',
      timestamp: '2026-10-10T09:00:02.000Z',
      message: { role: 'user', content: 'more' },
    },
    {
      ...base,
      type: 'assistant',
      uuid: 'a2',
      parentUuid: 'u2',
      timestamp: '2026-10-10T09:00:03.000Z',
      isApiErrorMessage: true,
      message: {
        id: 'x',
        role: 'assistant',
        model: '<synthetic>',
        content: [{ type: 'text', text: 'API Error: 529 Overloaded' }],
      },
    },
  ]);
  const r = errorRun[0]?.output.type === 'keep' ? errorRun[0].output.records[0] : undefined;
  assert.deepEqual(r?.kind === 'run' && [r.run.error, r.run.finish_reason, r.run.messages.length], [
    { type: 'api_error', message: 'API Error: 529 Overloaded', status: null },
    null,
    3,
  ]);
  assert.deepEqual(
    file([
      { type: 'file-history-snapshot', messageId: 'm', snapshot: {} },
      { type: 'summary', summary: 's', leafUuid: 'x' },
    ]),
    [
      {
        units: [0, 1],
        output: {
          type: 'drop',
          reason: 'NO_CONVERSATION',
          detail: 'no user or assistant line among 2 (only file-history-snapshot, summary)',
        },
      },
    ],
  );
});

test('claude-code: a sub-agent file (all sidechain) is its own run with the agent id in the trace id', () => {
  const g = file([
    {
      sessionId: SID,
      agentId: 'd2969342',
      isSidechain: true,
      type: 'user',
      uuid: 'u1',
      parentUuid: null,
      timestamp: '2026-10-10T09:00:00.000Z',
      message: { role: 'user', content: 'Find the tests' },
    },
    {
      sessionId: SID,
      agentId: 'd2969342',
      isSidechain: true,
      type: 'assistant',
      uuid: 'a1',
      parentUuid: 'u1',
      timestamp: '2026-10-10T09:00:01.000Z',
      message: {
        id: 'm1',
        role: 'assistant',
        model: 'claude-haiku-4-5',
        content: [{ type: 'text', text: 'tests/ has 4 files.' }],
        stop_reason: 'end_turn',
      },
    },
  ]);
  assert.equal(
    g[0]?.output.type === 'keep' && g[0].output.records[0]?.trace_id,
    `claude-code:${SID}:d2969342`,
  );
});

test('claude-code: sniff reads each line type', () => {
  const rows = fixtureRows('claude-code-session.jsonl');
  assert.deepEqual(
    rows.map((r) => claudeCode.sniff(r).confidence),
    [1, 1, 1, 1, 1, 1, 1, 1, 0.8, 1, 1, 1],
  );
  assert.equal(claudeCode.sniff({ type: 'session_meta', payload: {} }).confidence, 0);
});

test('claude-code: a line lost in the middle of the chain costs that line, not the history before it', () => {
  // line 9 (the Edit tool result, parent of the system line) was quarantined by the shell
  const [g] = sessionGroups(claudeCode, 'claude-code-session.jsonl', [9]);
  const r = g?.output.type === 'keep' ? g.output.records[0] : undefined;
  assert.deepEqual(r?.kind === 'run' && r.run.messages.map((m) => m.role), [
    'user',
    'assistant',
    'tool',
    'assistant',
    'assistant',
  ]);
  assert.deepEqual(r?.flags, ['branches_skipped', 'lines_missing']);
});

/** A line of a session as Claude Code writes it (only the keys the reading depends on). */
const line = (
  uuid: string,
  parent: string | null,
  type: 'user' | 'assistant',
  content: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  type,
  uuid,
  parentUuid: parent,
  sessionId: SID,
  isSidechain: false,
  timestamp: '2026-10-10T09:00:00.000Z',
  message:
    type === 'assistant'
      ? { id: 'msg_P', role: 'assistant', model: 'claude-opus-4-6', content, stop_reason: null }
      : { role: 'user', content },
  ...(type === 'assistant' ? { requestId: 'req_P' } : {}),
  ...extra,
});
const use = (id: string) => [{ type: 'tool_use', id, name: 'Bash', input: { command: id } }];
const result = (id: string) => [{ type: 'tool_result', tool_use_id: id, content: `out ${id}` }];

test('claude-code: a session is a tree: parallel calls whose results hang off their own tool_use lines keep every result, one API response is one turn', () => {
  const groups = file([
    line('u1', null, 'user', 'run both'),
    line('a1', 'u1', 'assistant', [{ type: 'text', text: 'Running both.' }]),
    line('a2', 'a1', 'assistant', use('t1')),
    { type: 'progress', uuid: 'p1', parentUuid: 'a2', sessionId: SID, data: {}, toolUseID: 't1' },
    line('a3', 'p1', 'assistant', use('t2')),
    // each result's parent is its own tool_use line: r1 is a sibling of the main path
    line('r1', 'a2', 'user', result('t1')),
    line('r2', 'a3', 'user', result('t2')),
    line('a4', 'r2', 'assistant', [{ type: 'text', text: 'Both ran.' }], {
      message: {
        id: 'msg_Q',
        role: 'assistant',
        content: [{ type: 'text', text: 'Both ran.' }],
        stop_reason: 'end_turn',
      },
      requestId: 'req_Q',
    }),
  ]);
  assert.equal(groups.length, 1);
  const out = groups[0]?.output;
  assert.ok(out?.type === 'keep');
  const run = out.records[0];
  assert.ok(run?.kind === 'run');
  assert.deepEqual(
    run.run.messages.map((m) => [
      m.role,
      m.role === 'tool' ? m.tool_call_id : m.content,
      m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.id) : [],
    ]),
    [
      ['user', 'run both', []],
      ['assistant', 'Running both.', ['t1', 't2']],
      ['tool', 't1', []],
      ['tool', 't2', []],
      ['assistant', 'Both ran.', []],
    ],
  );
  assert.ok(!(run.flags ?? []).includes('branches_skipped'));
});

test('claude-code: a sidechain conversation inside a session file is its own run', () => {
  const groups = file([
    line('u1', null, 'user', 'main question'),
    line('s1', null, 'user', 'sub-agent task', { isSidechain: true }),
    line('s2', 's1', 'assistant', [{ type: 'text', text: 'sub answer' }], {
      isSidechain: true,
      message: { id: 'msg_S', role: 'assistant', content: [{ type: 'text', text: 'sub answer' }] },
    }),
    line('a1', 'u1', 'assistant', [{ type: 'text', text: 'main answer' }]),
  ]);
  const runs = groups.flatMap((g) => (g.output.type === 'keep' ? g.output.records : []));
  assert.deepEqual(
    runs.map((r) => [r.trace_id, r.kind === 'run' ? r.run.messages.map((m) => m.content) : null]),
    [
      [`claude-code:${SID}`, ['main question', 'main answer']],
      [`claude-code:${SID}:sidechain-s1`, ['sub-agent task', 'sub answer']],
    ],
  );
  assert.deepEqual(groups.flatMap((g) => g.units).sort(), [0, 1, 2, 3]);
});

test('claude-code: sniff recognises a file of bookkeeping lines (queue-operation, last-prompt, progress)', () => {
  for (const row of [
    { type: 'queue-operation', operation: 'enqueue', timestamp: '2026-01-01T00:00:00Z', sessionId: SID },
    { type: 'last-prompt', lastPrompt: 'hi', leafUuid: 'x', sessionId: SID },
    { type: 'progress', uuid: 'p', parentUuid: null, sessionId: SID, data: {}, toolUseID: 't' },
  ])
    assert.equal(claudeCode.sniff(row).confidence, 1, JSON.stringify(row));
});
