import type { Category } from '../../../schemas/category.ts';
import type { RunBody, SignalBody } from '../../../schemas/evidence-record.ts';
import type { RuleId } from './contract.ts';

/** Version of the rule table; recorded in every ScoredRun. Bump it whenever a rule changes. */
export const RULE_TABLE_VERSION = '2026.12.1';

/** Auditor confidence at or above which a `pass` counts. */
export const AUDITOR_MIN_CONFIDENCE = 0.8;
/** Reward at or above which an environment reward counts as success. */
export const REWARD_PASS = 0.5;

/** Facts derived from a run and its signals; every rule is a predicate over these. */
export interface Facts {
  apiError: boolean;
  emptyOutput: boolean;
  truncated: boolean;
  errorEvents: number;
  humanApprove: number;
  humanReject: number;
  humanEdit: number;
  humanUnsure: number;
  testsPass: number;
  testsFail: number;
  rewardPass: number;
  rewardFail: number;
  auditorPass: number;
  auditorFail: number;
  auditorUnsure: number;
  toolOk: number;
  toolFail: number;
  /** A coding agent's own exit status says it finished by submitting a non-empty patch (`<agent>:submitted`, exit 0). */
  agentSubmitted: number;
  signals: number;
}

/** One row of the table: an id, a condition, the category it gives, in precedence order. */
export interface Rule {
  id: RuleId;
  category: Category;
  description: string;
  when: (f: Facts) => boolean;
}

const strongPos = (f: Facts): boolean => f.testsPass + f.rewardPass > 0;
const strongNeg = (f: Facts): boolean => f.testsFail + f.rewardFail > 0;

/**
 * The rule table, highest precedence first. The first rule that holds decides the category; every
 * rule that holds is listed in `rules_fired`. Default-deny: a run no rule vouches for goes to
 * human review, never to training data.
 */
export const RULES: readonly Rule[] = [
  {
    id: 'R01-api-error',
    category: 'rejected',
    description: 'The call ended in an API or runtime error',
    when: (f) => f.apiError,
  },
  {
    id: 'R02-error-event',
    category: 'rejected',
    description: 'An error event was reported against the run',
    when: (f) => f.errorEvents > 0,
  },
  {
    id: 'R03-empty-output',
    category: 'rejected',
    description: 'No assistant turn, or the final assistant turn is empty with no tool calls',
    when: (f) => f.emptyOutput,
  },
  {
    id: 'R04-truncated',
    category: 'rejected',
    description: 'finish_reason is "length": the answer was cut off',
    when: (f) => f.truncated,
  },
  {
    id: 'R05-human-reject',
    category: 'rejected',
    description: 'A human reviewer rejected the run (beats any passing test)',
    when: (f) => f.humanReject > 0,
  },
  {
    id: 'R06-human-edit',
    category: 'partially_accepted',
    description: 'A human reviewer edited the answer; the correction is kept',
    when: (f) => f.humanEdit > 0,
  },
  {
    id: 'R07-human-approve-vs-strong-negative',
    category: 'needs_human_review',
    description: 'A human approved, but tests failed or the reward was low: conflicting strong signals',
    when: (f) => f.humanApprove > 0 && strongNeg(f),
  },
  {
    id: 'R08-human-approve',
    category: 'accepted',
    description: 'A human reviewer approved the run',
    when: (f) => f.humanApprove > 0,
  },
  {
    id: 'R09-human-unsure',
    category: 'needs_human_review',
    description: 'A human reviewer marked the run unsure',
    when: (f) => f.humanUnsure > 0,
  },
  {
    id: 'R10-conflicting-strong-signals',
    category: 'needs_human_review',
    description: 'Strong signals disagree (e.g. tests pass but reward is low)',
    when: (f) => strongPos(f) && strongNeg(f),
  },
  {
    id: 'R11-strong-negative',
    category: 'rejected',
    description: 'Tests failed or the environment reward was low',
    when: (f) => strongNeg(f),
  },
  {
    id: 'R12-strong-positive-weak-negative',
    category: 'partially_accepted',
    description: 'Tests passed or reward was high, but the auditor failed it or a tool exited non-zero',
    when: (f) => strongPos(f) && f.auditorFail + f.toolFail > 0,
  },
  {
    id: 'R13-strong-positive',
    category: 'accepted',
    description: 'Tests passed or the environment reward was high',
    when: (f) => strongPos(f),
  },
  {
    id: 'R14-auditor-fail',
    category: 'rejected',
    description: 'The auditor failed the run',
    when: (f) => f.auditorFail > 0,
  },
  {
    id: 'R15-tool-failure',
    category: 'rejected',
    description: 'A tool exited non-zero and nothing vouches for the run',
    when: (f) => f.toolFail > 0,
  },
  {
    id: 'R16-auditor-pass',
    category: 'accepted',
    description: `The auditor passed the run with confidence ≥ ${AUDITOR_MIN_CONFIDENCE}`,
    when: (f) => f.auditorPass > 0,
  },
  {
    id: 'R17-auditor-uncertain',
    category: 'needs_human_review',
    description: `The auditor was uncertain, or passed it with confidence < ${AUDITOR_MIN_CONFIDENCE}`,
    when: (f) => f.auditorUnsure > 0,
  },
  {
    id: 'R17a-agent-submitted',
    category: 'partially_accepted',
    description:
      'A coding agent finished by submitting a patch (its own exit status) and nothing else judges it: usable, not verified by tests',
    when: (f) => f.agentSubmitted > 0,
  },
  {
    id: 'R18-no-signal',
    category: 'needs_human_review',
    description: 'No outcome signal at all',
    when: (f) => f.signals === 0,
  },
  {
    id: 'R19-default-deny',
    category: 'needs_human_review',
    description: 'Signals exist but none vouches for the run (e.g. only successful tool exits)',
    when: () => true,
  },
];

