import { test } from 'node:test';
import assert from 'node:assert/strict';
import { citedIds, isRefusal, validateAnswer } from '../../tasks/replay/validate.ts';

const A = 'rag_aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'rag_bbbbbbbbbbbbbbbbbbbbbbbb-1';
const C = 'rag_cccccccccccccccccccccccc';

test('text: a non-empty answer citing a document it was given is valid and grounded on the cited ids', () => {
  assert.deepEqual(
    validateAnswer('text', `  Refunds take 30 days [${A}], see also [${B}] and [${A}].  `, [A, B], 'stop'),
    {
      ok: true,
      answer: `Refunds take 30 days [${A}], see also [${B}] and [${A}].`,
      groundedOn: [A, B],
    },
  );
});

test('text: without retrieval no citation is needed', () => {
  assert.deepEqual(validateAnswer('text', 'Hello.', [], 'stop'), {
    ok: true,
    answer: 'Hello.',
    groundedOn: [],
  });
});

test('text: each failure has its reason code and a detail', () => {
  assert.deepEqual(validateAnswer('text', '  \n', [A], 'stop'), {
    ok: false,
    reason: 'EMPTY_ANSWER',
    detail: 'the reply has no text',
    answer: '  \n',
  });
  assert.deepEqual(validateAnswer('text', null, [A], 'stop'), {
    ok: false,
    reason: 'EMPTY_ANSWER',
    detail: 'the reply has no text',
    answer: '',
  });
  assert.deepEqual(validateAnswer('text', 'Refunds take', [A], 'length'), {
    ok: false,
    reason: 'TRUNCATED',
    detail: 'the reply was cut off at max_tokens (finish_reason "length"); raise replay.max_tokens',
    answer: 'Refunds take',
  });
  assert.deepEqual(validateAnswer('text', "I'm sorry, but I can't help with that.", [A], 'stop'), {
    ok: false,
    reason: 'REFUSAL',
    detail: 'the reply is refusal boilerplate: "I\'m sorry, but I can\'t help with that."',
    answer: "I'm sorry, but I can't help with that.",
  });
  assert.deepEqual(validateAnswer('text', 'Refunds take 30 days.', [A, B], 'stop'), {
    ok: false,
    reason: 'NO_CITATION',
    detail: `cites none of the 2 documents it was given (expected at least one id in square brackets, e.g. [${A}])`,
    answer: 'Refunds take 30 days.',
  });
  assert.deepEqual(validateAnswer('text', `Refunds take 30 days [${A}] [${C}].`, [A], 'stop'), {
    ok: false,
    reason: 'UNKNOWN_CITATION',
    detail: `cites ${C}, which was not in the prompt (given: ${A})`,
    answer: `Refunds take 30 days [${A}] [${C}].`,
  });
});

test('refusal boilerplate is told apart from answers that open with an apology', () => {
  for (const t of [
    'As an AI language model, I cannot do that.',
    'I cannot help with this request.',
    'Sorry, I am unable to assist.',
    'I’m sorry, but I won’t comply.',
    "I don't have access to your orders.",
  ])
    assert.equal(isRefusal(t), true, t);
  for (const t of [
    "I'm sorry about that! Your order is within our 30-day refund window.",
    'Yes - size exchanges are free within 30 days.',
    'The query cannot use an index here; add one on created_at.',
  ])
    assert.equal(isRefusal(t), false, t);
});

test('citedIds: unique ids in order of first appearance, chunk suffix kept', () => {
  assert.deepEqual(citedIds(`see ${B}, [${A}] and ${B}`), [B, A]);
});

test('json: a fenced or bare {"answer", "sources"} object is valid; structured answers are pretty-printed', () => {
  assert.deepEqual(
    validateAnswer('json', `\`\`\`json\n{"answer": "30 days", "sources": ["${A}"]}\n\`\`\``, [A], 'stop'),
    { ok: true, answer: '30 days', groundedOn: [A] },
  );
  assert.deepEqual(
    validateAnswer(
      'json',
      `{"answer": {"days": 30}, "sources": ["${A}", "${A}"], "confidence": 0.9}`,
      [A],
      'stop',
    ),
    { ok: true, answer: '{\n  "days": 30\n}', groundedOn: [A] },
  );
  assert.deepEqual(validateAnswer('json', '{"answer": "hi", "sources": []}', [], 'stop'), {
    ok: true,
    answer: 'hi',
    groundedOn: [],
  });
});

test('json: invalid JSON, a schema mismatch, refusals and bad sources are each reported', () => {
  const bad = validateAnswer('json', 'The answer is 30 days.', [A], 'stop');
  assert.equal(bad.ok, false);
  assert.equal((bad as { reason: string }).reason, 'INVALID_JSON');
  assert.match(
    (bad as { detail: string }).detail,
    /^the reply is not JSON \(.+\); got "The answer is 30 days\."$/,
  );
  assert.deepEqual(validateAnswer('json', '{"answer": "", "sources": []}', [], 'stop'), {
    ok: false,
    reason: 'SCHEMA_MISMATCH',
    detail:
      'expected {"answer": …, "sources": [ids]}; at answer: Too small: expected string to have >=1 characters',
    answer: '{"answer": "", "sources": []}',
  });
  assert.deepEqual(validateAnswer('json', '{"answer": "x"}', [], 'stop'), {
    ok: false,
    reason: 'SCHEMA_MISMATCH',
    detail:
      'expected {"answer": …, "sources": [ids]}; at sources: Invalid input: expected array, received undefined',
    answer: '{"answer": "x"}',
  });
  assert.deepEqual(validateAnswer('json', '{"answer": "As an AI, I cannot.", "sources": []}', [], 'stop'), {
    ok: false,
    reason: 'REFUSAL',
    detail: 'the answer is refusal boilerplate: "As an AI, I cannot."',
    answer: 'As an AI, I cannot.',
  });
  assert.deepEqual(validateAnswer('json', '{"answer": "x", "sources": ["document 1"]}', [A], 'stop'), {
    ok: false,
    reason: 'UNKNOWN_CITATION',
    detail: `cites document 1, which was not in the prompt (given: ${A})`,
    answer: 'x',
  });
  assert.deepEqual(validateAnswer('json', '{"answer": "x", "sources": []}', [A], 'stop'), {
    ok: false,
    reason: 'NO_CITATION',
    detail: `cites none of the 1 documents it was given (expected at least one id in square brackets, e.g. [${A}])`,
    answer: 'x',
  });
});
