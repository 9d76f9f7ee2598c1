import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openaiStoredCompletion } from '../../tasks/adapters/openai-stored-completion.ts';
import { dropOf, keptOf, rowOutputs } from './format-fixtures.ts';

const out = rowOutputs(openaiStoredCompletion, 'openai-stored-completions.jsonl');

test('openai-stored-completion: a stored completion with its messages becomes a run; metadata names the trace and the task', () => {
  assert.deepEqual(keptOf(out[0]), [
    {
      kind: 'run',
      trace_id: 'app-trace-41',
      task_key: 'faq:returns',
      recorded_at: 1790240400,
      flags: [],
      run: {
        messages: [
          { role: 'system', content: 'You answer questions about the returns policy.' },
          { role: 'user', content: 'How long do I have to return something?' },
          { role: 'assistant', content: 'You have 30 days from delivery to return an item.' },
        ],
        tools: [],
        model: 'gpt-4o-mini-2024-07-18',
        provider: 'openai',
        tier: 'cloud',
        usage: { prompt_tokens: 36, completion_tokens: 9 },
        latency_ms: null,
        finish_reason: 'stop',
        error: null,
        escalated_from: null,
      },
    },
  ]);
});

test('openai-stored-completion: without metadata.trace_id the completion id is the trace; a label in metadata is not trusted', () => {
  const [r] = keptOf(out[1]);
  assert.equal(r?.trace_id, 'chatcmpl-S2');
  assert.deepEqual(r?.flags, ['untrusted_label']);
});

test('openai-stored-completion: a completion listed without its input messages, and non-string metadata, are quarantined', () => {
  assert.deepEqual(dropOf(out[2]), {
    reason: 'NO_CONVERSATION',
    detail:
      '$.messages: stored completion chatcmpl-S3 has no input messages; fetch them with GET /v1/chat/completions/chatcmpl-S3/messages and add them as "messages"',
  });
  assert.deepEqual(dropOf(out[3]), {
    reason: 'SCHEMA_TYPE',
    detail: '$.metadata.attempt: Invalid input: expected string, received number',
  });
});

test('openai-stored-completion: sniff wants a chat.completion object; its input messages make it certain', () => {
  assert.equal(
    openaiStoredCompletion.sniff({ object: 'chat.completion', choices: [], messages: [] }).confidence,
    1,
  );
  assert.equal(openaiStoredCompletion.sniff({ object: 'chat.completion', choices: [] }).confidence, 0.8);
  assert.equal(openaiStoredCompletion.sniff({ object: 'list', data: [] }).confidence, 0);
});
