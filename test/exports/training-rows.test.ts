import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '../../schemas/chat.ts';
import { isCourtesyText } from '../../tasks/lib/export/courtesy.ts';
import { repairRoles } from '../../tasks/lib/export/roles.ts';
import { submittedPatch, taskText, toSubstance } from '../../tasks/lib/export/substance.ts';
import { declaredTools } from '../../tasks/lib/export/tools.ts';
import { splitPair } from '../../tasks/lib/export/pairs.ts';

// Cases written from the formats' documentation: OpenAI chat messages (tool_calls with
// JSON-string arguments, tool messages answering a tool_call_id), chat-template alternation rules
// (Mistral / Gemma: roles must alternate user/assistant after an optional first system turn) and
// SWE-agent's submit step (it prints the diff it submits).

const call = (id: string, name: string, args: string) => ({
  role: 'assistant' as const,
  content: null,
  tool_calls: [{ id, type: 'function' as const, function: { name, arguments: args } }],
});

test('pleasantries are courtesy; anything with a fact, a number or a question about the task is not', () => {
  for (const t of [
    "You're welcome! Have a great day!",
    'Thank you! If you need anything else, just let me know. Have a fantastic day!',
    "You're welcome. If you have any other questions or need further assistance in the future, feel free to reach out. Safe travels!",
    'No problem at all! Take your time.',
    'Goodbye!',
    '¡Gracias! Que tengas un buen día.',
  ])
    assert.equal(isCourtesyText(t), true, t);
  for (const t of [
    'Your booking is cancelled; the refund of $120 will arrive in 5 days.',
    'You can take a total of 4 free checked bags.',
    'Could you please provide your user ID?',
    'Thanks! Your flight HAT136 is now booked.',
    // a polite opener followed by the answer is the answer
    'Of course, the capital of France is Paris.',
    'Thank you for waiting, your reservation has been cancelled.',
    'Take care to close the file handle before you delete the file.',
    'I hope this helps: set strict to false in tsconfig.',
    'If you need the refund faster, contact your bank and ask them to expedite it.',
    "You're welcome, the gate changed to B twelve.",
    'Sure thing, I have rebooked you on the later flight.',
    'Have a look at the logs first.',
    '',
  ])
    assert.equal(isCourtesyText(t), false, t);
});

