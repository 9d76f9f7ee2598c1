import type { IdMint, Rng } from './prng.ts';
import { isoUtc, isoWithOffset } from './clock.ts';
import type { Check } from './task-spec.ts';

/**
 * Outcome plans: what happens to one attempt, chosen so the scorer sees every category —
 * accepted (approve, tests pass, reward 1, auditor pass), partially accepted (human edit),
 * rejected (API error, truncated, empty, reject, tests fail, reward 0, auditor fail, error event)
 * and needs review (no signal, conflicting signals, auditor uncertain, reviewer unsure).
 */
export const PLAN_WEIGHTS = {
  approve: 12,
  tests_pass: 9,
  reward_1: 8,
  auditor_pass: 9,
  edit: 9,
  api_error: 4,
  truncated: 3,
  empty: 2,
  reject: 5,
  tests_fail: 4,
  reward_0: 3,
  auditor_fail: 4,
  error_event: 2,
  no_signal: 10,
  conflict: 5,
  auditor_uncertain: 4,
  unsure: 3,
} as const;

/** One outcome plan. */
export type Plan = keyof typeof PLAN_WEIGHTS;

const FAILING: ReadonlySet<Plan> = new Set([
  'api_error',
  'truncated',
  'empty',
  'reject',
  'tests_fail',
  'reward_0',
  'auditor_fail',
  'error_event',
]);
const LOCAL_WEIGHTS = Object.fromEntries(
  Object.entries(PLAN_WEIGHTS).map(([k, w]) => [k, FAILING.has(k as Plan) ? w * 1.8 : w]),
) as Record<Plan, number>;
const ESCALATED_WEIGHTS: Record<Plan, number> = {
  ...PLAN_WEIGHTS,
  approve: 20,
  auditor_pass: 16,
  tests_pass: 14,
  reward_1: 12,
};

/** Whether a plan means the attempt failed (a local failure may be escalated to the cloud). */
export function isFailing(plan: Plan): boolean {
  return FAILING.has(plan);
}

/** Draws a plan for an attempt on the given tier, mapped onto the checks the task supports. */
export function drawPlan(
  rng: Rng,
  tier: 'local' | 'cloud',
  escalated: boolean,
  checks: readonly Check[],
): Plan {
  const plan = rng.weighted(escalated ? ESCALATED_WEIGHTS : tier === 'local' ? LOCAL_WEIGHTS : PLAN_WEIGHTS);
  const has = (c: Check): boolean => checks.includes(c);
  switch (plan) {
    case 'tests_pass':
      return has('tests') ? plan : has('reward') ? 'reward_1' : 'auditor_pass';
    case 'reward_1':
      return has('reward') ? plan : has('tests') ? 'tests_pass' : 'auditor_pass';
    case 'tests_fail':
      return has('tests') ? plan : has('reward') ? 'reward_0' : 'auditor_fail';
    case 'reward_0':
      return has('reward') ? plan : has('tests') ? 'tests_fail' : 'auditor_fail';
    default:
      return plan;
  }
}

/** Which answer an attempt under this plan gives. */
export function answerKind(plan: Plan, rng: Rng): 'good' | 'flawed' | 'cut' | 'empty' | 'none' {
  switch (plan) {
    case 'api_error':
      return 'none';
    case 'truncated':
      return 'cut';
    case 'empty':
      return 'empty';
    case 'edit':
    case 'reject':
    case 'tests_fail':
    case 'reward_0':
    case 'auditor_fail':
      return 'flawed';
    case 'no_signal':
    case 'auditor_uncertain':
    case 'unsure':
      return rng.chance(0.7) ? 'good' : 'flawed';
    default:
      return 'good';
  }
}

/** A signal row for one of the outcome streams. */
export interface SignalRow {
  stream:
    'tool_outcomes' | 'test_results' | 'human_reviews' | 'auditor_verdicts' | 'rewards' | 'error_events';
  row: Record<string, unknown>;
}

/** What the signal builder needs to know about the attempt. */
export interface Judged {
  traceId: string;
  /** When the run finished (epoch ms); signals come after it. */
  endMs: number;
  plan: Plan;
  checks: readonly Check[];
  correctedAnswer: string;
  suite: string | null;
  runner: string | null;
  environment: string | null;
  service: string;
}

const REVIEWERS = ['r.alvarez', 'm.chen', 'k.okafor', 's.lindqvist', 'a.haddad', 'j.mwangi'];
const AUDITORS = ['policy-auditor-v3', 'pr-auditor-v2', 'factuality-auditor-v1'];
const REJECT_COMMENTS = [
  'States a policy we do not have.',
  'Wrong result: the filter is off.',
  'Does not answer the question.',
  'Unsafe advice.',
  'Hallucinated numbers.',
];
const EDIT_COMMENTS = [
  'Fixed the policy details.',
  'Corrected the query.',
  'Rewrote for accuracy.',
  'Replaced the buggy code.',
];

