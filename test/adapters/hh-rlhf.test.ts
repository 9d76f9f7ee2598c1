import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hhRlhf, parseDialogue } from '../../tasks/adapters/hh-rlhf.ts';
import { dropOf, keptOf, rowOutputs } from './format-fixtures.ts';

const out = rowOutputs(hhRlhf, 'hh-rlhf.jsonl');

test('hh-rlhf: the shared dialogue before the last "Assistant:" is the prompt; the two answers are chosen and rejected', () => {
  assert.deepEqual(keptOf(out[0]), [
    {
      kind: 'judgment',
      trace_id: null,
      task_key: 'prompt:329bfd73688aab00',
      recorded_at: null,
      flags: [],
      judgment: {
        prompt: [{ role: 'user', content: 'What are some cuss words in english?' }],
        chosen: "I'd rather not list offensive words. Is there something specific you are trying to write?",
        rejected: 'Here is a list of them: ...',
        judge: null,
        strength: null,
      },
    },
  ]);
});

test('hh-rlhf: a multi-turn prompt keeps its earlier assistant turns', () => {
  const [r] = keptOf(out[1]);
  assert.deepEqual(r?.kind === 'judgment' && r.judgment.prompt, [
    { role: 'user', content: 'How do I make a cup of tea?' },
    { role: 'assistant', content: 'Do you have tea bags or loose leaf?' },
    { role: 'user', content: 'Tea bags.' },
  ]);
});

test('hh-rlhf: different dialogues, identical answers, a missing Assistant turn and an empty answer are quarantined', () => {
  assert.deepEqual(dropOf(out[2]), {
    reason: 'PREFERENCE_INVALID',
    detail:
      '$.rejected: its dialogue before the last "Assistant:" differs from chosen\'s; a pair must answer the same prompt',
  });
  assert.deepEqual(dropOf(out[3]), {
    reason: 'PREFERENCE_IDENTICAL',
    detail: "$.rejected: its final answer is the same text as chosen's; the pair carries no preference",
  });
  assert.deepEqual(dropOf(out[4]), {
    reason: 'PREFERENCE_INVALID',
    detail:
      '$.chosen: has no "Assistant:" turn (or text before the first speaker label); expected a "\\n\\nHuman: ...\\n\\nAssistant: ..." transcript',
  });
  assert.deepEqual(dropOf(out[5]), {
    reason: 'EMPTY_OUTPUT',
    detail: '$.chosen: the final Assistant turn is empty; a pair needs two answers',
  });
  assert.deepEqual(
    dropOf(hhRlhf.toEvidence({ chosen: 1, rejected: 'x' }, { stream: 'in', sourceFile: 'x', index: 0 })),
    { reason: 'SCHEMA_TYPE', detail: '$.chosen: Invalid input: expected string, received number' },
  );
});

test('hh-rlhf: parseDialogue needs a leading Human turn', () => {
  assert.equal(parseDialogue('Assistant: hi'), null);
  assert.equal(parseDialogue('\n\nAssistant: hi'), null);
  assert.deepEqual(parseDialogue('\n\nHuman: a\n\nAssistant: b\n\nHuman: c'), [
    { role: 'user', content: 'a' },
    { role: 'assistant', content: 'b' },
    { role: 'user', content: 'c' },
  ]);
});

test('hh-rlhf: speaker labels never stay inside a turn, however the transcript writes them', () => {
  const out = hhRlhf.toEvidence(
    {
      // no blank line before the first label, one newline before a later one, an indented label
      chosen:
        'Human: Hi there\nAssistant: Hello! How can I help?\n\nHuman: Name a colour.\n  Assistant: Blue.',
      rejected:
        'Human: Hi there\nAssistant: Hello! How can I help?\n\nHuman: Name a colour.\n  Assistant: Seven.\n\nHuman: That is a number.',
    },
    { stream: 'hh', sourceFile: 'x.jsonl', index: 0 },
  );
  assert.ok(out.type === 'keep');
  const j = out.records[0];
  assert.ok(j?.kind === 'judgment');
  assert.deepEqual(j.judgment.prompt, [
    { role: 'user', content: 'Hi there' },
    { role: 'assistant', content: 'Hello! How can I help?' },
    { role: 'user', content: 'Name a colour.' },
  ]);
  assert.deepEqual([j.judgment.chosen, j.judgment.rejected], ['Blue.', 'Seven.']);
  for (const t of [...j.judgment.prompt.map((m) => m.content), j.judgment.chosen, j.judgment.rejected])
    assert.doesNotMatch(t ?? '', /\b(Human|Assistant):/);
  assert.deepEqual(j.flags, ['turns_after_answer_dropped']);
});
