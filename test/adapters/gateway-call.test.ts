import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayCall } from '../../tasks/adapters/gateway-call.ts';

const CTX = { stream: 'gateway_calls', sourceFile: 'data/_kb/gateway_calls/2026-10-03.jsonl', index: 0 };

/** A cloud call escalated from a local attempt, with a tool round trip in the request. */
function row(): Record<string, unknown> {
  return {
    request_id: 'req_1',
    trace_id: 'tr_cloud',
    timestamp: '2026-10-03T10:00:00.000Z',
    request: {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are Aria.' },
        { role: 'user', content: 'Where is my order NW-123456?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'lookup_order', arguments: '{"order_id":"NW-123456"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"status":"in_transit"}' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'lookup_order', description: 'Look up an order', parameters: { type: 'object' } },
        },
      ],
      temperature: 0.2,
    },
    response: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'gpt-4o-2024-08-06',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'It is in transit.', refusal: null },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 50, completion_tokens: 6, total_tokens: 56 },
    },
    error: null,
    latency_ms: 900,
    metadata: { tier: 'cloud', provider: 'openai', app: 'support-chat', escalated_from: 'tr_local' },
  };
}

test('gateway-call: a logged call becomes one run with the response appended and a derived task key', () => {
  assert.deepEqual(gatewayCall.toEvidence(row(), CTX), {
    type: 'keep',
    records: [
      {
        kind: 'run',
        trace_id: 'tr_cloud',
        task_key: 'prompt:1d2c7cb11b8f8bbb',
        recorded_at: '2026-10-03T10:00:00.000Z',
        flags: [],
        run: {
          messages: [
            { role: 'system', content: 'You are Aria.' },
            { role: 'user', content: 'Where is my order NW-123456?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'lookup_order', arguments: '{"order_id":"NW-123456"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_1', content: '{"status":"in_transit"}' },
            { role: 'assistant', content: 'It is in transit.' },
          ],
          tools: [
            {
              type: 'function',
              function: {
                name: 'lookup_order',
                description: 'Look up an order',
                parameters: { type: 'object' },
              },
            },
          ],
          model: 'gpt-4o-2024-08-06',
          provider: 'openai',
          tier: 'cloud',
          usage: { prompt_tokens: 50, completion_tokens: 6 },
          latency_ms: 900,
          finish_reason: 'stop',
          error: null,
          escalated_from: 'tr_local',
        },
      },
    ],
  });
});

test('gateway-call: an API error keeps the run with the error, the requested model and no answer', () => {
  const r = {
    ...row(),
    task_key: 'support:order-status',
    response: null,
    error: { type: 'rate_limit_error', message: 'Rate limit reached', status: 429 },
    metadata: { tier: 'local', provider: 'vllm' },
  };
  const out = gatewayCall.toEvidence(r, CTX);
  assert.equal(out.type, 'keep');
  assert.ok(out.type === 'keep');
  const d = out.records[0];
  assert.ok(d?.kind === 'run');
  assert.equal(d.task_key, 'support:order-status');
  assert.equal(d.run.messages.length, 4);
  assert.deepEqual(d.run.error, { type: 'rate_limit_error', message: 'Rate limit reached', status: 429 });
  assert.deepEqual(
    [d.run.model, d.run.tier, d.run.provider, d.run.usage, d.run.finish_reason, d.run.escalated_from],
    ['gpt-4o', 'local', 'vllm', null, null, null],
  );
});

test('gateway-call: a truncated empty answer and broken tool arguments are kept as logged (exports judge them)', () => {
  const r = row();
  const req = r.request as { messages: Array<Record<string, unknown>> };
  req.messages[2] = {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"order_id": "NW-1' } },
    ],
  };
  (r.response as { choices: unknown[] }).choices = [
    { index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' },
  ];
  const out = gatewayCall.toEvidence(r, CTX);
  assert.ok(out.type === 'keep' && out.records[0]?.kind === 'run');
  const run = out.records[0].run;
  assert.equal(run.finish_reason, 'length');
  assert.deepEqual(run.messages.at(-1), { role: 'assistant', content: '' });
  assert.deepEqual(run.messages[2], {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"order_id": "NW-1' } },
    ],
  });
});

test('gateway-call: liberal reading — text parts joined, developer read as system, object arguments re-encoded', () => {
  const r = row();
  const req = r.request as { messages: unknown[] };
  req.messages = [
    { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Where is my order ' },
        { type: 'text', text: 'NW-123456?' },
      ],
      name: 'customer',
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_1', function: { name: 'lookup_order', arguments: { order_id: 'NW-123456' } } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', name: 'lookup_order', content: 'ok' },
  ];
  const out = gatewayCall.toEvidence(r, CTX);
  assert.ok(out.type === 'keep' && out.records[0]?.kind === 'run');
  assert.equal(out.records[0].task_key, 'prompt:1d2c7cb11b8f8bbb');
  assert.deepEqual(out.records[0].run.messages.slice(0, 4), [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Where is my order NW-123456?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'lookup_order', arguments: '{"order_id":"NW-123456"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
  ]);
});

