import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { decisionProblems, reviewQueue } from '../../tasks/review/queue.ts';
import { reviewCommand } from '../../tasks/review/review-command.ts';
import { UserError } from '../../tasks/lib/result.ts';
import { inProcess } from '../helpers/project.ts';
import { editSignal, makeProject, mkRun, writeScored } from '../exports/fixture.ts';

/**
 * `distill review` (issue 20): the queue of needs_human_review runs with their context, a
 * decision appended once to the human-review ledger, refusals of bad decisions, and every piece of
 * source text escaped on its way to the terminal, reports/review/queue.md and --json.
 */

const ESC = '\u001b';
const CSI = '\u009b'; // a C1 control: JSON.stringify leaves it raw, a terminal acts on it
const LEDGER = 'data/_kb/human_reviews/distill-review.jsonl';
const AT = '2024-06-01T12:00:00.000Z'; // before the fixture's as_of (2025-01-01)

/** Runs the command in-process, capturing what it prints. */
async function review(root: string, argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const ow = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    return { code: await reviewCommand(root, argv, () => new Date(AT)), out };
  } finally {
    process.stdout.write = ow;
  }
}

async function project(): Promise<string> {
  const { root } = await makeProject();
  await writeScored(root, {
    'runs.jsonl': [
      mkRun({ id: 'acc-1', category: 'accepted', prompt: 'Rotate the logs?', answer: 'Use logrotate.' }),
      mkRun({
        id: 'rev-b',
        category: 'needs_human_review',
        task: 'T2',
        prompt: `Fix the ${ESC}[31mred${ESC}[0m build ${CSI}2J now`,
        answer: 'Pin the compiler version.',
        signals: [editSignal('rev-b', `use ${ESC}]0;owned${ESC}\\ instead`)],
      }),
      mkRun({
        id: 'rev-a',
        category: 'needs_human_review',
        task: 'T1',
        prompt: 'Why does the deploy hang?',
        answer: 'The health check times out.',
      }),
      mkRun({ id: 'rej-1', category: 'rejected' }),
    ],
  });
  return root;
}

