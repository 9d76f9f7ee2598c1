import { z } from 'zod';
import { signalAdapter } from './signal-adapter.ts';

/** An automated auditor's pass / fail / uncertain verdict on a run, with its confidence. */
const AuditorVerdictRow = z.object({
  trace_id: z.string().min(1),
  timestamp: z.string(),
  auditor: z.string().min(1),
  verdict: z.enum(['pass', 'fail', 'uncertain']),
  confidence: z.number().min(0).max(1),
  rationale: z.string().nullish(),
});

/** Auditor verdicts per trace → one `auditor_verdict` signal. */
export const auditorVerdict = signalAdapter({
  name: 'auditor-verdict',
  description: 'Automated auditor verdicts (pass / fail / uncertain + confidence 0..1) per trace_id',
  row: AuditorVerdictRow,
  sniffKeys: ['trace_id', 'auditor', 'verdict', 'confidence'],
  timestamp: (r) => r.timestamp,
  toSignal: (r) => ({
    type: 'auditor_verdict',
    verdict: r.verdict,
    confidence: r.confidence,
    auditor: r.auditor,
  }),
});
