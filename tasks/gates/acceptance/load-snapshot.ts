import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { globby } from 'globby';
import { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { KtoSample } from '../../../schemas/kto-sample.ts';
import { PreferenceSample } from '../../../schemas/preference-sample.ts';
import type { Provenance } from '../../../schemas/provenance.ts';
import { RagSample } from '../../../schemas/rag-sample.ts';
import { ScoredRun } from '../../../schemas/scored-run.ts';
import { SftSample } from '../../../schemas/sft-sample.ts';
import type { DocumentEvidence, JudgmentEvidence } from '../../lib/export/inputs.ts';
import { KTO_FAMILY, PAIR_FAMILY } from '../../phases/export-preference/contract.ts';
import { RAG_FAMILY } from '../../phases/export-rag/contract.ts';
import { SFT_FAMILY } from '../../phases/export-sft/contract.ts';
import { EVIDENCE_DIR, EXPORT_DIRS, RAG_INDEX_DIR, SCORED_DIR, SCREENED_DIR } from '../../phases/registry.ts';
import { loadConfig } from '../../lib/project.ts';
import { manifestFiles, readReceipt } from '../../run/run-reports.ts';
import type { PipelinePhase } from '../../phases/registry.ts';
import type { ReceiptUnderCheck } from '../../run/receipts-check.ts';
import { rehashSource } from '../../inspect/trace.ts';
import { verifyProject } from '../../inspect/verify.ts';
import type { Expected } from './expected.ts';
import {
  sourceKey,
  type BuildLabel,
  type BuildRecord,
  type Health,
  type Snapshot,
  type SourceCheck,
} from './snapshot.ts';

/** Output folders whose files the training-facing invariants grep (everything downstream of screen). */
export const TRAINING_FACING = [`${SCREENED_DIR}/`, `${RAG_INDEX_DIR}/`, 'exports/'] as const;

/** What loading needs besides the built project. */
export interface LoadInputs {
  expected: Expected;
  bundledStreams: { stream: string; adapter: string }[];
  phases: readonly PipelinePhase[];
  builds: Record<BuildLabel, BuildRecord>;
}

/** Text of every file under the output folders (data/ without the sources, exports/), by relative path. */
async function outputTexts(root: string): Promise<Record<string, string>> {
  const rels = await globby(['data/**', 'exports/**', '!data/_kb/**'], {
    cwd: root,
    onlyFiles: true,
    dot: false,
    followSymbolicLinks: false,
  });
  const out: Record<string, string> = {};
  for (const rel of rels.sort()) out[rel] = await fsp.readFile(join(root, rel), 'utf8');
  return out;
}

/** Rows of JSONL text. */
function rows(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** Rows of every data file (no `_` file) under a folder, in path order. */
function dataRows(all: Record<string, string>, dir: string): unknown[] {
  return Object.keys(all)
    .filter((p) => p.startsWith(`${dir}/`) && p.endsWith('.jsonl') && !p.slice(dir.length).includes('/_'))
    .sort()
    .flatMap((p) => rows(all[p]));
}

/**
 * Reads a built fixture project into a Snapshot: sources, every phase output (schema-checked), the
 * re-hash of every source row an export points at, `distill verify`, and the first build's
 * receipts with the manifests on disk.
 */
export async function loadSnapshot(root: string, inputs: LoadInputs): Promise<Snapshot> {
  const config = loadConfig(root);
  const sources: Record<string, Uint8Array> = {};
  for (const rel of (
    await globby(
      config.sources.flatMap((s) => s.files),
      { cwd: root, onlyFiles: true, dot: false, followSymbolicLinks: false },
    )
  ).sort()) {
    sources[rel] = new Uint8Array(await fsp.readFile(join(root, rel)));
  }
  const evalFiles: Record<string, string> = {};
  if (config.eval_sets.length > 0) {
    for (const rel of (await globby(config.eval_sets, { cwd: root, onlyFiles: true, dot: false })).sort())
      evalFiles[rel] = await fsp.readFile(join(root, rel), 'utf8');
  }
  const all = await outputTexts(root);
  const health = JSON.parse(all[`${EVIDENCE_DIR}/_health.json`] ?? 'null') as Health | null;
  if (!health) throw new Error(`${EVIDENCE_DIR}/_health.json is missing: build-evidence did not publish`);
  const evidence = dataRows(all, EVIDENCE_DIR).map((r) => EvidenceRecord.parse(r));
  const quarantine: Record<string, Record<string, unknown>[]> = {};
  for (const p of inputs.phases) {
    const files = Object.keys(all)
      .filter((f) => f.startsWith(`${p.outDir}/`) && f.includes('/_quarantine') && f.endsWith('.jsonl'))
      .sort();
    if (files.length > 0)
      quarantine[p.phase] = files.flatMap((f) => rows(all[f]) as Record<string, unknown>[]);
  }
  const scored = dataRows(all, SCORED_DIR).map((r) => ScoredRun.parse(r));
  const screenedRuns = dataRows(all, `${SCREENED_DIR}/runs`).map((r) => ScoredRun.parse(r));
  const screenedEvidence = dataRows(all, `${SCREENED_DIR}/evidence`).map((r) => EvidenceRecord.parse(r));
  // a family's rows: every day shard `<dir>/<family>/<shard>.jsonl`, in shard order
  const exportRows = <T>(dir: string, family: string, parse: (v: unknown) => T): T[] =>
    Object.keys(all)
      .filter(
        (f) => f.startsWith(`${dir}/${family}/`) && !f.slice(dir.length + family.length + 2).includes('/'),
      )
      .sort()
      .flatMap((f) => rows(all[f]))
      .map(parse);
  const exports = {
    sft: exportRows(EXPORT_DIRS.sft, SFT_FAMILY, (v) => SftSample.parse(v)),
    sftPartial: exportRows(EXPORT_DIRS.sftPartial, SFT_FAMILY, (v) => SftSample.parse(v)),
    pairs: exportRows(EXPORT_DIRS.preference, PAIR_FAMILY, (v) => PreferenceSample.parse(v)),
    kto: exportRows(EXPORT_DIRS.preference, KTO_FAMILY, (v) => KtoSample.parse(v)),
    rag: exportRows(EXPORT_DIRS.rag, RAG_FAMILY, (v) => RagSample.parse(v)),
  };
  const provenances: Provenance[] = [
    ...exports.sft.map((r) => r.provenance),
    ...exports.sftPartial.map((r) => r.provenance),
    ...exports.pairs.flatMap((r) => [r.chosen_provenance, r.rejected_provenance]),
    ...exports.kto.map((r) => r.provenance),
    ...exports.rag.map((r) => r.provenance),
  ];
  const limits = { maxLineBytes: config.limits.max_line_bytes, maxDepth: config.limits.max_depth };
  const sourceChecks: Record<string, SourceCheck> = {};
  for (const p of provenances) {
    const k = sourceKey(p);
    if (!(k in sourceChecks)) sourceChecks[k] = await rehashSource(root, p, limits);
  }
  const receipts: ReceiptUnderCheck[] = [];
  const summary = inputs.builds.first.summary;
  for (const phase of inputs.phases) {
    const rel = summary?.phases.find((x) => x.phase === phase.phase)?.receipt ?? null;
    const r = rel ? await readReceipt(root, rel) : null;
    receipts.push({
      phase,
      receiptPath: rel,
      receipt: r?.ok ? r.value : null,
      manifestFiles: await manifestFiles(root, phase.outDir),
    });
  }
  return {
    expected: inputs.expected,
    config,
    bundledStreams: inputs.bundledStreams,
    sources,
    evalFiles,
    health,
    evidence,
    quarantine,
    scored,
    screened: {
      runs: screenedRuns,
      documents: screenedEvidence.filter((e): e is DocumentEvidence => e.kind === 'document'),
      judgments: screenedEvidence.filter((e): e is JudgmentEvidence => e.kind === 'judgment'),
    },
    exports,
    files: Object.fromEntries(
      Object.entries(all).filter(([p]) => TRAINING_FACING.some((d) => p.startsWith(d))),
    ),
    sourceChecks,
    verify: await verifyProject(root),
    receipts,
    builds: inputs.builds,
  };
}
