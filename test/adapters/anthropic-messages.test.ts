import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anthropicMessages } from '../../tasks/adapters/anthropic-messages.ts';
import { dropOf, keptOf, rowOutputs } from './format-fixtures.ts';

const out = rowOutputs(anthropicMessages, 'anthropic-messages.jsonl');
const STOCK = {
  type: 'function',
  function: {
    name: 'get_stock_price',
    description: 'Get the current stock price for a ticker',
    parameters: { type: 'object', properties: { ticker: { type: 'string' } }, required: ['ticker'] },
  },
};

test('anthropic-messages: thinking → reasoning, text → content, tool_use → a tool call with input JSON-encoded; cache tokens count as prompt', () => {
  assert.deepEqual(keptOf(out[0]), [
    {
      kind: 'run',
      trace_id: 'an-1',
      task_key: 'prompt:5995851b2e294472',
      recorded_at: '2026-10-06T08:00:00Z',
      flags: ['server_tools_skipped'],
      run: {
        messages: [
          { role: 'system', content: 'You are a financial assistant.' },
          { role: 'user', content: 'What is ACME trading at?' },
          {
            role: 'assistant',
            content: 'Let me check the price.',
            tool_calls: [
              {
                id: 'toolu_01',
                type: 'function',
                function: { name: 'get_stock_price', arguments: '{"ticker":"ACME"}' },
              },
            ],
            reasoning: 'I should look up the ticker ACME.',
          },
        ],
        tools: [STOCK],
        model: 'claude-sonnet-4-5-20250929',
        provider: 'anthropic',
        tier: 'cloud',
        usage: { prompt_tokens: 1400, completion_tokens: 80 },
        latency_ms: null,
        finish_reason: 'tool_calls',
        error: null,
        escalated_from: null,
      },
    },
  ]);
});

test('anthropic-messages: a tool_result inside a user turn becomes a tool message before the user text', () => {
  const [r] = keptOf(out[1]);
  assert.deepEqual(r?.kind === 'run' && r.run.messages.slice(2), [
    {
      role: 'assistant',
      content: 'Let me check the price.',
      tool_calls: [
        {
          id: 'toolu_01',
          type: 'function',
          function: { name: 'get_stock_price', arguments: '{"ticker":"ACME"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'toolu_01', content: '{"price": 42.17, "currency": "USD"}' },
    { role: 'user', content: 'Round it please.' },
    { role: 'assistant', content: 'ACME trades at about 42 USD.' },
  ]);
  assert.equal(r?.kind === 'run' && r.run.finish_reason, 'stop');
});

test('anthropic-messages: stop_reason max_tokens is finish_reason "length"; redacted thinking and error tool results are flagged', () => {
  const [r] = keptOf(out[2]);
  assert.deepEqual(r?.flags, ['redacted_thinking', 'tool_error']);
  assert.equal(r?.kind === 'run' && r.run.finish_reason, 'length');
  assert.deepEqual(r?.kind === 'run' && r.run.messages[0], { role: 'system', content: 'Be thorough.' });
  assert.deepEqual(r?.kind === 'run' && r.run.messages.at(-1), {
    role: 'assistant',
    content: 'The CAP theorem states that a distributed',
  });
});

test('anthropic-messages: an API error body becomes the run error, with the logged HTTP status', () => {
  const [r] = keptOf(out[3]);
  assert.deepEqual(r?.kind === 'run' && r.run.error, {
    type: 'overloaded_error',
    message: 'Overloaded',
    status: 529,
  });
  assert.deepEqual(r?.kind === 'run' && r.run.messages, [{ role: 'user', content: 'Hello' }]);
});

test('anthropic-messages: an image block keeps its run as a typed placeholder; a system role inside messages is quarantined with the path', () => {
  const [run] = keptOf(out[4]);
  assert.ok(run?.kind === 'run');
  assert.deepEqual(run.run.messages[0], { role: 'user', content: '[image: image/png]\n\nWhat is this?' });
  assert.ok(run.flags?.includes('media_placeholder'));
  assert.deepEqual(dropOf(out[5]), {
    reason: 'SCHEMA_ENUM',
    detail: '$.request.messages[0].role: expected "user" or "assistant", got "system"',
  });
});

test('anthropic-messages: sniff needs an Anthropic marker, so an OpenAI log does not pass for one', () => {
  assert.equal(
    anthropicMessages.sniff({
      request: { messages: [{ role: 'user', content: 'x' }] },
      response: { choices: [] },
    }).confidence,
    0.3,
  );
  assert.equal(
    anthropicMessages.sniff({ request: { messages: [] }, response: { type: 'message' } }).confidence,
    1,
  );
});

test('anthropic-messages: rich content keeps the run: text documents and search results become text, a PDF a placeholder, server-side tool blocks are skipped', () => {
  const out = anthropicMessages.toEvidence(
    {
      trace_id: 'an-rich',
      timestamp: '2026-10-06T08:00:00Z',
      request: {
        model: 'claude-sonnet-4-5',
        max_tokens: 1024,
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'document',
                source: { type: 'text', media_type: 'text/plain', data: 'The grass is green.' },
                title: 'Facts',
                citations: { enabled: true },
              },
              {
                type: 'document',
                source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' },
              },
              {
                type: 'search_result',
                source: 'https://example.com/sky',
                title: 'Sky',
                content: [{ type: 'text', text: 'The sky is blue.' }],
              },
              { type: 'text', text: 'What colours are named?' },
            ],
          },
        ],
      },
      response: {
        id: 'msg_R',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'colours' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
          {
            type: 'text',
            text: 'Green and blue.',
            citations: [{ type: 'char_location', cited_text: 'green' }],
          },
        ],
        stop_reason: 'end_turn',
        usage: { input_tokens: 10, output_tokens: 4 },
      },
    },
    { stream: 's', sourceFile: 'x.jsonl', index: 0 },
  );
  const [run] = keptOf(out);
  assert.ok(run?.kind === 'run');
  assert.deepEqual(run.run.messages, [
    {
      role: 'user',
      content:
        'Facts\n\nThe grass is green.\n\n[document: application/pdf]\n\nSky\n\nhttps://example.com/sky\n\nThe sky is blue.\n\nWhat colours are named?',
    },
    { role: 'assistant', content: 'Green and blue.' },
  ]);
  for (const f of ['media_placeholder', 'server_tool_calls_skipped']) assert.ok(run.flags?.includes(f), f);
});