/** The catch-all last row. */
export const DEFAULT_RULE: RuleId = 'R19-default-deny';

/** Derives the facts the rules read from a run and its joined signals. */
export function deriveFacts(run: RunBody, signals: readonly SignalBody[]): Facts {
  const f: Facts = {
    apiError: run.error !== null,
    emptyOutput: isEmptyOutput(run),
    truncated: run.finish_reason === 'length',
    errorEvents: 0,
    humanApprove: 0,
    humanReject: 0,
    humanEdit: 0,
    humanUnsure: 0,
    testsPass: 0,
    testsFail: 0,
    rewardPass: 0,
    rewardFail: 0,
    auditorPass: 0,
    auditorFail: 0,
    auditorUnsure: 0,
    toolOk: 0,
    toolFail: 0,
    agentSubmitted: 0,
    signals: signals.length,
  };
  for (const s of signals) {
    switch (s.type) {
      case 'human_review':
        if (s.verdict === 'approve') f.humanApprove++;
        else if (s.verdict === 'reject') f.humanReject++;
        else if (s.verdict === 'edit') {
          if (s.corrected_answer !== null && s.corrected_answer.trim() !== '') f.humanEdit++;
          else f.humanUnsure++; // an edit without a correction tells us nothing usable
        } else f.humanUnsure++;
        break;
      case 'test_result':
        if (s.failed > 0) f.testsFail++;
        else if (s.passed > 0) f.testsPass++;
        break;
      case 'reward':
        if (s.value >= REWARD_PASS) f.rewardPass++;
        else f.rewardFail++;
        break;
      case 'auditor_verdict':
        if (s.verdict === 'fail') f.auditorFail++;
        else if (s.verdict === 'pass' && s.confidence >= AUDITOR_MIN_CONFIDENCE) f.auditorPass++;
        else f.auditorUnsure++;
        break;
      case 'tool_exit':
        if (s.exit_code === 0) f.toolOk++;
        else f.toolFail++;
        if (s.exit_code === 0 && s.tool.endsWith(':submitted')) f.agentSubmitted++;
        break;
      case 'error':
        f.errorEvents++;
        break;
    }
  }
  return f;
}

function isEmptyOutput(run: RunBody): boolean {
  const last = [...run.messages].reverse().find((m) => m.role === 'assistant');
  if (!last || last.role !== 'assistant') return true;
  const hasCalls = (last.tool_calls?.length ?? 0) > 0;
  return !hasCalls && (last.content === null || last.content.trim() === '');
}

/** Applies the table: the deciding rule, its category, and every rule that held. */
export function applyRules(f: Facts): { category: Category; decided_by: string; rules_fired: string[] } {
  let fired = RULES.filter((r) => r.when(f));
  // the default-deny row always holds; list it only when it is what decided
  if (fired.length > 1) fired = fired.filter((r) => r.id !== DEFAULT_RULE);
  const first = fired[0] as Rule;
  return { category: first.category, decided_by: first.id, rules_fired: fired.map((r) => r.id) };
}
