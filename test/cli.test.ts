import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS, exitCodeLines, helpText } from '../tasks/cli/commands.ts';
import { ERROR_CODES } from '../tasks/lib/result.ts';
import { cliInProcess } from './helpers/project.ts';
import { REPLAY_EVAL_USAGE } from '../tasks/replay/eval-command.ts';
import { REPLAY_USAGE } from '../tasks/replay/replay-command.ts';

test('lazily loaded commands keep the usage lines their modules print', () => {
  assert.equal(COMMANDS['replay']?.usage, REPLAY_USAGE);
  assert.equal(COMMANDS['replay-eval']?.usage, REPLAY_EVAL_USAGE);
});

test('--help lists every command with its summary', () => {
  const help = helpText(100);
  const flat = help.replace(/\s+/g, ' ');
  for (const [name, c] of Object.entries(COMMANDS)) {
    assert.ok(flat.includes(` ${c.usage} `), `help lacks ${name}`);
    assert.ok(flat.includes(c.summary.replace(/\s+/g, ' ')), `help lacks the summary of ${name}`);
  }
});

test('--help is wrapped: no line wider than 100 columns off a TTY, nor than a narrow terminal', () => {
  for (const width of [100, 72])
    for (const line of helpText(width).split('\n'))
      assert.ok(line.length <= width, `${line.length} > ${width}: ${line}`);
});

test('--help and `distill help exit-codes` print every error code under its exit code', async () => {
  const help = helpText(100);
  for (const [code, { exit, meaning }] of Object.entries(ERROR_CODES)) {
    const table = exitCodeLines(100);
    const at = table.findIndex((l) => l.trim() === `${code}: ${meaning}`);
    assert.ok(at > 0, `${code} is not in the table`);
    const header = table.slice(0, at).findLast((l) => /^ {2}\d/.test(l)) as string;
    assert.equal(Number(header.trim().split(/\s+/)[0]), exit, `${code} listed under the wrong exit code`);
    assert.ok(help.includes(`      ${code}: ${meaning}`));
  }
  const r = await cliInProcess(['help', 'exit-codes']);
  assert.equal(r.code, 0);
  assert.equal(r.out, `${exitCodeLines(100).join('\n')}\n`);
});

test('CLI manners: a mistyped command or option gets "did you mean"; help of one command', async () => {
  const cmd = await cliInProcess(['scroe']);
  assert.equal(cmd.code, 2);
  assert.equal(
    cmd.err,
    '✖ unknown command "scroe"; did you mean "score"? Run `distill --help` for the list. [USAGE]\n',
  );
  const opt = await cliInProcess(['export-sft', '--incude-partial']);
  assert.equal(opt.code, 2);
  assert.equal(
    opt.err,
    '✖ Unknown option \'--incude-partial\'; did you mean "--include-partial"?\nUsage: distill export-sft [--include-partial] [USAGE]\n',
  );
  const one = await cliInProcess(['help', 'sniff']);
  assert.equal(one.code, 0);
  assert.match(
    one.out,
    /^Usage: distill sniff <file>\.\.\. \[--json\] \[--root DIR\]\n\n {2}Name the format/,
  );
  const typo = await cliInProcess(['help', 'snif']);
  assert.equal(typo.code, 2);
  assert.equal(typo.err, '✖ no command "snif"; did you mean "sniff"? [USAGE]\n');
});
