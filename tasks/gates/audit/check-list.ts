import type { DistillConfig } from '../../../schemas/config.ts';
import type { PipelinePhase } from '../../phases/registry.ts';
import type { CheckOutcome } from './findings.ts';
import type { AuditHistory } from './phase-digests.ts';

/**
 * The 16 required checks of `distill audit-full`, in report order. Each names the phase whose
 * on-disk output it verifies and what must hold. audit-full exits 0 only when all of them hold.
 */
export const AUDIT_CHECKS = [
  {
    id: 'evidence-schema',
    phase: 'build-evidence',
    name: 'every evidence and quarantine row matches its schema; evidence ids unique',
  },
  {
    id: 'evidence-accounting',
    phase: 'build-evidence',
    name: 'source units = evidence + quarantined, per file and in total; _health.json agrees with the rows on disk',
  },
  {
    id: 'scored-schema',
    phase: 'score',
    name: 'every scored run and quarantine row matches its schema; run ids unique',
  },
  {
    id: 'score-determinism',
    phase: 'score',
    name: 're-scoring the evidence in memory gives byte-identical scored-run files',
  },
  {
    id: 'screened-schema',
    phase: 'screen',
    name: 'every screened run, document, judgment and quarantine row matches its schema',
  },
  {
    id: 'export-schema',
    phase: 'exports',
    name: 'every export row (RAG, SFT, preference, KTO, quarantine, OpenAI / TRL / HF files) is valid; ids unique; format files match the canonical rows',
  },
  {
    id: 'manifests',
    phase: 'all phases',
    name: 'every published file matches its _manifest.json (distill verify), and each manifest is the one a passing audit recorded in the baseline for the same sources, config and code',
  },
  {
    id: 'receipts',
    phase: 'all phases',
    name: 'receipts reconcile: in = out + quarantined, inputs = upstream outputs, outputs = files on disk',
  },
  {
    id: 'lineage',
    phase: 'all phases',
    name: "each phase was built from its upstream's current outputs and the current sources (nothing stale)",
  },
  {
    id: 'provenance',
    phase: 'exports',
    name: 'every export row resolves to an evidence record and its source row still re-hashes to sig_hash',
  },
  {
    id: 'sft-categories',
    phase: 'exports',
    name: 'no rejected / needs_human_review run in SFT (row label and scored category)',
  },
  { id: 'preference-pairs', phase: 'exports', name: 'no self-pair and no identical chosen / rejected text' },
  {
    id: 'export-secrets',
    phase: 'exports',
    name: 'no canary, secret or raw personal data in any export file (the screen secret rules and PII detectors)',
  },
  {
    id: 'eval-decontamination',
    phase: 'exports',
    name: 'no training row overlaps the acceptance fixture or an eval set',
  },
  { id: 'split-leakage', phase: 'exports', name: 'no task_key in both train and test' },
  {
    id: 'acceptance',
    phase: 'acceptance',
    name: 'reports/distillation/acceptance.json present and passing (written by npm run acceptance)',
  },
] as const;

/** Id of a required check. */
export type CheckId = (typeof AUDIT_CHECKS)[number]['id'];

/** The number of required checks. */
export const REQUIRED_CHECKS = AUDIT_CHECKS.length;

/** What every check reads from: the project, its config and the phases run-all builds. */
export interface AuditContext {
  root: string;
  config: DistillConfig;
  phases: readonly PipelinePhase[];
  /** The verified baseline rows and the code fingerprint, for the manifest digest comparison (none: skipped). */
  history?: AuditHistory;
}

/** One check's implementation. */
export type CheckFn = (ctx: AuditContext) => Promise<CheckOutcome>;

/** The result of one required check, as reported and stored. */
export interface CheckResult extends CheckOutcome {
  id: CheckId;
  phase: string;
  name: string;
}