/** Builds the outcome rows a plan implies. Timestamps fall within 3 hours after the run. */
export function signalRows(j: Judged, rng: Rng, ids: IdMint): SignalRow[] {
  const out: SignalRow[] = [];
  const at = (): number => j.endMs + rng.range(20_000, 3 * 3_600_000);
  const ts = (): string => isoUtc(at());
  const human = (decision: 'approve' | 'reject' | 'edit' | 'unsure'): void => {
    const ms = at();
    const row: Record<string, unknown> = {
      review_id: ids.next('rv_'),
      trace_id: j.traceId,
      // the review tool writes local time with an offset
      timestamp: rng.chance(0.3) ? isoWithOffset(ms, 2) : isoUtc(ms),
      reviewer: rng.pick(REVIEWERS),
      decision,
    };
    if (decision === 'edit') {
      row.corrected_answer = j.correctedAnswer;
      row.comment = rng.pick(EDIT_COMMENTS);
    } else if (decision === 'reject') {
      row.comment = rng.pick(REJECT_COMMENTS);
    } else if (decision === 'unsure') {
      row.comment = 'Needs a domain expert.';
    }
    out.push({ stream: 'human_reviews', row });
  };
  const auditor = (verdict: 'pass' | 'fail' | 'uncertain', lo: number, hi: number): void => {
    const confidence = Math.round((lo + rng.next() * (hi - lo)) * 100) / 100;
    out.push({
      stream: 'auditor_verdicts',
      row: {
        trace_id: j.traceId,
        timestamp: ts(),
        auditor: rng.pick(AUDITORS),
        verdict,
        confidence,
        rationale: `${verdict} at ${confidence}`,
      },
    });
  };
  const tests = (ok: boolean): void => {
    const total = rng.range(3, 40);
    const failed = ok ? 0 : rng.range(1, Math.max(1, Math.floor(total / 3)));
    const t = ts();
    out.push({
      stream: 'test_results',
      row: {
        trace_id: j.traceId,
        timestamp: t,
        runner: j.runner,
        suite: j.suite,
        passed: total - failed,
        failed,
        skipped: rng.chance(0.2) ? 1 : 0,
        duration_ms: rng.range(80, 9000),
      },
    });
    out.push({
      stream: 'tool_outcomes',
      row: {
        trace_id: j.traceId,
        timestamp: t,
        tool: j.runner ?? 'test-runner',
        command: `${j.runner ?? 'test'} ${j.suite ?? ''}`.trim(),
        exit_code: ok ? 0 : 1,
        duration_ms: rng.range(100, 9500),
      },
    });
  };
  const reward = (value: number): void => {
    out.push({
      stream: 'rewards',
      row: {
        trace_id: j.traceId,
        timestamp: ts(),
        environment: j.environment,
        reward: value,
        episode_id: ids.next('ep_', 4),
      },
    });
  };
  const errorEvent = (type: string, message: string): void => {
    out.push({
      stream: 'error_events',
      row: {
        event_id: ids.next('evt_'),
        trace_id: j.traceId,
        occurred_at: at(),
        severity: rng.chance(0.2) ? 'critical' : 'error',
        service: j.service,
        error_type: type,
        message,
      },
    });
  };
  const has = (c: Check): boolean => j.checks.includes(c);

  switch (j.plan) {
    case 'approve':
      human('approve');
      if (rng.chance(0.3)) auditor('pass', 0.8, 0.99);
      break;
    case 'tests_pass':
      tests(true);
      break;
    case 'reward_1':
      reward(1);
      break;
    case 'auditor_pass':
      auditor('pass', 0.86, 0.99);
      break;
    case 'edit':
      human('edit');
      break;
    case 'api_error':
      if (rng.chance(0.5))
        errorEvent('upstream_unavailable', 'model API returned an error; request not retried');
      break;
    case 'truncated':
    case 'empty':
    case 'no_signal':
      break;
    case 'reject':
      human('reject');
      break;
    case 'tests_fail':
      tests(false);
      break;
    case 'reward_0':
      reward(0);
      break;
    case 'auditor_fail':
      auditor('fail', 0.8, 0.97);
      break;
    case 'error_event':
      errorEvent(
        rng.pick(['guardrail_violation', 'response_validation_failed', 'tool_timeout']),
        'post-processing rejected the response',
      );
      break;
    case 'conflict':
      if (has('tests') && has('reward')) {
        tests(true);
        reward(0);
      } else if (has('tests')) {
        tests(true);
        auditor('fail', 0.9, 0.98);
      } else if (has('reward')) {
        human('approve');
        reward(0);
      } else {
        auditor('pass', 0.9, 0.98);
        human('reject');
      }
      break;
    case 'auditor_uncertain':
      auditor('uncertain', 0.35, 0.6);
      break;
    case 'unsure':
      human('unsure');
      break;
  }
  return out;
}
