import type { DistillConfig } from '../../../schemas/config.ts';
import type { DriftReport } from '../../../schemas/drift-report.ts';
import type { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import type { KtoSample } from '../../../schemas/kto-sample.ts';
import type { PreferenceSample } from '../../../schemas/preference-sample.ts';
import type { RagSample } from '../../../schemas/rag-sample.ts';
import type { RunSummary } from '../../../schemas/run-summary.ts';
import type { ScoredRun } from '../../../schemas/scored-run.ts';
import type { SftSample } from '../../../schemas/sft-sample.ts';
import type { DocumentEvidence, JudgmentEvidence } from '../../lib/export/inputs.ts';
import type { ReceiptUnderCheck } from '../../run/receipts-check.ts';
import type { VerifyReport } from '../../inspect/verify.ts';
import type { Expected } from './expected.ts';

/**
 * The build snapshot: everything the 22 invariants read, loaded once from a built fixture. The
 * invariants are pure functions over it, so a test can break one thing in memory (a row, a hash,
 * a receipt) and show that exactly the matching invariant fails.
 */

/** The three builds of one acceptance run. */
export const BUILD_LABELS = ['first', 'rerun', 'shuffled'] as const;
export type BuildLabel = (typeof BUILD_LABELS)[number];

/** One `run-all` of the fixture: how it ended and what it wrote. */
export interface BuildRecord {
  label: BuildLabel;
  /** run-all's exit code (0: every phase ran and the receipts reconcile). */
  exitCode: number;
  /** What the build printed when it failed (empty when it succeeded). */
  log: string;
  /** sha256 of every output file (data/ without the sources, and exports/), by relative path. */
  hashes: Record<string, string>;
  summary: RunSummary | null;
  drift: DriftReport | null;
}

/** The `_health.json` of build-evidence, as far as the invariants read it. */
export interface Health {
  totals: {
    files: number;
    files_refused: number;
    units: number;
    evidence_units: number;
    quarantined_units: number;
    records: number;
  };
  streams: Record<
    string,
    { files: number; units: number; evidence_units: number; quarantined_units: number; records: number }
  >;
  files: {
    file: string;
    stream: string;
    units: number;
    evidence_units: number;
    quarantined_units: number;
    records: number;
    file_refused: string | null;
  }[];
}

/** The re-read of one source row an export row points at (`distill trace`'s check). */
export interface SourceCheck {
  /** sig_hash of the row as it reads now, or null when it cannot be read. */
  actual: string | null;
  detail: string;
}

/** Everything the invariants check. */
export interface Snapshot {
  /** The fixture's pinned expectations (expected.json). */
  expected: Expected;
  /** The fixture's config. */
  config: DistillConfig;
  /** Streams and adapters of the bundled config (the repo's distill.config.json). */
  bundledStreams: { stream: string; adapter: string }[];
  /** Bytes of every file the fixture's source globs match, by relative path. */
  sources: Record<string, Uint8Array>;
  /** Text of the fixture's eval_sets files, by relative path. */
  evalFiles: Record<string, string>;
  health: Health;
  evidence: EvidenceRecord[];
  /** Quarantine rows per stage (as parsed; validated by invariant A21). */
  quarantine: Record<string, Record<string, unknown>[]>;
  scored: ScoredRun[];
  screened: { runs: ScoredRun[]; documents: DocumentEvidence[]; judgments: JudgmentEvidence[] };
  exports: {
    sft: SftSample[];
    sftPartial: SftSample[];
    pairs: PreferenceSample[];
    kto: KtoSample[];
    rag: RagSample[];
  };
  /** Text of every file under exports/, data/screened/ and data/rag-index/, by relative path. */
  files: Record<string, string>;
  /** The source row behind each provenance of an export row, re-read and re-hashed (key: `sourceKey`). */
  sourceChecks: Record<string, SourceCheck>;
  /** `distill verify` of the first build. */
  verify: VerifyReport;
  /** The first build's receipts with the manifests on disk, for the reconcile check. */
  receipts: ReceiptUnderCheck[];
  builds: Record<BuildLabel, BuildRecord>;
}

/** The key of a provenance in `sourceChecks`. */
export function sourceKey(p: {
  source_file: string;
  line_offset: number;
  locator?: string | undefined;
}): string {
  return `${p.source_file}\u0000${p.line_offset}\u0000${p.locator ?? ''}`;
}
