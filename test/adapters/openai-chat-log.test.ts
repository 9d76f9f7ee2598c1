import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openaiChatLog } from '../../tasks/adapters/openai-chat-log.ts';
import { dropOf, keptOf, rowOutputs } from './format-fixtures.ts';

const out = rowOutputs(openaiChatLog, 'openai-chat-log.jsonl');
const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const CALL = {
  id: 'call_w1',
  type: 'function',
  function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
};

test('openai-chat-log: a tool-call response becomes a run whose last turn calls the tool, arguments kept as a JSON string', () => {
  assert.deepEqual(keptOf(out[0]), [
    {
      kind: 'run',
      trace_id: 'oa-1',
      task_key: 'prompt:4fde36390aad55d5',
      recorded_at: '2026-10-05T09:00:00Z',
      flags: [],
      run: {
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: "What's the weather in Paris?" },
          { role: 'assistant', content: null, tool_calls: [CALL] },
        ],
        tools: [WEATHER],
        model: 'gpt-4o-2024-08-06',
        provider: null,
        tier: 'unknown',
        usage: { prompt_tokens: 82, completion_tokens: 17 },
        latency_ms: null,
        finish_reason: 'tool_calls',
        error: null,
        escalated_from: null,
      },
    },
  ]);
});

test('openai-chat-log: developer role, text parts and a tool result read liberally; the completion id is the trace id when none is logged', () => {
  const [r] = keptOf(out[1]);
  assert.equal(r?.trace_id, 'chatcmpl-AAA2');
  assert.equal(r?.kind === 'run' && r.run.finish_reason, 'stop');
  assert.deepEqual(r?.kind === 'run' && r.run.messages, [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: "What's the weather in Paris?" },
    { role: 'assistant', content: null, tool_calls: [CALL] },
    { role: 'tool', tool_call_id: 'call_w1', content: '{"temp_c":18,"sky":"cloudy"}' },
    { role: 'assistant', content: 'It is 18 °C and cloudy in Paris.' },
  ]);
  // the same first user message: both calls of one conversation share a task key
  assert.equal(r?.task_key, keptOf(out[0])[0]?.task_key);
});

test('openai-chat-log: finish_reason "length" is kept (truncated), and response.created dates a row without a timestamp', () => {
  const [r] = keptOf(out[2]);
  assert.equal(r?.trace_id, 'chatcmpl-AAA3');
  assert.equal(r?.recorded_at, 1790157600);
  assert.equal(r?.kind === 'run' && r.run.finish_reason, 'length');
});

test('openai-chat-log: an API error (wrapped, or logged in place of the response) becomes the run error', () => {
  const a = keptOf(out[3])[0];
  const b = keptOf(out[4])[0];
  assert.deepEqual(a?.kind === 'run' && [a.run.messages, a.run.error], [
    [{ role: 'user', content: 'Summarise this ticket.' }],
    { type: 'requests', message: 'Rate limit reached for gpt-4o', status: 429 },
  ]);
  // type null → the code names the error
  assert.deepEqual(b?.kind === 'run' && b.run.error, {
    type: 'server_error',
    message: 'The server had an error while processing your request.',
    status: null,
  });
});

test('openai-chat-log: broken tool-call arguments are kept for the exporters to judge; extra choices are flagged', () => {
  const [r] = keptOf(out[5]);
  assert.deepEqual(r?.flags, ['extra_choices']);
  const last = r?.kind === 'run' ? r.run.messages.at(-1) : undefined;
  assert.deepEqual(last, {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_r1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Rome"' } },
    ],
  });
});

test('openai-chat-log: a malformed row drops with the JSON path of the bad field; an image part keeps its run as a placeholder', () => {
  assert.deepEqual(dropOf(out[6]), {
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.request.messages: Invalid input: expected array, received undefined',
  });
  const [run] = keptOf(out[7]);
  assert.ok(run?.kind === 'run');
  assert.deepEqual(run.run.messages[0], { role: 'user', content: 'What is in this picture?\n\n[image]' });
});

test('openai-chat-log: sniff tells a chat log from other request/response rows', () => {
  assert.equal(openaiChatLog.sniff({ request: { messages: [] }, response: { choices: [] } }).confidence, 0.9);
  assert.equal(
    openaiChatLog.sniff({ request: { messages: [] }, response: null, error: { message: 'x' } }).confidence,
    0.9,
  );
  assert.equal(openaiChatLog.sniff({ request: { prompt: 'x' } }).confidence, 0);
});