test('gateway-call: self-asserted labels are ignored and flagged; unknown top-level fields are flagged', () => {
  const r = {
    ...row(),
    client_version: '2.14.0',
    metadata: { tier: 'cloud', provider: 'openai', review_status: 'approved' },
  };
  const out = gatewayCall.toEvidence(r, CTX);
  assert.ok(out.type === 'keep');
  assert.deepEqual(out.records[0]?.flags, ['unknown_fields', 'untrusted_label']);
  assert.equal(JSON.stringify(out.records[0]).includes('approved'), false);
});

test('gateway-call: malformed rows drop with the reason and the JSON path of the bad field', () => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    [
      'missing trace_id',
      { ...row(), trace_id: undefined },
      'SCHEMA_MISSING_FIELD',
      '$.trace_id: Invalid input: expected string, received undefined',
    ],
    [
      'messages not a list',
      { ...row(), request: { model: 'gpt-4o', messages: 'hi' } },
      'SCHEMA_TYPE',
      '$.request.messages: Invalid input: expected array, received string',
    ],
    [
      'unknown role',
      { ...row(), request: { model: 'gpt-4o', messages: [{ role: 'narrator', content: 'x' }] } },
      'SCHEMA_ENUM',
      "$.request.messages[0].role: Invalid discriminator value. Expected 'system' | 'developer' | 'user' | 'assistant' | 'tool'",
    ],
    [
      'unknown tier',
      { ...row(), metadata: { tier: 'edge' } },
      'SCHEMA_ENUM',
      '$.metadata.tier: Invalid option: expected one of "local"|"cloud"',
    ],
    [
      'latency as text',
      { ...row(), latency_ms: '900ms' },
      'SCHEMA_TYPE',
      '$.latency_ms: Invalid input: expected number, received string',
    ],
    [
      'a content part of no documented type',
      {
        ...row(),
        request: {
          model: 'gpt-4o',
          messages: [{ role: 'user', content: [{ type: 'hologram', frames: 3 }] }],
        },
      },
      'SCHEMA_TYPE',
      '$.request.messages[0].content: Invalid input: expected string, received array',
    ],
    [
      'timestamp as number',
      { ...row(), timestamp: 1790000000 },
      'SCHEMA_TYPE',
      '$.timestamp: Invalid input: expected string, received number',
    ],
  ];
  for (const [name, r, reason, detail] of cases) {
    assert.deepEqual(gatewayCall.toEvidence(r, CTX), { type: 'drop', reason, detail }, name);
  }
});

test('gateway-call: sniff is sure of a gateway row and unsure of a review row', () => {
  assert.deepEqual(gatewayCall.sniff(row()), { confidence: 1, reason: 'has all 6 gateway-call keys' });
  assert.deepEqual(gatewayCall.sniff({ review_id: 'rv', trace_id: 't', decision: 'approve' }), {
    confidence: 0.17,
    reason: 'has 1/6 gateway-call keys (missing request_id, request, response, error, metadata)',
  });
});

test('gateway-call: an image part keeps its run as a typed placeholder with its media type', () => {
  const out = gatewayCall.toEvidence(
    {
      ...row(),
      request: {
        model: 'gpt-4o',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this? ' },
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
            ],
          },
        ],
      },
    },
    { stream: 'gateway_calls', sourceFile: 'x.jsonl', index: 0 },
  );
  assert.ok(out.type === 'keep');
  const run = out.records[0];
  assert.ok(run?.kind === 'run');
  assert.deepEqual(run.run.messages[0], { role: 'user', content: 'What is this? \n\n[image: image/jpeg]' });
});
