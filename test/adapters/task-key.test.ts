import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalisePrompt, promptTaskKey, taskKeyFor } from '../../tasks/adapters/task-key.ts';

test('task-key: derived keys ignore case and whitespace, so retries of one prompt group together', () => {
  assert.equal(normalisePrompt('  Where is\tmy ORDER\n NW-123456? '), 'where is my order nw-123456?');
  assert.equal(promptTaskKey('Where is my order NW-123456?'), 'prompt:1d2c7cb11b8f8bbb');
  assert.equal(promptTaskKey('where  is my order nw-123456?\n'), 'prompt:1d2c7cb11b8f8bbb');
  assert.notEqual(promptTaskKey('Where is my order NW-123457?'), 'prompt:1d2c7cb11b8f8bbb');
});

test('task-key: an explicit key wins; else the first user message; null without one', () => {
  const msgs = [
    { role: 'system' as const, content: 'sys' },
    { role: 'user' as const, content: 'Where is my order NW-123456?' },
    { role: 'user' as const, content: 'hello?' },
  ];
  assert.equal(taskKeyFor('support:order-status', msgs), 'support:order-status');
  assert.equal(taskKeyFor(null, msgs), 'prompt:1d2c7cb11b8f8bbb');
  assert.equal(taskKeyFor(undefined, [{ role: 'system', content: 'sys' }]), null);
  assert.equal(taskKeyFor('', [{ role: 'user', content: '  ' }]), null);
});