const ledgerRows = (root: string): Record<string, unknown>[] =>
  existsSync(join(root, LEDGER))
    ? readFileSync(join(root, LEDGER), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

const decide = (extra: string[]): string[] => [
  '--decide',
  'rev-a',
  '--reviewer',
  'ana',
  '--at',
  AT,
  '--ledger',
  LEDGER,
  ...extra,
];

async function refusal(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('the queue lists the needs_human_review runs (sorted, nothing else) with their context, in the terminal and reports/review/queue.md', async () => {
  const root = await project();
  const { code, out } = await review(root, []);
  assert.equal(code, 0);
  assert.match(out, /^2 runs await a human decision \(full context: reports\/review\/queue\.md\)/);
  assert.ok(out.indexOf('rev-a') < out.indexOf('rev-b'), out);
  assert.doesNotMatch(out, /acc-1|rej-1/);
  assert.match(out, /task: Why does the deploy hang\?/);
  const md = readFileSync(join(root, 'reports/review/queue.md'), 'utf8');
  assert.match(md, /^## rev-a$/m);
  assert.match(md, /^## rev-b$/m);
  assert.doesNotMatch(md, /acc-1|rej-1/);
  // the context: the task and the answer the reviewer judges, and the signal joined
  assert.ok(md.includes('Why does the deploy hang?') && md.includes('The health check times out.'), md);
  assert.match(md, /^- signals: .*edit.*/m);
  const q = JSON.parse((await review(root, ['--json'])).out) as { run_id: string; context: string }[];
  assert.deepEqual(
    q.map((e) => e.run_id),
    ['rev-a', 'rev-b'],
  );
  const jsonl = readFileSync(join(root, 'reports/review/queue.jsonl'), 'utf8').split('\n').filter(Boolean);
  assert.equal(jsonl.length, 2);
  // the pure queue agrees
  assert.deepEqual(
    reviewQueue([
      mkRun({ id: 'x', category: 'accepted' }),
      mkRun({ id: 'y', category: 'needs_human_review' }),
    ]).map((e) => e.run_id),
    ['y'],
  );
});

test('decisionProblems refuses an unknown verdict, a missing reviewer, edit without an answer and an answer without edit', () => {
  assert.deepEqual(decisionProblems({ verdict: 'approve', reviewer: 'ana', answer: null }), []);
  assert.deepEqual(decisionProblems({ verdict: 'edit', reviewer: 'ana', answer: 'fixed' }), []);
  const bad = decisionProblems({ verdict: 'maybe', reviewer: 'ana', answer: null });
  assert.equal(bad.length, 1);
  assert.match(bad[0] as string, /--verdict must be one of approve, reject, edit, unsure, got "maybe"/);
  assert.match(
    decisionProblems({ verdict: 'reject', reviewer: '  ', answer: null }).join('\n'),
    /--reviewer must name who decided/,
  );
  assert.match(
    decisionProblems({ verdict: 'edit', reviewer: 'ana', answer: null }).join('\n'),
    /--verdict edit needs the corrected answer/,
  );
  assert.match(
    decisionProblems({ verdict: 'edit', reviewer: 'ana', answer: ' \n' }).join('\n'),
    /--verdict edit needs the corrected answer/,
  );
  assert.match(
    decisionProblems({ verdict: 'approve', reviewer: 'ana', answer: 'x' }).join('\n'),
    /--answer goes with --verdict edit only/,
  );
});

test('a decision is appended to the ledger once: recording it again says "already recorded" and appends nothing', async () => {
  const root = await project();
  const first = await review(root, decide(['--verdict', 'approve', '--comment', 'checked']));
  assert.equal(first.code, 0);
  assert.match(
    first.out,
    /^recorded: approve of rev-a by ana in data\/_kb\/human_reviews\/distill-review\.jsonl \(rv_[0-9a-f]{16}\)/,
  );
  const rows = ledgerRows(root);
  assert.equal(rows.length, 1);
  assert.deepEqual(
    { ...rows[0], review_id: undefined },
    {
      review_id: undefined,
      trace_id: 'rev-a',
      timestamp: AT,
      reviewer: 'ana',
      decision: 'approve',
      comment: 'checked',
    },
  );
  const again = await review(root, decide(['--verdict', 'approve', '--comment', 'checked']));
  assert.match(again.out, /^already recorded: approve of rev-a/);
  assert.equal(ledgerRows(root).length, 1);
  // a different decision is a new row
  await review(root, decide(['--verdict', 'edit', '--answer', 'Raise the health check timeout.']));
  const after = ledgerRows(root);
  assert.equal(after.length, 2);
  assert.equal(after[1]?.corrected_answer, 'Raise the health check timeout.');
  // refusals write nothing
  await refusal(review(root, decide(['--verdict', 'maybe'])), 'USAGE', /--verdict must be one of/);
  await refusal(review(root, decide(['--verdict', 'edit'])), 'USAGE', /needs the corrected answer/);
  await refusal(
    review(root, ['--decide', 'rev-a', '--verdict', 'approve', '--at', AT, '--ledger', LEDGER]),
    'USAGE',
    /--reviewer must name who decided/,
  );
  await refusal(
    review(
      root,
      decide(['--verdict', 'approve']).map((a) => (a === 'rev-a' ? 'nope' : a)),
    ),
    'NO_SUCH_RUN',
    /run nope is not in/,
  );
  assert.equal(ledgerRows(root).length, 2);
});

test('--at after as_of is refused (build-evidence would quarantine it), and so is a time without a zone', async () => {
  const root = await project();
  await refusal(
    review(root, [
      '--decide',
      'rev-a',
      '--verdict',
      'approve',
      '--reviewer',
      'ana',
      '--ledger',
      LEDGER,
      '--at',
      '2025-06-01T00:00:00Z',
    ]),
    'USAGE',
    /the decision time 2025-06-01T00:00:00Z is after as_of 2025-01-01T00:00:00\.000Z/,
  );
  await refusal(
    review(root, [
      '--decide',
      'rev-a',
      '--verdict',
      'approve',
      '--reviewer',
      'ana',
      '--ledger',
      LEDGER,
      '--at',
      '2024-06-01T00:00:00',
    ]),
    'USAGE',
    /--at must be an ISO 8601 time with a zone/,
  );
  assert.equal(existsSync(join(root, LEDGER)), false);
});

test('a ledger whose last line is torn is refused, and left as it was', async () => {
  const root = await project();
  const path = join(root, LEDGER);
  mkdirSync(dirname(path), { recursive: true });
  const torn = '{"review_id":"rv_0000000000000000","trace_id":"rev-b","timest';
  writeFileSync(path, torn);
  await refusal(
    review(root, decide(['--verdict', 'reject'])),
    'INPUT_UNREADABLE',
    /does not end with a newline \(a torn last row\?\)/,
  );
  assert.equal(readFileSync(path, 'utf8'), torn);
});

test('an ESC (and a C1 control) in a user turn and a signal is escaped in the terminal listing, queue.md, queue.jsonl and --json', async () => {
  const root = await project();
  const unsafe = /[\u001b\u009b]/;
  const text = (await review(root, [])).out;
  assert.doesNotMatch(text, unsafe);
  assert.ok(text.includes('task: Fix the \\u001b[31mred\\u001b[0m build \\u009b2J now'), text);
  const md = readFileSync(join(root, 'reports/review/queue.md'), 'utf8');
  assert.doesNotMatch(md, unsafe);
  assert.ok(md.includes('Fix the \\u001b[31mred\\u001b[0m build \\u009b2J now'), md);
  assert.ok(md.includes('\\u001b]0;owned'), md);
  // the context keeps its line breaks (only unsafe characters are written out)
  assert.ok(md.split('\n').length > 20);
  const jsonl = readFileSync(join(root, 'reports/review/queue.jsonl'), 'utf8');
  assert.doesNotMatch(jsonl, unsafe);
  const json = (await review(root, ['--json'])).out;
  assert.doesNotMatch(json, unsafe);
  // still the same JSON value: the escapes are JSON escapes
  const q = JSON.parse(json) as { run_id: string; context: string }[];
  assert.ok(
    q
      .find((e) => e.run_id === 'rev-b')
      ?.context.includes(`Fix the ${ESC}[31mred${ESC}[0m build ${CSI}2J now`),
  );
});

test('a missing --answer-file is INPUT_UNREADABLE (exit 2) with no stack trace', async () => {
  const root = await project();
  const r = await inProcess(
    [
      'review',
      '--decide',
      'rev-a',
      '--verdict',
      'edit',
      '--reviewer',
      'x',
      '--at',
      AT,
      '--ledger',
      LEDGER,
      '--answer-file',
      '/nope.txt',
    ],
    { cwd: root },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /INPUT_UNREADABLE/);
  assert.match(r.stderr, /cannot read --answer-file \/nope\.txt \(ENOENT\)/);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, r.stderr);
  assert.equal(existsSync(join(root, LEDGER)), false);
});
