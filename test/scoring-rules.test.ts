import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { RunBody, SignalBody } from '../schemas/evidence-record.ts';
import { applyRules, deriveFacts, RULES } from '../tasks/phases/score/rules.ts';

const run = (over: Partial<RunBody> = {}): RunBody => ({
  messages: [
    { role: 'user', content: 'Fix the failing test' },
    { role: 'assistant', content: 'Done: the off-by-one in range() is fixed.' },
  ],
  tools: [],
  model: 'gpt-4o',
  provider: 'openai',
  tier: 'cloud',
  usage: { prompt_tokens: 10, completion_tokens: 5 },
  latency_ms: 100,
  finish_reason: 'stop',
  error: null,
  escalated_from: null,
  ...over,
});

const review = (
  verdict: 'approve' | 'reject' | 'edit' | 'unsure',
  corrected: string | null = null,
): SignalBody => ({
  type: 'human_review',
  verdict,
  corrected_answer: corrected,
  reviewer: 'r1',
  comment: null,
});
const tests = (passed: number, failed: number): SignalBody => ({
  type: 'test_result',
  passed,
  failed,
  suite: null,
});
const reward = (value: number): SignalBody => ({ type: 'reward', value, source: null });
const auditor = (verdict: 'pass' | 'fail' | 'uncertain', confidence: number): SignalBody => ({
  type: 'auditor_verdict',
  verdict,
  confidence,
  auditor: null,
});
const tool = (exit_code: number): SignalBody => ({ type: 'tool_exit', tool: 'bash', exit_code });
const errorEvent: SignalBody = { type: 'error', error_type: 'timeout', message: 'tool timed out' };

/** One case per rule: the run and signals that make exactly that rule decide. */
const CASES: Record<string, { run: RunBody; signals: SignalBody[]; category: string }> = {
  'R01-api-error': {
    run: run({
      error: { type: 'rate_limit', message: '429', status: 429 },
      messages: [{ role: 'user', content: 'q' }],
    }),
    signals: [review('approve')],
    category: 'rejected',
  },
  'R02-error-event': { run: run(), signals: [errorEvent, tests(3, 0)], category: 'rejected' },
  'R03-empty-output': {
    run: run({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '  ' },
      ],
    }),
    signals: [tests(1, 0)],
    category: 'rejected',
  },
  'R04-truncated': {
    run: run({ finish_reason: 'length' }),
    signals: [review('approve')],
    category: 'rejected',
  },
  'R05-human-reject': { run: run(), signals: [review('reject'), tests(5, 0)], category: 'rejected' },
  'R06-human-edit': {
    run: run(),
    signals: [review('edit', 'The fixed answer.')],
    category: 'partially_accepted',
  },
  'R07-human-approve-vs-strong-negative': {
    run: run(),
    signals: [review('approve'), tests(2, 1)],
    category: 'needs_human_review',
  },
  'R08-human-approve': {
    run: run(),
    signals: [review('approve'), auditor('fail', 0.9)],
    category: 'accepted',
  },
  'R09-human-unsure': {
    run: run(),
    signals: [review('unsure'), tests(3, 0)],
    category: 'needs_human_review',
  },
  'R10-conflicting-strong-signals': {
    run: run(),
    signals: [tests(3, 0), reward(0)],
    category: 'needs_human_review',
  },
  'R11-strong-negative': { run: run(), signals: [tests(1, 2), auditor('pass', 0.95)], category: 'rejected' },
  'R12-strong-positive-weak-negative': {
    run: run(),
    signals: [reward(1), auditor('fail', 0.7)],
    category: 'partially_accepted',
  },
  'R13-strong-positive': { run: run(), signals: [tests(4, 0), tool(0)], category: 'accepted' },
  'R14-auditor-fail': { run: run(), signals: [auditor('fail', 0.6), tool(0)], category: 'rejected' },
  'R15-tool-failure': { run: run(), signals: [tool(2)], category: 'rejected' },
  'R16-auditor-pass': { run: run(), signals: [auditor('pass', 0.8)], category: 'accepted' },
  'R17-auditor-uncertain': { run: run(), signals: [auditor('pass', 0.79)], category: 'needs_human_review' },
  'R17a-agent-submitted': {
    run: run(),
    signals: [{ type: 'tool_exit', tool: 'swe-agent:submitted', exit_code: 0 }],
    category: 'partially_accepted',
  },
  'R18-no-signal': { run: run(), signals: [], category: 'needs_human_review' },
  'R19-default-deny': { run: run(), signals: [tool(0)], category: 'needs_human_review' },
};

test('every rule in the table has a case, and the case makes exactly that rule decide', () => {
  assert.deepEqual(Object.keys(CASES).sort(), RULES.map((r) => r.id).sort());
  for (const rule of RULES) {
    const c = CASES[rule.id];
    assert.ok(c, rule.id);
    const v = applyRules(deriveFacts(c.run, c.signals));
    assert.equal(v.decided_by, rule.id, `case for ${rule.id} was decided by ${v.decided_by}`);
    assert.equal(v.category, c.category, rule.id);
    assert.equal(v.category, rule.category, rule.id);
    assert.equal(v.rules_fired[0], rule.id);
  }
});

test('rules_fired lists every rule that held, in precedence order, without the default row', () => {
  const v = applyRules(deriveFacts(run({ finish_reason: 'length' }), [review('reject'), tests(0, 1)]));
  assert.deepEqual(v.rules_fired, ['R04-truncated', 'R05-human-reject', 'R11-strong-negative']);
  assert.equal(v.category, 'rejected');
});

test('human reject beats passing tests; an edit without a correction is not an edit', () => {
  assert.equal(applyRules(deriveFacts(run(), [tests(10, 0), review('reject')])).category, 'rejected');
  const v = applyRules(deriveFacts(run(), [review('edit', '   ')]));
  assert.equal(v.decided_by, 'R09-human-unsure');
});

test('a run whose last assistant turn only calls tools is not empty', () => {
  const r = run({
    messages: [
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
    ],
  });
  assert.equal(deriveFacts(r, []).emptyOutput, false);
  assert.equal(deriveFacts(run({ messages: [{ role: 'user', content: 'q' }] }), []).emptyOutput, true);
});

test('docs/scoring.md documents every rule id of the table', () => {
  const doc = readFileSync(new URL('../docs/scoring.md', import.meta.url), 'utf8');
  for (const r of RULES) assert.ok(doc.includes(r.id), `docs/scoring.md does not mention ${r.id}`);
});

test("the score contract's RULE_IDS are the rule table's ids, in precedence order", async () => {
  const { RULE_IDS } = await import('../tasks/phases/score/contract.ts');
  assert.deepEqual(
    RULES.map((r) => r.id),
    [...RULE_IDS],
  );
});
