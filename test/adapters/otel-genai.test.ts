import assert from 'node:assert/strict';
import { test } from 'node:test';
import { otelGenai } from '../../tasks/adapters/otel-genai.ts';
import { attributeMap } from '../../tasks/adapters/otel-attributes.ts';
import { dropOf, keptOf, rowOutputs } from './format-fixtures.ts';

const out = rowOutputs(otelGenai, 'otel-genai.jsonl');
const T1 = 'otel:5b8efff798038103d269b633813fc60c';
const CALL = {
  id: 'call_VSPygqKTWdrhaFErNvMV18Yl',
  type: 'function',
  function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
};
const TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

test('otel-genai: one line with an agent span, two chat spans and a tool span → a run per chat span plus their evaluation signals', () => {
  const recs = keptOf(out[0]);
  assert.deepEqual(
    recs.map((r) => [r.kind, r.trace_id]),
    [
      ['run', `${T1}:1111111111111111`],
      ['signal', `${T1}:1111111111111111`],
      ['run', `${T1}:2222222222222222`],
      ['signal', `${T1}:2222222222222222`],
    ],
  );
  // every record notes the skipped agent / tool spans and the evaluation on a 1-5 scale that was left out
  for (const r of recs) assert.deepEqual(r.flags, ['evaluation_unmappable_skipped', 'spans_skipped']);
  assert.deepEqual(recs[0], {
    kind: 'run',
    trace_id: `${T1}:1111111111111111`,
    task_key: 'prompt:3348f0a86cac206f',
    recorded_at: 1791273600100,
    flags: ['evaluation_unmappable_skipped', 'spans_skipped'],
    run: {
      messages: [
        { role: 'system', content: 'You are a travel assistant.' },
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [CALL] },
      ],
      tools: [TOOL],
      model: 'gpt-4o-2024-08-06',
      provider: 'openai',
      tier: 'unknown',
      usage: { prompt_tokens: 97, completion_tokens: 52 },
      latency_ms: 1250,
      finish_reason: 'tool_call',
      error: null,
      escalated_from: null,
    },
  });
});

test('otel-genai: tool_call_response parts become tool messages, reasoning parts the reasoning; evaluations map to auditor verdicts and rewards', () => {
  const recs = keptOf(out[0]);
  const second = recs[2];
  assert.deepEqual(second?.kind === 'run' && second.run.messages.slice(3), [
    { role: 'tool', tool_call_id: 'call_VSPygqKTWdrhaFErNvMV18Yl', content: 'rainy, 57°F' },
    {
      role: 'assistant',
      content: 'The weather in Paris is currently rainy with a temperature of 57°F.',
      reasoning: 'The tool says rainy.',
    },
  ]);
  assert.deepEqual(recs[1]?.kind === 'signal' && [recs[1].recorded_at, recs[1].signal], [
    1791273602000,
    { type: 'auditor_verdict', verdict: 'pass', confidence: 1, auditor: 'otel:tool_choice' },
  ]);
  assert.deepEqual(recs[3]?.kind === 'signal' && recs[3].signal, {
    type: 'reward',
    value: 0.4,
    source: 'otel:relevance',
  });
});

test('otel-genai: older conventions: gen_ai.system and per-message events (gen_ai.user.message, gen_ai.choice)', () => {
  const [r] = keptOf(out[1]);
  assert.equal(r?.trace_id, 'otel:0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331');
  assert.deepEqual(r?.kind === 'run' && [r.run.messages, r.run.provider, r.run.finish_reason, r.run.usage], [
    [
      { role: 'system', content: 'You answer in one sentence.' },
      { role: 'user', content: 'What is OTLP?' },
      { role: 'assistant', content: 'OTLP is the OpenTelemetry protocol for sending telemetry.' },
    ],
    'openai',
    'stop',
    { prompt_tokens: 31, completion_tokens: 9 },
  ]);
});

test('otel-genai: indexed gen_ai.prompt.N / gen_ai.completion.N attributes with tool calls; an ERROR status is the run error', () => {
  const [r] = keptOf(out[2]);
  assert.deepEqual(r?.kind === 'run' && [r.run.messages, r.run.finish_reason, r.run.error, r.run.usage], [
    [
      { role: 'system', content: 'You book flights.' },
      { role: 'user', content: 'Book me LHR to JFK on Friday.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_f1',
            type: 'function',
            function: { name: 'book_flight', arguments: '{"from":"LHR","to":"JFK","day":"Friday"}' },
          },
        ],
      },
    ],
    'tool_calls',
    { type: 'timeout', message: 'upstream timed out after the answer', status: null },
    { prompt_tokens: 40, completion_tokens: 25 },
  ]);
});

test('otel-genai: structured (arrayValue / kvlistValue) message attributes read like JSON strings', () => {
  const [r] = keptOf(out[4]);
  assert.deepEqual(r?.kind === 'run' && [r.run.messages, r.run.finish_reason, r.run.provider], [
    [
      { role: 'user', content: 'Say hi' },
      { role: 'assistant', content: 'Hi!' },
    ],
    'end_turn',
    'anthropic',
  ]);
});

