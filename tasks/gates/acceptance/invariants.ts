import {
  contaminationQuarantined,
  canariesQuarantined,
  duplicatesCollapsed,
  noCanaryInExports,
  piiReplacedByPlaceholders,
} from './checks-safety.ts';
import {
  driftAgainstItselfOk,
  manifestsMatchFiles,
  quarantineReasonsKnown,
  receiptsReconcile,
  rerunByteIdentical,
  shuffledByteIdentical,
} from './checks-build.ts';
import {
  categoryAndRuleCounts,
  exportRowCounts,
  quarantineReasonCounts,
  unitsReconcile,
} from './checks-counts.ts';
import {
  exportFormatsValid,
  preferencePairsSound,
  provenanceResolves,
  sftCategoriesAllowed,
  splitsGroupedByTask,
} from './checks-exports.ts';
import { sourceLinesAccounted, streamsIngested } from './checks-sources.ts';
import type { Snapshot } from './snapshot.ts';
import type { CheckResult } from './verdict.ts';

/**
 * The acceptance gate: 22 invariants over one build snapshot of the hand-written fixture in
 * test/fixtures/acceptance/ (docs/acceptance.md). Each is a pure function of the snapshot, so a
 * test can break one thing in memory and see exactly that invariant fail. Ids are stable: reports
 * and audit-full refer to them.
 */

/** One invariant: a stable id, a short name, what it checks, and the check. */
export interface Invariant {
  id: string;
  name: string;
  checks: string;
  check: (s: Snapshot) => CheckResult;
}

/** The 22 invariants, in report order. */
export const INVARIANTS: readonly Invariant[] = [
  {
    id: 'A01',
    name: 'source-lines-accounted',
    checks:
      'every source line / array element (counted from the bytes) became evidence or one build-evidence quarantine row, exactly once; a file refused whole has one row',
    check: sourceLinesAccounted,
  },
  {
    id: 'A02',
    name: 'every-stream-ingested',
    checks:
      'every stream of the bundled config is in the fixture with the same adapter and yields the pinned evidence records and quarantined rows',
    check: streamsIngested,
  },
  {
    id: 'A03',
    name: 'category-and-rule-counts',
    checks:
      'scored runs per category and per deciding rule are the pinned counts; every category and every rule of tasks/phases/score/rules.ts occurs',
    check: categoryAndRuleCounts,
  },
  {
    id: 'A04',
    name: 'quarantine-reason-counts',
    checks:
      'quarantine rows per stage and reason code (build-evidence, score, screen, each export) are the pinned counts',
    check: quarantineReasonCounts,
  },
  {
    id: 'A05',
    name: 'export-row-counts',
    checks:
      'rows of every export (RAG chunks and documents, SFT, SFT-partial, pairs by type, KTO) are the pinned counts',
    check: exportRowCounts,
  },
  {
    id: 'A06',
    name: 'units-reconcile',
    checks:
      'by id, every unit is used or quarantined exactly once at each step: evidence → score → screen → each export',
    check: unitsReconcile,
  },
  {
    id: 'A07',
    name: 'sft-categories-allowed',
    checks:
      "SFT holds only accepted runs (SFT-partial also partially accepted), each row labelled with its run's category; never rejected or needs_human_review",
    check: sftCategoriesAllowed,
  },
  {
    id: 'A08',
    name: 'preference-pairs-sound',
    checks:
      'no self-pair, no pair from one source row, no identical chosen / rejected text; outcome pairs accepted over rejected, corrections over originals; KTO labels match categories',
    check: preferencePairsSound,
  },
  {
    id: 'A09',
    name: 'provenance-resolves',
    checks:
      'every export row walks back through its run / evidence record to its source row, which re-reads with the recorded sig_hash',
    check: provenanceResolves,
  },
  {
    id: 'A10',
    name: 'no-canary-in-exports',
    checks:
      'no canary (fake secret) is in any file downstream of screen, and the secret scanner finds nothing in any export row',
    check: noCanaryInExports,
  },
  {
    id: 'A11',
    name: 'canaries-quarantined',
    checks: "each canary's source row is quarantined by screen as SECRET_DETECTED with its expected rule",
    check: canariesQuarantined,
  },
  {
    id: 'A12',
    name: 'pii-replaced-by-placeholders',
    checks:
      'no pinned PII value is downstream of screen; export rows of those source rows carry the typed placeholders; no PII detected in export texts',
    check: piiReplacedByPlaceholders,
  },
  {
    id: 'A13',
    name: 'duplicates-collapsed',
    checks:
      'each pinned duplicate is quarantined with a ref to the unit kept; no two screened units, RAG chunks or SFT rows repeat each other',
    check: duplicatesCollapsed,
  },
  {
    id: 'A14',
    name: 'contamination-quarantined',
    checks:
      'each copy of an eval item is quarantined EVAL_CONTAMINATION naming the eval row; nothing screened or exported overlaps the eval set',
    check: contaminationQuarantined,
  },
  {
    id: 'A15',
    name: 'rerun-byte-identical',
    checks: 'a second run-all in the same folder leaves every output file byte-identical',
    check: rerunByteIdentical,
  },
  {
    id: 'A16',
    name: 'shuffled-input-byte-identical',
    checks: 'a build with the sources and globs in reverse order gives byte-identical outputs',
    check: shuffledByteIdentical,
  },
  {
    id: 'A17',
    name: 'manifests-match-files',
    checks: "every published file matches its phase's _manifest.json (tasks/inspect/verify.ts)",
    check: manifestsMatchFiles,
  },
  {
    id: 'A18',
    name: 'receipts-reconcile',
    checks: 'the receipts of the run-all reconcile (tasks/run/receipts-check.ts) and the run is ok',
    check: receiptsReconcile,
  },
  {
    id: 'A19',
    name: 'splits-grouped-by-task',
    checks:
      "each row is in its task's hash split and in the day shard of its run(s), no task in both splits, each split file holds exactly its split's rows",
    check: splitsGroupedByTask,
  },
  {
    id: 'A20',
    name: 'export-formats-valid',
    checks:
      'OpenAI SFT / DPO and TRL SFT / preference / KTO rows follow the format rules; HF cards point at their data files',
    check: exportFormatsValid,
  },
  {
    id: 'A21',
    name: 'quarantine-reasons-known',
    checks:
      'every quarantine row is a valid QuarantineRecord of its stage with a reason code that stage declares and a detail',
    check: quarantineReasonsKnown,
  },
  {
    id: 'A22',
    name: 'drift-against-itself-ok',
    checks:
      'drift of the rerun and of the shuffled build against the first build is ok with no metric changed',
    check: driftAgainstItselfOk,
  },
];

/** One invariant's outcome, as reports show it. */
export interface InvariantResult {
  id: string;
  name: string;
  checks: string;
  ok: boolean;
  detail: string;
}

/** Runs every invariant over the snapshot; a check that throws fails with the error as its detail. */
export function evaluate(s: Snapshot, invariants: readonly Invariant[] = INVARIANTS): InvariantResult[] {
  return invariants.map((inv) => {
    let r: CheckResult;
    try {
      r = inv.check(s);
    } catch (e) {
      r = { ok: false, detail: `the check threw: ${(e as Error).message}` };
    }
    return { id: inv.id, name: inv.name, checks: inv.checks, ok: r.ok, detail: r.detail };
  });
}

/** Every invariant failed for one reason (the fixture could not be built). */
export function allFailed(detail: string, invariants: readonly Invariant[] = INVARIANTS): InvariantResult[] {
  return invariants.map((inv) => ({ id: inv.id, name: inv.name, checks: inv.checks, ok: false, detail }));
}
