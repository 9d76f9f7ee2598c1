import type { SignalBody } from '../../schemas/evidence-record.ts';
import type { Drop } from '../lib/result.ts';

/**
 * Turns the scores of observability tools (Langfuse scores, LangSmith feedback, OpenTelemetry
 * `gen_ai.evaluation.result`) into our signals, with one rule everywhere:
 * - a human's score: a pass/fail label, a boolean or exactly 1 / 0 → `human_review` approve /
 *   reject (a correction makes it `edit`); another number in [0, 1] → `reward`; any other label →
 *   `human_review` unsure;
 * - an automated evaluator's score: a pass/fail label or boolean → `auditor_verdict` pass / fail
 *   (confidence 1: the conventions carry none); a number in [0, 1] → `reward`; any other label →
 *   `auditor_verdict` uncertain;
 * - a number outside [0, 1] (a 1-5 rating, a latency) → SIGNAL_UNMAPPABLE: we cannot tell what is
 *   good without knowing the scale.
 */

const PASS = new Set([
  'pass',
  'passed',
  'true',
  'yes',
  'correct',
  'good',
  'approve',
  'approved',
  'accept',
  'accepted',
  'thumbs_up',
  'thumbsup',
  'positive',
  'relevant',
  'helpful',
  'success',
  'succeeded',
  'resolved',
]);
const FAIL = new Set([
  'fail',
  'failed',
  'false',
  'no',
  'incorrect',
  'bad',
  'reject',
  'rejected',
  'thumbs_down',
  'thumbsdown',
  'negative',
  'not_relevant',
  'irrelevant',
  'unhelpful',
  'not_helpful',
  'failure',
  'wrong',
  'unresolved',
]);

/** pass / fail for a recognised label (case, spaces and hyphens ignored), else null. */
export function labelPolarity(label: string | boolean | null | undefined): 'pass' | 'fail' | null {
  if (typeof label === 'boolean') return label ? 'pass' : 'fail';
  if (typeof label !== 'string') return null;
  const k = label
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return PASS.has(k) ? 'pass' : FAIL.has(k) ? 'fail' : null;
}

/** What a score row says, read loosely. */
export interface ScoreReading {
  /** Evaluation / feedback name, e.g. "correctness". */
  name: string;
  value: number | boolean | null;
  label: string | null;
  comment: string | null;
  /** Who scored (a reviewer id), when known. */
  by: string | null;
  /** A human's corrected answer, when given. */
  correction: string | null;
  /** Where the score came from, for `reward.source` / `auditor`, e.g. "langfuse:annotation:correctness". */
  source: string;
}

type Mapped = { ok: true; signal: SignalBody } | { ok: false; drop: Drop };

function outOfRange(s: ScoreReading): Mapped {
  return {
    ok: false,
    drop: {
      reason: 'SIGNAL_UNMAPPABLE',
      detail: `score "${s.name}" is ${String(s.value)}, outside [0, 1], with no pass/fail label; distill cannot tell a good value on an unknown scale. Normalise it to [0, 1] or add a pass/fail label`,
    },
  };
}

/** A human's score → `human_review` or `reward`. */
export function humanScoreSignal(s: ScoreReading): Mapped {
  const comment = s.comment ?? (s.label !== null && labelPolarity(s.label) === null ? s.label : null);
  if (s.correction !== null && s.correction.trim() !== '') {
    return {
      ok: true,
      signal: {
        type: 'human_review',
        verdict: 'edit',
        corrected_answer: s.correction,
        reviewer: s.by,
        comment,
      },
    };
  }
  // a person's 1 / 0 is a thumbs up / down (that is how the UIs store booleans)
  const bool = typeof s.value === 'boolean' ? s.value : s.value === 1 ? true : s.value === 0 ? false : null;
  const polarity = labelPolarity(s.label) ?? labelPolarity(bool);
  if (polarity)
    return {
      ok: true,
      signal: {
        type: 'human_review',
        verdict: polarity === 'pass' ? 'approve' : 'reject',
        corrected_answer: null,
        reviewer: s.by,
        comment,
      },
    };
  if (typeof s.value === 'number') {
    if (s.value >= 0 && s.value <= 1)
      return { ok: true, signal: { type: 'reward', value: s.value, source: s.source } };
    return outOfRange(s);
  }
  return {
    ok: true,
    signal: { type: 'human_review', verdict: 'unsure', corrected_answer: null, reviewer: s.by, comment },
  };
}

/** An automated evaluator's score → `auditor_verdict` or `reward`. */
export function evaluatorSignal(s: ScoreReading): Mapped {
  const polarity = labelPolarity(s.label) ?? (typeof s.value === 'boolean' ? labelPolarity(s.value) : null);
  if (polarity)
    return {
      ok: true,
      signal: { type: 'auditor_verdict', verdict: polarity, confidence: 1, auditor: s.source },
    };
  if (typeof s.value === 'number') {
    if (s.value >= 0 && s.value <= 1)
      return { ok: true, signal: { type: 'reward', value: s.value, source: s.source } };
    return outOfRange(s);
  }
  return {
    ok: true,
    signal: { type: 'auditor_verdict', verdict: 'uncertain', confidence: 0, auditor: s.source },
  };
}
