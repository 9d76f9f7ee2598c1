import { CATEGORIES } from '../schemas/category.ts';
import type { DistillConfig } from '../schemas/config.ts';
import { EvidenceRecord, SCHEMA_VERSION as EVIDENCE_V } from '../schemas/evidence-record.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../schemas/quarantine-record.ts';
import { ScoredRun, SCHEMA_VERSION as SCORED_V, type JoinedSignal } from '../schemas/scored-run.ts';
import { EVIDENCE_DIR, SCORED_DIR } from './lib/layout.ts';
import { quarantineRow } from './lib/quarantine.ts';
import { readJsonlFiles } from './lib/jsonl-read.ts';
import { Progress, n } from './lib/log.ts';
import { MANIFEST, manifestText, readManifest } from './lib/manifest.ts';
import { bump, sortedCounts, type PhaseResult } from './lib/phase.ts';
import { manifestEntries, StagedDir } from './lib/staged-dir.ts';
import { applyRules, deriveFacts, RULE_TABLE_VERSION } from './scoring-rules.ts';


/** Reason codes this phase can give. */
export const SCORE_REASONS = ['ID_CONFLICT', 'DUPLICATE_RECORD', 'ORPHAN_SIGNAL', 'MISSING_TRACE_ID'] as const;

type RunEv = Extract<EvidenceRecord, { kind: 'run' }>;
type SignalEv = Extract<EvidenceRecord, { kind: 'signal' }>;

/** Evidence of one trace: its run row(s) and the signals that judge it. */
export interface TraceGroup {
  runs: RunEv[];
  signals: SignalEv[];
}

/** A drop at the score stage, tied to the evidence row it concerns. */
export interface ScoreDrop {
  reason: (typeof SCORE_REASONS)[number];
  detail: string;
  evidence: EvidenceRecord;
  ref: string | null;
}

const byId = <T extends { evidence_id: string }>(a: T, b: T): number => (a.evidence_id < b.evidence_id ? -1 : a.evidence_id > b.evidence_id ? 1 : 0);

/**
 * Pure core: one trace's evidence → a ScoredRun, or drops. Several different run rows for one
 * trace_id are an ID_CONFLICT for all of them (never last-wins).
 */
export function scoreTrace(traceId: string, g: TraceGroup): { run: ScoredRun | null; drops: ScoreDrop[] } {
  const runs = [...g.runs].sort(byId);
  const signals = [...g.signals].sort(byId);
  if (runs.length === 0) {
    return { run: null, drops: signals.map((s) => ({ reason: 'ORPHAN_SIGNAL' as const, detail: `no run with trace_id ${traceId} to attach this ${s.signal.type} signal to`, evidence: s, ref: null })) };
  }
  if (runs.length > 1) {
    const ids = runs.map((r) => r.evidence_id).join(', ');
    return {
      run: null,
      drops: [
        ...runs.map((r) => ({ reason: 'ID_CONFLICT' as const, detail: `trace_id ${traceId} has ${runs.length} different run rows (${ids}); none is trusted`, evidence: r as EvidenceRecord, ref: traceId })),
        ...signals.map((s) => ({ reason: 'ID_CONFLICT' as const, detail: `signal for trace_id ${traceId}, whose run rows conflict`, evidence: s as EvidenceRecord, ref: traceId })),
      ],
    };
  }
  const r = runs[0] as RunEv;
  const facts = deriveFacts(r.run, signals.map((s) => s.signal));
  const verdict = applyRules(facts);
  const edit = signals.find((s) => s.signal.type === 'human_review' && s.signal.verdict === 'edit' && (s.signal.corrected_answer ?? '').trim() !== '');
  const correction = edit && edit.signal.type === 'human_review' ? edit.signal.corrected_answer : null;
  const joined: JoinedSignal[] = signals.map((s) => ({ evidence_id: s.evidence_id, stream: s.stream, signal: s.signal, provenance: s.provenance }));
  const scored = ScoredRun.parse({
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
  });
  return { run: scored, drops: [] };
}

/** Partition path of a scored run, by the run's day. */
export function scoredPartition(r: ScoredRun): string {
  return r.recorded_at ? `${r.recorded_at.slice(0, 4)}/${r.recorded_at.slice(5, 7)}/${r.recorded_at.slice(8, 10)}/runs.jsonl` : 'undated/runs.jsonl';
}