test('role repair merges what templates cannot take and records each repair; orphan and missing results are refused', () => {
  const r = repairRoles([
    { role: 'system', content: 'A' },
    { role: 'system', content: 'B' },
    { role: 'assistant', content: 'Hi, how can I help?' },
    { role: 'user', content: 'demo' },
    { role: 'user', content: 'task' },
    { role: 'assistant', content: 'Looking.' },
    call('c1', 'f', '{}'),
    { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    { role: 'system', content: 'late rule' },
    { role: 'assistant', content: 'Done.' },
  ]);
  assert.equal(r.type, 'keep');
  assert.deepEqual(r.type === 'keep' && r.messages, [
    { role: 'system', content: 'A\n\nB\n\nlate rule' },
    { role: 'user', content: 'demo\n\ntask' },
    { ...call('c1', 'f', '{}'), content: 'Looking.' },
    { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    { role: 'assistant', content: 'Done.' },
  ]);
  assert.deepEqual(r.type === 'keep' && r.repairs, [
    { code: 'MERGE_SYSTEM', at: 1 },
    { code: 'DROP_LEADING_ASSISTANT', at: 2 },
    { code: 'MERGE_USER', at: 4 },
    { code: 'MERGE_ASSISTANT', at: 6 },
    { code: 'HOIST_SYSTEM', at: 8 },
  ]);
  const missing = repairRoles([
    { role: 'user', content: 'q' },
    call('c1', 'f', '{}'),
    { role: 'user', content: 'hello?' },
  ]);
  assert.deepEqual(missing.type === 'drop' && [missing.reason, missing.detail], [
    'TOOL_RESULT_MISSING',
    'messages[1] calls f ("c1"), but messages[2] (user) comes before any result',
  ]);
  const twice = repairRoles([
    { role: 'user', content: 'q' },
    call('c1', 'f', '{}'),
    { role: 'tool', tool_call_id: 'c1', content: 'a' },
    { role: 'tool', tool_call_id: 'c1', content: 'b' },
  ]);
  assert.equal(twice.type === 'drop' && twice.reason, 'TOOL_RESULT_ORPHAN');
});

test('substance: the trailing courtesy exchange is cut; the task is the user turn right before the model works', () => {
  const msgs: ChatMessage[] = [
    { role: 'user', content: 'Here is a demonstration…' },
    { role: 'user', content: 'Fix the issue' },
    call('c1', 'submit', '{}'),
    {
      role: 'tool',
      tool_call_id: 'c1',
      content: '\r\ndiff --git a/x.py b/x.py\r\n--- a/x.py\r\n+++ b/x.py\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n',
    },
    { role: 'user', content: 'Thanks!' },
    { role: 'assistant', content: "You're welcome!" },
  ];
  assert.equal(toSubstance(msgs).length, 3);
  assert.equal(taskText(msgs), 'Fix the issue');
  assert.equal(submittedPatch(msgs), 'diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b');
  assert.equal(submittedPatch(msgs.slice(0, 3)), null);
});

test("tools: the source's definitions are kept; a called tool without one gets a derived JSON Schema", () => {
  const source = [{ type: 'function' as const, function: { name: 'bash', parameters: { type: 'object' } } }];
  const { tools, derived } = declaredTools(source, [
    [
      call('a', 'bash', '{"command":"ls"}'),
      call('b', 'open', '{"path":"x.py","line":3}'),
      call('c', 'open', '{"path":"y.py"}'),
    ],
  ]);
  assert.deepEqual(derived, ['open']);
  assert.deepEqual(tools[1], {
    type: 'function',
    function: {
      name: 'open',
      description:
        'Derived by distill from 2 calls in this row: the source recorded no definition of this tool, so the parameters are the JSON Schema of the arguments seen.',
      parameters: {
        type: 'object',
        properties: { path: { type: 'string' }, line: { type: 'integer' } },
        required: ['path'],
      },
    },
  });
});

test('a pair is the shared opening plus each own continuation; call ids do not break the shared prefix', () => {
  const a: ChatMessage[] = [
    { role: 'user', content: 'Cancel H8Q05L' },
    call('call_A', 'get_reservation', '{"id":"H8Q05L"}'),
    { role: 'tool', tool_call_id: 'call_A', content: '{"cabin":"economy"}' },
    call('call_B', 'cancel', '{"id":"H8Q05L"}'),
    { role: 'tool', tool_call_id: 'call_B', content: 'ok' },
    { role: 'assistant', content: 'Cancelled.' },
  ];
  const b: ChatMessage[] = [
    { role: 'user', content: 'Cancel H8Q05L' },
    call('call_X', 'get_reservation', '{ "id": "H8Q05L" }'),
    { role: 'tool', tool_call_id: 'call_X', content: '{"cabin":"economy"}' },
    { role: 'assistant', content: 'Basic economy cannot be cancelled.' },
  ];
  const out = splitPair(a, b);
  assert.equal(out.type, 'keep');
  assert.deepEqual(out.type === 'keep' && out.prompt, a.slice(0, 3));
  assert.deepEqual(out.type === 'keep' && out.chosen, a.slice(3));
  assert.deepEqual(out.type === 'keep' && out.rejected, b.slice(3));
  const other: ChatMessage[] = [
    { role: 'user', content: 'Book a flight' },
    { role: 'assistant', content: 'Where to?' },
  ];
  const refused = splitPair(a, other);
  assert.deepEqual(refused.type === 'drop' && refused.reason, 'NO_SHARED_PROMPT');
});
