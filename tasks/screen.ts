import type { DistillConfig } from '../schemas/config.ts';
import { EvidenceRecord, SCHEMA_VERSION as EVIDENCE_V } from '../schemas/evidence-record.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V, ScoredRun } from '../schemas/scored-run.ts';
import type { FileEntry } from '../schemas/stage-receipt.ts';
import { evidenceFiles, readPassthroughEvidence, readScoredRuns, scoredRunFiles, SCREENED_EVIDENCE, SCREENED_RUNS } from './export-inputs.ts';
import { SCREENED_DIR } from './lib/layout.ts';
import { n } from './lib/log.ts';
import { MANIFEST, manifestText } from './lib/manifest.ts';
import { bump, sortedCounts, type PhaseResult } from './lib/phase.ts';
import { quarantineRow } from './lib/quarantine.ts';
import { manifestEntries, StagedDir } from './lib/staged-dir.ts';
import { RECORD_WALL_MS, RECORD_WORK_LIMIT } from './safety/budget.ts';
import { DECONTAM_N, MIN_EXACT_WORDS } from './safety/decontaminate.ts';
import { NEAR_DUP_JACCARD } from './safety/dedup.ts';
import { BANDS, MINHASH_SEED, NUM_HASHES, ROWS, SHINGLE_WORDS } from './safety/minhash.ts';
import { DENSE_MIN_SPANS, DENSE_PER_1K, PII_TYPES } from './safety/pii.ts';
import { loadProtected, protectedSets } from './safety/protected-sets.ts';
import { screenAll, unitId, type ScreenDrop, type ScreenUnit } from './safety/screen-core.ts';
import { SECRET_RULES, SECRET_RULES_VERSION } from './safety/secret-rules.ts';
import { scoredPartition } from './score.ts';

/** The quarantine file of data/screened. */
export const SCREEN_QUARANTINE = '_quarantine.jsonl';
/** Files of the screened documents and judgments, inside data/screened. */
export const SCREENED_DOCUMENTS = 'evidence/documents.jsonl';
export const SCREENED_JUDGMENTS = 'evidence/judgments.jsonl';

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The parameters recorded in the manifest (any change to them changes what screen keeps). */
function parameters(config: DistillConfig, sets: { name: string; globs: readonly string[] }[]): Record<string, unknown> {
  return {
    secret_rules_version: SECRET_RULES_VERSION,
    secret_rules: SECRET_RULES.map((r) => `${r.id}@${r.since}`),
    secret_allowlist: [...config.secret_allowlist].sort(),
    pii: { types: [...PII_TYPES], dense_min_spans: DENSE_MIN_SPANS, dense_per_1k_chars: DENSE_PER_1K },
    dedup: { exact: 'sha256(class, NFC + collapsed whitespace + lowercase)', shingle_words: SHINGLE_WORDS, num_hashes: NUM_HASHES, bands: BANDS, rows: ROWS, seed: MINHASH_SEED, jaccard_threshold: NEAR_DUP_JACCARD },
    decontamination: { ngram: DECONTAM_N, min_exact_words: MIN_EXACT_WORDS, sets: sets.map((s) => ({ name: s.name, globs: [...s.globs] })) },
    budget: { work_chars: RECORD_WORK_LIMIT, wall_ms: RECORD_WALL_MS },
  };
}

function dropRow(d: ScreenDrop) {
  const u = d.unit;
  const p = u.record.provenance;
  const trace = u.kind === 'run' ? u.record.run_id : u.record.trace_id;
  return quarantineRow({ reason: d.reason, detail: d.detail, file: p.source_file, index: p.line_offset, offset: null, bytes: null, lineSha: null, sig: p.sig_hash, record: unitId(u), trace, ref: d.ref }, 'screen');
}

/**
 * The screen phase: reads the scored runs (data/scored-runs) and the document / judgment evidence
 * (data/evidence), keeps secrets, eval copies and duplicates out and replaces PII with
 * placeholders, and writes what survives to data/screened/ in the same shapes (runs by day under
 * runs/, documents and judgments under evidence/), with every dropped unit in _quarantine.jsonl.
 * The exports read only data/screened. Needs a global view (dedup), so it holds all units in memory.
 */
