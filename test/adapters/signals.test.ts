import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditorVerdict } from '../../tasks/adapters/auditor-verdict.ts';
import { errorEvent } from '../../tasks/adapters/error-event.ts';
import { humanReview } from '../../tasks/adapters/human-review.ts';
import { reward } from '../../tasks/adapters/reward.ts';
import { testResult } from '../../tasks/adapters/test-result.ts';
import { toolOutcome } from '../../tasks/adapters/tool-outcome.ts';

const ctx = (stream: string) => ({ stream, sourceFile: `data/_kb/${stream}/2026-10-05.jsonl`, index: 0 });

test('tool-outcome: an exit code becomes a tool_exit signal', () => {
  const row = {
    trace_id: 'tr_1',
    timestamp: '2026-10-05T14:46:47.330Z',
    tool: 'pytest',
    command: 'pytest tests/test_slugify.py',
    exit_code: 1,
    duration_ms: 800,
  };
  assert.deepEqual(toolOutcome.toEvidence(row, ctx('tool_outcomes')), {
    type: 'keep',
    records: [
      {
        kind: 'signal',
        trace_id: 'tr_1',
        task_key: null,
        recorded_at: '2026-10-05T14:46:47.330Z',
        flags: [],
        signal: { type: 'tool_exit', tool: 'pytest', exit_code: 1 },
      },
    ],
  });
  assert.deepEqual(toolOutcome.toEvidence({ ...row, exit_code: 1.5 }, ctx('tool_outcomes')), {
    type: 'drop',
    reason: 'SCHEMA_TYPE',
    detail: '$.exit_code: Invalid input: expected int, received number',
  });
  assert.deepEqual(toolOutcome.toEvidence({ ...row, tool: undefined }, ctx('tool_outcomes')), {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.tool: Invalid input: expected string, received undefined',
  });
});

test('test-result: counts become a test_result signal; a count as text drops', () => {
  const row = {
    trace_id: 'tr_2',
    timestamp: '2026-10-05T17:53:15.025Z',
    runner: 'pytest',
    suite: 'tests/test_median.py',
    passed: 10,
    failed: 0,
    skipped: 1,
    duration_ms: 6958,
  };
  assert.deepEqual(testResult.toEvidence(row, ctx('test_results')), {
    type: 'keep',
    records: [
      {
        kind: 'signal',
        trace_id: 'tr_2',
        task_key: null,
        recorded_at: '2026-10-05T17:53:15.025Z',
        flags: [],
        signal: { type: 'test_result', passed: 10, failed: 0, suite: 'tests/test_median.py' },
      },
    ],
  });
  assert.deepEqual(testResult.toEvidence({ ...row, passed: '12' }, ctx('test_results')), {
    type: 'drop',
    reason: 'SCHEMA_TYPE',
    detail: '$.passed: Invalid input: expected number, received string',
  });
  assert.deepEqual(testResult.toEvidence({ ...row, failed: -1 }, ctx('test_results')), {
    type: 'drop',
    reason: 'SCHEMA_INVALID',
    detail: '$.failed: Too small: expected number to be >=0',
  });
  const noSuite = testResult.toEvidence(
    { trace_id: 'tr_2', timestamp: 't', passed: 1, failed: 2, retries: 3 },
    ctx('test_results'),
  );
  assert.ok(noSuite.type === 'keep' && noSuite.records[0]?.kind === 'signal');
  assert.deepEqual(noSuite.records[0].signal, { type: 'test_result', passed: 1, failed: 2, suite: null });
  assert.deepEqual(noSuite.records[0].flags, ['unknown_fields']);
});

test('human-review: an edit carries its corrected answer; an edit without one drops', () => {
  const row = {
    review_id: 'rv_1',
    trace_id: 'tr_3',
    timestamp: '2026-10-05T14:47:24+02:00',
    reviewer: 'a.haddad',
    decision: 'edit',
    corrected_answer: 'Refunds within 30 days.',
    comment: 'Fixed the policy details.',
  };
  assert.deepEqual(humanReview.toEvidence(row, ctx('human_reviews')), {
    type: 'keep',
    records: [
      {
        kind: 'signal',
        trace_id: 'tr_3',
        task_key: null,
        recorded_at: '2026-10-05T14:47:24+02:00',
        flags: [],
        signal: {
          type: 'human_review',
          verdict: 'edit',
          corrected_answer: 'Refunds within 30 days.',
          reviewer: 'a.haddad',
          comment: 'Fixed the policy details.',
        },
      },
    ],
  });
  const approve = humanReview.toEvidence(
    { review_id: 'rv_2', trace_id: 'tr_3', timestamp: 't', reviewer: 'm.chen', decision: 'approve' },
    ctx('human_reviews'),
  );
  assert.ok(approve.type === 'keep' && approve.records[0]?.kind === 'signal');
  assert.deepEqual(approve.records[0].signal, {
    type: 'human_review',
    verdict: 'approve',
    corrected_answer: null,
    reviewer: 'm.chen',
    comment: null,
  });
  assert.deepEqual(humanReview.toEvidence({ ...row, corrected_answer: '  ' }, ctx('human_reviews')), {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail:
      '$.corrected_answer: decision "edit" needs a non-empty corrected_answer (use "reject" when there is no correction)',
  });
  assert.deepEqual(humanReview.toEvidence({ ...row, decision: 'approved' }, ctx('human_reviews')), {
    type: 'drop',
    reason: 'SCHEMA_ENUM',
    detail: '$.decision: Invalid option: expected one of "approve"|"reject"|"edit"|"unsure"',
  });
  assert.deepEqual(humanReview.toEvidence({ ...row, trace_id: undefined }, ctx('human_reviews')), {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.trace_id: Invalid input: expected string, received undefined',
  });
});

