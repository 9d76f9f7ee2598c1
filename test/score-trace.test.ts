import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EvidenceRecord } from '../schemas/evidence-record.ts';
import { ScoredRun } from '../schemas/scored-run.ts';
import { scoreTrace } from '../tasks/phases/score/core.ts';
import { editSignal, mkRun, runEvidence } from './exports/fixture.ts';

type SignalEv = Extract<EvidenceRecord, { kind: 'signal' }>;

test('scoreTrace builds exactly what ScoredRun.parse returns, field order included (it is not re-validated per row)', () => {
  const run = runEvidence(mkRun({ id: 'tr-1', category: 'accepted', task: 'T' })) as Extract<
    EvidenceRecord,
    { kind: 'run' }
  >;
  const review = editSignal('tr-1', 'Use the corrected answer.');
  const signals: SignalEv[] = [
    {
      schema_version: 1,
      evidence_id: review.evidence_id,
      stream: review.stream,
      trace_id: 'tr-1',
      task_key: null,
      recorded_at: null,
      flags: ['x'],
      provenance: review.provenance,
      kind: 'signal',
      signal: review.signal,
    },
    {
      schema_version: 1,
      evidence_id: 'ev_000000000000000000000001',
      stream: 'rewards',
      trace_id: 'tr-1',
      task_key: null,
      recorded_at: null,
      flags: [],
      provenance: review.provenance,
      kind: 'signal',
      signal: { type: 'reward', value: 0.9, source: null },
    },
  ];
  const { run: scored, drops } = scoreTrace('tr-1', { runs: [run], signals });
  assert.deepEqual(drops, []);
  assert.ok(scored);
  assert.equal(scored.category, 'partially_accepted');
  const parsed = ScoredRun.parse(JSON.parse(JSON.stringify(scored)));
  assert.equal(JSON.stringify(scored), JSON.stringify(parsed));
});
