import assert from 'node:assert/strict';
import { test } from 'node:test';
import { litellm } from '../../tasks/adapters/litellm.ts';
import { dropOf, keptOf, rowOutputs } from './format-fixtures.ts';

const out = rowOutputs(litellm, 'litellm-spend-logs.jsonl');

test('litellm: a spend-log row with stored messages becomes a run; the served model and the latency come from the log', () => {
  assert.deepEqual(keptOf(out[0]), [
    {
      kind: 'run',
      trace_id: 'chatcmpl-L1',
      task_key: 'prompt:d9662547e9771234',
      recorded_at: '2026-10-09T08:00:00.000Z',
      flags: [],
      run: {
        messages: [
          { role: 'user', content: 'Convert 20 EUR to USD' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_fx',
                type: 'function',
                function: { name: 'convert', arguments: '{"amount":20,"from":"EUR","to":"USD"}' },
              },
            ],
          },
        ],
        tools: [],
        model: 'gpt-4o-2024-08-06',
        provider: 'openai',
        tier: 'cloud',
        usage: { prompt_tokens: 55, completion_tokens: 15 },
        latency_ms: 1250,
        finish_reason: 'tool_calls',
        error: null,
        escalated_from: null,
      },
    },
  ]);
});

test('litellm: a StandardLoggingPayload with epoch-second times; an ollama model runs locally', () => {
  const [r] = keptOf(out[1]);
  assert.deepEqual(
    r?.kind === 'run' && [r.trace_id, r.recorded_at, r.run.tier, r.run.latency_ms, r.run.messages.at(-1)],
    ['chatcmpl-L2', 1791882000.25, 'local', 2500, { role: 'assistant', content: 'Oslo.' }],
  );
});

test('litellm: status failure → the run error from error_information', () => {
  const [r] = keptOf(out[2]);
  assert.deepEqual(r?.kind === 'run' && [r.run.messages, r.run.error], [
    [{ role: 'user', content: 'Write a haiku about rain.' }],
    {
      type: 'RateLimitError',
      message: 'litellm.RateLimitError: AnthropicException - rate_limit_error',
      status: 429,
    },
  ]);
});

test('litellm: rows without stored prompts, non-chat calls and rows without startTime are quarantined', () => {
  assert.deepEqual(dropOf(out[3]), {
    reason: 'NO_CONVERSATION',
    detail:
      '$.messages: empty; LiteLLM stores messages and response only when prompt storage is on (general_settings.store_prompts_in_spend_logs)',
  });
  assert.deepEqual(dropOf(out[4]), {
    reason: 'NO_CONVERSATION',
    detail:
      '$.call_type: "aembedding" is not a chat completion (completion, acompletion, text_completion, atext_completion); nothing to learn from',
  });
  assert.deepEqual(dropOf(out[5]), {
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.startTime: required field is missing',
  });
});