test('auditor-verdict: verdict and confidence become an auditor_verdict signal; bad enum and range drop', () => {
  const row = {
    trace_id: 'tr_4',
    timestamp: '2026-10-05T19:31:22.731Z',
    auditor: 'factuality-auditor-v1',
    verdict: 'fail',
    confidence: 0.88,
    rationale: 'fail at 0.88',
  };
  assert.deepEqual(auditorVerdict.toEvidence(row, ctx('auditor_verdicts')), {
    type: 'keep',
    records: [
      {
        kind: 'signal',
        trace_id: 'tr_4',
        task_key: null,
        recorded_at: '2026-10-05T19:31:22.731Z',
        flags: [],
        signal: {
          type: 'auditor_verdict',
          verdict: 'fail',
          confidence: 0.88,
          auditor: 'factuality-auditor-v1',
        },
      },
    ],
  });
  assert.deepEqual(auditorVerdict.toEvidence({ ...row, verdict: 'maybe' }, ctx('auditor_verdicts')), {
    type: 'drop',
    reason: 'SCHEMA_ENUM',
    detail: '$.verdict: Invalid option: expected one of "pass"|"fail"|"uncertain"',
  });
  assert.deepEqual(auditorVerdict.toEvidence({ ...row, confidence: 88 }, ctx('auditor_verdicts')), {
    type: 'drop',
    reason: 'SCHEMA_INVALID',
    detail: '$.confidence: Too big: expected number to be <=1',
  });
});

test('reward: an environment reward becomes a reward signal; out of [0, 1] drops', () => {
  const row = {
    trace_id: 'tr_5',
    timestamp: '2026-10-05T13:30:22.355Z',
    environment: 'support-sim',
    reward: 0.5,
    episode_id: 'ep_1',
  };
  assert.deepEqual(reward.toEvidence(row, ctx('rewards')), {
    type: 'keep',
    records: [
      {
        kind: 'signal',
        trace_id: 'tr_5',
        task_key: null,
        recorded_at: '2026-10-05T13:30:22.355Z',
        flags: [],
        signal: { type: 'reward', value: 0.5, source: 'support-sim' },
      },
    ],
  });
  assert.deepEqual(reward.toEvidence({ ...row, reward: 1.7 }, ctx('rewards')), {
    type: 'drop',
    reason: 'SCHEMA_INVALID',
    detail: '$.reward: Too big: expected number to be <=1',
  });
  assert.deepEqual(reward.toEvidence({ ...row, environment: undefined }, ctx('rewards')), {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.environment: Invalid input: expected string, received undefined',
  });
});

test('error-event: an incident becomes an error signal with its epoch-ms time passed through raw', () => {
  const row = {
    event_id: 'evt_1',
    trace_id: 'tr_6',
    occurred_at: 1791197828096,
    severity: 'critical',
    service: 'llm-gateway',
    error_type: 'tool_timeout',
    message: 'post-processing rejected the response',
  };
  assert.deepEqual(errorEvent.toEvidence(row, ctx('error_events')), {
    type: 'keep',
    records: [
      {
        kind: 'signal',
        trace_id: 'tr_6',
        task_key: null,
        recorded_at: 1791197828096,
        flags: [],
        signal: {
          type: 'error',
          error_type: 'tool_timeout',
          message: 'post-processing rejected the response',
        },
      },
    ],
  });
  assert.deepEqual(
    errorEvent.toEvidence({ ...row, occurred_at: '2026-10-05T10:00:00Z' }, ctx('error_events')),
    {
      type: 'drop',
      reason: 'SCHEMA_TYPE',
      detail: '$.occurred_at: Invalid input: expected number, received string',
    },
  );
  assert.deepEqual(errorEvent.toEvidence({ ...row, severity: 'warning' }, ctx('error_events')), {
    type: 'drop',
    reason: 'SCHEMA_ENUM',
    detail: '$.severity: Invalid option: expected one of "error"|"critical"',
  });
});
