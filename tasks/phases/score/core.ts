import { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import {
  SCHEMA_VERSION as SCORED_V,
  type JoinedSignal,
  type ScoredRun,
} from '../../../schemas/scored-run.ts';
import { type Reason } from './contract.ts';
import { applyRules, deriveFacts, RULE_TABLE_VERSION } from './rules.ts';

type RunEv = Extract<EvidenceRecord, { kind: 'run' }>;
type SignalEv = Extract<EvidenceRecord, { kind: 'signal' }>;

/** Evidence of one trace: its run row(s) and the signals that judge it. */
export interface TraceGroup {
  runs: RunEv[];
  signals: SignalEv[];
}

/** A drop at the score stage, tied to the evidence row it concerns. */
export interface ScoreDrop {
  reason: Reason;
  detail: string;
  evidence: EvidenceRecord;
  ref: string | null;
}

const byId = <T extends { evidence_id: string }>(a: T, b: T): number =>
  a.evidence_id < b.evidence_id ? -1 : a.evidence_id > b.evidence_id ? 1 : 0;

/**
 * Pure core: one trace's evidence → a ScoredRun, or drops. Several different run rows for one
 * trace_id are an ID_CONFLICT for all of them (never last-wins).
 */
export function scoreTrace(traceId: string, g: TraceGroup): { run: ScoredRun | null; drops: ScoreDrop[] } {
  const runs = [...g.runs].sort(byId);
  const signals = [...g.signals].sort(byId);
  if (runs.length === 0) {
    return {
      run: null,
      drops: signals.map((s) => ({
        reason: 'ORPHAN_SIGNAL' as const,
        detail: `no run with trace_id ${traceId} to attach this ${s.signal.type} signal to`,
        evidence: s,
        ref: null,
      })),
    };
  }
  if (runs.length > 1) {
    const ids = runs.map((r) => r.evidence_id).join(', ');
    return {
      run: null,
      drops: [
        ...runs.map((r) => ({
          reason: 'ID_CONFLICT' as const,
          detail: `trace_id ${traceId} has ${runs.length} different run rows (${ids}); none is trusted`,
          evidence: r as EvidenceRecord,
          ref: traceId,
        })),
        ...signals.map((s) => ({
          reason: 'ID_CONFLICT' as const,
          detail: `signal for trace_id ${traceId}, whose run rows conflict`,
          evidence: s as EvidenceRecord,
          ref: traceId,
        })),
      ],
    };
  }
  const r = runs[0] as RunEv;
  const facts = deriveFacts(
    r.run,
    signals.map((s) => s.signal),
  );
  const verdict = applyRules(facts);
  const edit = signals.find(
    (s) =>
      s.signal.type === 'human_review' &&
      s.signal.verdict === 'edit' &&
      (s.signal.corrected_answer ?? '').trim() !== '',
  );
  const correction = edit && edit.signal.type === 'human_review' ? edit.signal.corrected_answer : null;
  const joined: JoinedSignal[] = signals.map((s) => ({
    evidence_id: s.evidence_id,
    stream: s.stream,
    signal: s.signal,
    provenance: s.provenance,
  }));
  // built from validated evidence in ScoredRun's field order (what parse would return, byte for
  // byte; test/score.test.ts checks it), so it is not re-validated row by row
  const scored: ScoredRun = {
    schema_version: SCORED_V,
    run_id: traceId,
    evidence_id: r.evidence_id,
    stream: r.stream,
    task_key: r.task_key,
    recorded_at: r.recorded_at,
    category: verdict.category,
    decided_by: verdict.decided_by,
    rules_fired: verdict.rules_fired,
    rule_table_version: RULE_TABLE_VERSION,
    correction: verdict.category === 'partially_accepted' ? correction : null,
    run: r.run,
    signals: joined,
    flags: r.flags,
    provenance: r.provenance,
  };
  return { run: scored, drops: [] };
}