test('otel-genai: invalid JSON in a content attribute, and a line with no GenAI span, are quarantined', () => {
  const bad = dropOf(out[3]);
  assert.equal(bad.reason, 'SCHEMA_INVALID');
  // the parser's own words vary by Node version; the path and the verdict do not
  assert.match(
    bad.detail,
    /^\$\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\["gen_ai\.input\.messages"\]: is not valid JSON \(.+\)$/,
  );
  assert.deepEqual(dropOf(out[5]), {
    reason: 'NO_CONVERSATION',
    detail:
      'none of the 1 spans is a GenAI model call with message content (skipped: non-GenAI ×1); enable content capture in the instrumentation (e.g. OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true)',
  });
  assert.deepEqual(
    dropOf(otelGenai.toEvidence({ resourceLogs: [] }, { stream: 'in', sourceFile: 'x.jsonl', index: 0 })),
    {
      reason: 'SCHEMA_MISSING_FIELD',
      detail: '$.resourceSpans: expected the list of an OTLP ExportTraceServiceRequest',
    },
  );
});

test('otel-genai: a chat span recorded without content is skipped, a tool call without an id gets a synthesised one', () => {
  const span = (id: string, attrs: Record<string, string>) => ({
    traceId: 'ab',
    spanId: id,
    startTimeUnixNano: '1791273600000000000',
    attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
  });
  const row = {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              span('01', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }),
              span('02', {
                'gen_ai.operation.name': 'chat',
                'gen_ai.input.messages': JSON.stringify([
                  { role: 'user', parts: [{ type: 'text', content: 'go' }] },
                  { role: 'assistant', parts: [{ type: 'tool_call', name: 'run' }] },
                  { role: 'tool', parts: [{ type: 'tool_call_response', response: { ok: true } }] },
                ]),
                'gen_ai.output.messages': JSON.stringify([
                  { role: 'assistant', parts: [{ type: 'text', content: 'done' }] },
                ]),
              }),
            ],
          },
        ],
      },
    ],
  };
  const [r, ...rest] = keptOf(otelGenai.toEvidence(row, { stream: 'in', sourceFile: 'x.jsonl', index: 0 }));
  assert.equal(rest.length, 0);
  assert.deepEqual(r?.flags, ['spans_skipped', 'tool_call_id_synthesised']);
  assert.deepEqual(r?.kind === 'run' && r.run.messages, [
    { role: 'user', content: 'go' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'run', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'call_0', content: '{"ok":true}' },
    { role: 'assistant', content: 'done' },
  ]);
});

test('otel-genai: attribute values decode from OTLP/JSON (intValue strings, arrays, kvlists)', () => {
  assert.deepEqual(
    attributeMap([
      { key: 'a', value: { intValue: '42' } },
      { key: 'b', value: { intValue: '9007199254740993' } },
      { key: 'c', value: { arrayValue: { values: [{ stringValue: 'x' }, { boolValue: true }] } } },
      { key: 'd', value: { kvlistValue: { values: [{ key: 'k', value: { doubleValue: 0.5 } }] } } },
    ]),
    { a: 42, b: '9007199254740993', c: ['x', true], d: { k: 0.5 } },
  );
});

test('otel-genai: system instructions that are plain text (even starting with "[") are the system message', () => {
  const a = (key: string, v: string) => ({ key, value: { stringValue: v } });
  const row = {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: 'ab',
                spanId: 'cd',
                attributes: [
                  a('gen_ai.operation.name', 'chat'),
                  a('gen_ai.system_instructions', '[SYSTEM] be brief'),
                  a(
                    'gen_ai.input.messages',
                    JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]),
                  ),
                  a(
                    'gen_ai.output.messages',
                    JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'hello' }] }]),
                  ),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  const [r] = keptOf(otelGenai.toEvidence(row, { stream: 'in', sourceFile: 'x.jsonl', index: 0 }));
  assert.deepEqual(r?.kind === 'run' && r.run.messages, [
    { role: 'system', content: '[SYSTEM] be brief' },
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ]);
});

/** One chat span (current GenAI conventions) as an OTLP/JSON line. */
const span = (input: unknown[], output: unknown[]): Record<string, unknown> => ({
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: [
            {
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: 'b7ad6b7169203331',
              name: 'chat claude',
              startTimeUnixNano: '1791273600000000000',
              endTimeUnixNano: '1791273601000000000',
              attributes: [
                { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                { key: 'gen_ai.input.messages', value: { stringValue: JSON.stringify(input) } },
                { key: 'gen_ai.output.messages', value: { stringValue: JSON.stringify(output) } },
              ],
            },
          ],
        },
      ],
    },
  ],
});

test('otel-genai: server_tool_call parts are skipped (flag), a blob is a typed placeholder, two choices keep the first', () => {
  const r = otelGenai.toEvidence(
    span(
      [
        {
          role: 'user',
          parts: [
            { type: 'text', content: 'What is in this picture, and what is new about it?' },
            { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'iVBORw0KGgo=' },
          ],
        },
      ],
      [
        {
          role: 'assistant',
          parts: [
            {
              type: 'server_tool_call',
              id: 'srv_1',
              name: 'web_search',
              server_tool_call: { type: 'web_search' },
            },
            {
              type: 'server_tool_call_response',
              id: 'srv_1',
              server_tool_call_response: { type: 'web_search' },
            },
            { type: 'text', content: 'A cat; the search found nothing new.' },
          ],
          finish_reason: 'stop',
        },
        { role: 'assistant', parts: [{ type: 'text', content: 'A dog.' }], finish_reason: 'stop' },
      ],
    ),
    { stream: 's', sourceFile: 'x.jsonl', index: 0 },
  );
  const [run] = keptOf(r);
  assert.ok(run?.kind === 'run');
  assert.deepEqual(run.run.messages, [
    { role: 'user', content: 'What is in this picture, and what is new about it?\n\n[image: image/png]' },
    { role: 'assistant', content: 'A cat; the search found nothing new.' },
  ]);
  for (const f of ['extra_choices', 'media_placeholder', 'server_tool_calls_skipped'])
    assert.ok(run.flags?.includes(f), f);
});
