import { z } from 'zod';
import { signalAdapter } from './signal-adapter.ts';

/** A reviewer's decision on a run; an `edit` carries the corrected answer. */
const HumanReviewRow = z.object({
  review_id: z.string().min(1),
  trace_id: z.string().min(1),
  timestamp: z.string(),
  reviewer: z.string().min(1),
  decision: z.enum(['approve', 'reject', 'edit', 'unsure']),
  corrected_answer: z.string().nullish(),
  comment: z.string().nullish(),
});

/** Human review ledger rows → one `human_review` signal. */
export const humanReview = signalAdapter({
  name: 'human-review',
  description: 'Human review ledger: approve / reject / edit (with corrected_answer) / unsure per trace_id',
  row: HumanReviewRow,
  sniffKeys: ['review_id', 'trace_id', 'reviewer', 'decision'],
  timestamp: (r) => r.timestamp,
  toSignal: (r) => {
    const corrected = r.corrected_answer ?? null;
    if (r.decision === 'edit' && (corrected === null || corrected.trim() === '')) {
      return {
        reason: 'SCHEMA_MISSING_FIELD',
        detail:
          '$.corrected_answer: decision "edit" needs a non-empty corrected_answer (use "reject" when there is no correction)',
      };
    }
    return {
      type: 'human_review',
      verdict: r.decision,
      corrected_answer: corrected,
      reviewer: r.reviewer,
      comment: r.comment ?? null,
    };
  },
});
