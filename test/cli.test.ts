import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS, helpText } from '../tasks/cli/commands.ts';
import { REPLAY_EVAL_USAGE } from '../tasks/replay/eval-command.ts';
import { REPLAY_USAGE } from '../tasks/replay/replay-command.ts';

test('lazily loaded commands keep the usage lines their modules print', () => {
  assert.equal(COMMANDS['replay']?.usage, REPLAY_USAGE);
  assert.equal(COMMANDS['replay-eval']?.usage, REPLAY_EVAL_USAGE);
});

test('--help lists every command with its summary', () => {
  const help = helpText();
  for (const [name, c] of Object.entries(COMMANDS)) {
    assert.ok(help.includes(`  ${c.usage}`), `help lacks ${name}`);
    assert.ok(help.includes(c.summary), `help lacks the summary of ${name}`);
  }
});
