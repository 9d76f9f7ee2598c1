import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageIn, toChatMessage, toToolDef, ToolDefIn } from '../../tasks/adapters/openai-messages.ts';

const convert = (m: unknown): unknown => toChatMessage(MessageIn.parse(m));

test('openai-messages: assistant without content, with a refusal, with reasoning, with null tool_calls', () => {
  assert.deepEqual(
    convert({
      role: 'assistant',
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
    }),
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
    },
  );
  assert.deepEqual(convert({ role: 'assistant', content: null, refusal: 'I cannot help with that.' }), {
    role: 'assistant',
    content: 'I cannot help with that.',
  });
  assert.deepEqual(convert({ role: 'assistant', content: 'x', reasoning_content: 'think' }), {
    role: 'assistant',
    content: 'x',
    reasoning: 'think',
  });
  assert.deepEqual(convert({ role: 'assistant', content: 'x', tool_calls: null, annotations: [] }), {
    role: 'assistant',
    content: 'x',
  });
});

test('openai-messages: null user / tool content reads as empty text; tool `name` is not kept', () => {
  assert.deepEqual(convert({ role: 'user', content: null }), { role: 'user', content: '' });
  assert.deepEqual(convert({ role: 'tool', tool_call_id: 'c', name: 'f', content: null }), {
    role: 'tool',
    tool_call_id: 'c',
    content: '',
  });
});

test('openai-messages: tool definitions keep only what is given', () => {
  assert.deepEqual(toToolDef(ToolDefIn.parse({ function: { name: 'f' } })), {
    type: 'function',
    function: { name: 'f' },
  });
  assert.deepEqual(
    toToolDef(
      ToolDefIn.parse({
        type: 'function',
        function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true },
      }),
    ),
    {
      type: 'function',
      function: { name: 'f', description: 'd', parameters: { type: 'object' } },
    },
  );
});