export async function screen(root: string, config: DistillConfig): Promise<PhaseResult> {
  const runFiles = await scoredRunFiles(root);
  const evFiles = await evidenceFiles(root);
  const runs = await readScoredRuns(root, runFiles);
  const { documents, judgments } = await readPassthroughEvidence(root, evFiles);
  const sets = protectedSets(config.eval_sets);
  const prot = await loadProtected(root, sets);
  const units: ScreenUnit[] = [
    ...runs.map((record) => ({ kind: 'run' as const, record })),
    ...documents.map((record) => ({ kind: 'document' as const, record })),
    ...judgments.map((record) => ({ kind: 'judgment' as const, record })),
  ];
  const res = screenAll(units, { allow: new Set(config.secret_allowlist), protectedIndex: prot.index });
  const keptRuns = res.kept.flatMap((u) => (u.kind === 'run' ? [ScoredRun.parse(u.record)] : [])).sort((a, b) => cmp(a.run_id, b.run_id));
  const keptEvidence = (kind: 'document' | 'judgment'): EvidenceRecord[] =>
    res.kept.flatMap((u) => (u.kind === kind ? [EvidenceRecord.parse(u.record)] : [])).sort((a, b) => cmp(a.evidence_id, b.evidence_id));
  const keptDocs = keptEvidence('document');
  const keptJudgments = keptEvidence('judgment');
  const drops = [...res.drops].sort((a, b) => cmp(unitId(a.unit), unitId(b.unit)) || cmp(a.reason, b.reason));
  const byReason: Record<string, number> = {};
  for (const d of drops) bump(byReason, d.reason);

  const staged = await StagedDir.begin(root, SCREENED_DIR);
  try {
    const parts = new Map<string, ScoredRun[]>();
    for (const r of keptRuns) {
      const p = `runs/${scoredPartition(r)}`;
      const list = parts.get(p);
      if (list) list.push(r);
      else parts.set(p, [r]);
    }
    for (const p of [...parts.keys()].sort()) {
      const w = staged.writer(p);
      for (const r of parts.get(p) as ScoredRun[]) await w.write(r); // sorted by run_id
    }
    for (const [file, rows] of [[SCREENED_DOCUMENTS, keptDocs], [SCREENED_JUDGMENTS, keptJudgments]] as const) {
      const w = staged.writer(file);
      for (const r of rows) await w.write(r); // sorted by evidence_id
    }
    const q = staged.writer(SCREEN_QUARANTINE);
    for (const d of drops) await q.write(dropRow(d));
    const unitsIn = units.length;
    const kept = keptRuns.length + keptDocs.length + keptJudgments.length;
    if (unitsIn !== kept + drops.length) throw new Error(`accounting broke: ${unitsIn} units ≠ ${kept} kept + ${drops.length} quarantined`);
    const stats: Record<string, number> = {
      runs_in: runs.length, documents_in: documents.length, judgments_in: judgments.length,
      runs_kept: keptRuns.length, documents_kept: keptDocs.length, judgments_kept: keptJudgments.length,
      ...res.stats,
      ...Object.fromEntries(Object.entries(res.dedup).map(([k, v]) => [`dedup.${k}`, v])),
      'protected.files': prot.files.length, 'protected.items': prot.index.items, 'protected.ngrams': prot.index.grams.size, 'protected.short_items': prot.index.exact.size, 'protected.unparsed': prot.unparsed,
    };
    const summary = {
      schema_version: 1,
      secret_rules_version: SECRET_RULES_VERSION,
      in: { runs: runs.length, documents: documents.length, judgments: judgments.length },
      kept: { runs: keptRuns.length, documents: keptDocs.length, judgments: keptJudgments.length },
      quarantined: drops.length,
      by_reason: sortedCounts(byReason),
      stats: sortedCounts(stats),
    };
    await staged.writeFile('_summary.json', `${JSON.stringify(summary, null, 2)}\n`);
    const written = await staged.closeAll();
    const outputs = manifestEntries(SCREENED_DIR, written);
    const rowsIn = (prefix: string): number => outputs.filter((o) => o.path.startsWith(prefix)).reduce((s, o) => s + (o.rows ?? 0), 0);
    if (rowsIn(SCREENED_RUNS) !== keptRuns.length || rowsIn(SCREENED_EVIDENCE) !== keptDocs.length + keptJudgments.length) {
      throw new Error(`self-check failed: wrote ${rowsIn(SCREENED_RUNS)} runs and ${rowsIn(SCREENED_EVIDENCE)} evidence rows, kept ${keptRuns.length} and ${keptDocs.length + keptJudgments.length}`);
    }
    const params = parameters(config, sets);
    const schemaVersions = { ScoredRun: SCORED_V, EvidenceRecord: EVIDENCE_V, QuarantineRecord: QUARANTINE_V };
    const inputs: FileEntry[] = [...runFiles, ...evFiles, ...prot.files].sort((a, b) => cmp(a.path, b.path));
    const counts = { runs_in: runs.length, documents_in: documents.length, judgments_in: judgments.length, kept, quarantined: drops.length };
    await staged.writeFile(MANIFEST, manifestText({ schema_version: 1, phase: 'screen', parameters: params, schema_versions: schemaVersions, inputs, files: outputs, counts }));
    await staged.publish();
    const reasons = Object.entries(sortedCounts(byReason)).map(([k, v]) => `${n(v)} ${k}`).join(', ');
    const pii = PII_TYPES.filter((t) => (res.stats[`pii.${t}`] ?? 0) > 0).map((t) => `${n(res.stats[`pii.${t}`] ?? 0)} ${t}`).join(', ');
    return {
      parameters: params,
      schemaVersions,
      inputs,
      outputs,
      counts: { in: unitsIn, out: kept, quarantined: drops.length, by_reason: sortedCounts(byReason) },
      stats: sortedCounts(stats),
      summary:
        `${n(runs.length)} runs + ${n(documents.length)} documents + ${n(judgments.length)} judgments → ${n(kept)} kept in ${SCREENED_DIR}/` +
        `${drops.length ? `; ${n(drops.length)} quarantined (${reasons})` : ''}${pii ? `; PII redacted in ${n(res.stats['pii.rows_redacted'] ?? 0)} rows (${pii})` : ''}`,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
