import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsFlag } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

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

const KNOWN = ['review_id', 'trace_id', 'timestamp', 'reviewer', 'decision', 'corrected_answer', 'comment'];

/** Human review ledger rows → one `human_review` signal. */
export const humanReview: Adapter = {
  name: 'human-review',
  description: 'Human review ledger: approve / reject / edit (with corrected_answer) / unsure per trace_id',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['review_id', 'trace_id', 'reviewer', 'decision'], 'human-review'),
  toEvidence(row): AdapterOutput {
    const read = readInput(HumanReviewRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const corrected = r.corrected_answer ?? null;
    if (r.decision === 'edit' && (corrected === null || corrected.trim() === '')) {
      return {
        type: 'drop',
        reason: 'SCHEMA_MISSING_FIELD',
        detail: '$.corrected_answer: decision "edit" needs a non-empty corrected_answer (use "reject" when there is no correction)',
      };
    }
    return {
      type: 'keep',
      records: [
        {
          kind: 'signal',
          trace_id: r.trace_id,
          task_key: null,
          recorded_at: r.timestamp,
          flags: unknownFieldsFlag(row, KNOWN),
          signal: { type: 'human_review', verdict: r.decision, corrected_answer: corrected, reviewer: r.reviewer, comment: r.comment ?? null },
        },
      ],
    };
  },
};
