import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsFlag } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** An automated auditor's pass / fail / uncertain verdict on a run, with its confidence. */
const AuditorVerdictRow = z.object({
  trace_id: z.string().min(1),
  timestamp: z.string(),
  auditor: z.string().min(1),
  verdict: z.enum(['pass', 'fail', 'uncertain']),
  confidence: z.number().min(0).max(1),
  rationale: z.string().nullish(),
});

const KNOWN = ['trace_id', 'timestamp', 'auditor', 'verdict', 'confidence', 'rationale'];

/** Auditor verdicts per trace → one `auditor_verdict` signal. */
export const auditorVerdict: Adapter = {
  name: 'auditor-verdict',
  description: 'Automated auditor verdicts (pass / fail / uncertain + confidence 0..1) per trace_id',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['trace_id', 'auditor', 'verdict', 'confidence'], 'auditor-verdict'),
  toEvidence(row): AdapterOutput {
    const read = readInput(AuditorVerdictRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    return {
      type: 'keep',
      records: [
        {
          kind: 'signal',
          trace_id: r.trace_id,
          task_key: null,
          recorded_at: r.timestamp,
          flags: unknownFieldsFlag(row, KNOWN),
          signal: { type: 'auditor_verdict', verdict: r.verdict, confidence: r.confidence, auditor: r.auditor },
        },
      ],
    };
  },
};