/** The score phase: join evidence by trace_id, apply the rule table, write runs by day. */
export async function score(root: string, _config: DistillConfig): Promise<PhaseResult> {
  const manifest = await readManifest(root, EVIDENCE_DIR, 'npm run build-evidence');
  const evidenceInputs = manifest.files.filter((f) => !f.path.includes('/_'));
  const groups = new Map<string, TraceGroup>();
  const byReason: Record<string, number> = {};
  const drops: ScoreDrop[] = [];
  let inRows = 0;
  let passthrough = 0;
  const progress = new Progress('score: reading evidence', evidenceInputs.reduce((s, f) => s + (f.rows ?? 0), 0));
  for await (const e of readJsonlFiles<EvidenceRecord>(root, evidenceInputs.map((f) => f.path))) {
    inRows++;
    progress.tick();
    if (e.kind === 'document' || e.kind === 'judgment') {
      passthrough++; // read by the exports straight from evidence
      continue;
    }
    if (e.trace_id === null) {
      drops.push({ reason: 'MISSING_TRACE_ID', detail: `${e.kind} row has no trace_id, so it cannot be joined`, evidence: e, ref: null });
      continue;
    }
    let g = groups.get(e.trace_id);
    if (!g) groups.set(e.trace_id, (g = { runs: [], signals: [] }));
    if (e.kind === 'run') g.runs.push(e);
    else g.signals.push(e);
  }
  progress.end();
  const staged = await StagedDir.begin(root, SCORED_DIR);
  try {
    const traceIds = [...groups.keys()].sort();
    const byCategory: Record<string, number> = Object.fromEntries(CATEGORIES.map((c) => [c, 0]));
    const byRule: Record<string, number> = {};
    const parts = new Map<string, ScoredRun[]>();
    let signalsJoined = 0;
    for (const id of traceIds) {
      const res = scoreTrace(id, groups.get(id) as TraceGroup);
      drops.push(...res.drops);
      if (res.run) {
        bump(byCategory, res.run.category);
        bump(byRule, res.run.decided_by);
        signalsJoined += res.run.signals.length;
        const p = scoredPartition(res.run);
        let list = parts.get(p);
        if (!list) parts.set(p, (list = []));
        list.push(res.run);
      }
    }
    for (const p of [...parts.keys()].sort()) {
      const w = staged.writer(p);
      for (const r of parts.get(p) as ScoredRun[]) await w.write(r); // sorted by run_id
    }
    drops.sort((a, b) => byId(a.evidence, b.evidence));
    const q = staged.writer('_quarantine.jsonl');
    for (const d of drops) {
      bump(byReason, d.reason);
      const ev = d.evidence;
      await q.write(
        quarantineRow({ reason: d.reason, detail: d.detail, file: ev.provenance.source_file, index: ev.provenance.line_offset, offset: null, bytes: null, lineSha: null, sig: ev.provenance.sig_hash, record: ev.evidence_id, trace: ev.trace_id, ref: d.ref }, 'score'),
      );
    }
    const runsOut = Object.values(byCategory).reduce((a, b) => a + b, 0);
    const summaryDoc = { schema_version: 1, rule_table_version: RULE_TABLE_VERSION, runs: runsOut, by_category: byCategory, by_deciding_rule: sortedCounts(byRule), quarantined: drops.length, by_reason: sortedCounts(byReason) };
    await staged.writeFile('_summary.json', `${JSON.stringify(summaryDoc, null, 2)}\n`);
    const written = await staged.closeAll();
    const outputs = manifestEntries(SCORED_DIR, written);
    const rowsOnDisk = outputs.filter((o) => !o.path.includes('/_')).reduce((s, o) => s + (o.rows ?? 0), 0);
    if (rowsOnDisk !== runsOut) throw new Error(`self-check failed: wrote ${rowsOnDisk} scored runs, counted ${runsOut}`);
    const consumed = runsOut + signalsJoined + passthrough;
    if (consumed + drops.length !== inRows) throw new Error(`accounting broke: ${inRows} evidence rows ≠ ${consumed} used + ${drops.length} quarantined`);
    const parameters = { rule_table_version: RULE_TABLE_VERSION };
    const schemaVersions = { EvidenceRecord: EVIDENCE_V, ScoredRun: SCORED_V, QuarantineRecord: QUARANTINE_V };
    await staged.writeFile(
      MANIFEST,
      manifestText({ schema_version: 1, phase: 'score', parameters, schema_versions: schemaVersions, inputs: evidenceInputs, files: outputs, counts: { evidence_in: inRows, runs: runsOut, signals_joined: signalsJoined, passthrough, quarantined: drops.length } }),
    );
    await staged.publish();
    const cat = CATEGORIES.map((c) => `${n(byCategory[c] ?? 0)} ${c.replace(/_/g, ' ')}`).join(', ');
    return {
      parameters,
      schemaVersions,
      inputs: evidenceInputs,
      outputs,
      counts: { in: inRows, out: consumed, quarantined: drops.length, by_reason: sortedCounts(byReason) },
      stats: { runs: runsOut, signals_joined: signalsJoined, passthrough, ...Object.fromEntries(Object.entries(byCategory).map(([k, v]) => [`category.${k}`, v])) },
      summary: `${n(runsOut)} runs → ${cat}${drops.length ? `; ${n(drops.length)} evidence rows quarantined` : ''}`,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
