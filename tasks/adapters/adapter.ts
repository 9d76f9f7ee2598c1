import type { ChatMessage } from '../../schemas/chat.ts';
import type { DocumentBody, JudgmentBody, RunBody, SignalBody } from '../../schemas/evidence-record.ts';
import type { Drop } from '../lib/result.ts';

/**
 * How a source file is laid out on disk. `jsonl-session` is JSONL whose lines belong together
 * (a coding-agent session, a trace's observations): the shell parses every line, then hands all of
 * them to the adapter's `toEvidenceFile` at once.
 */
export type FileShape = 'jsonl' | 'json-array' | 'json-document' | 'jsonl-session';

/** What an adapter knows about where a row came from. */
export interface AdapterContext {
  /** Stream name from the source config. */
  stream: string;
  /** Source file relative to the project root (POSIX). */
  sourceFile: string;
  /** 0-based line / element index. */
  index: number;
  /**
   * The source's `trajectories` option (config schema): for an evaluation report, the project-relative
   * folder of the agent trajectories it judges, so its signals can name their runs.
   */
  trajectories?: string;
}

interface DraftCommon {
  trace_id: string | null;
  task_key: string | null;
  /** The raw timestamp value (string or epoch number) or null; the shell validates it strictly. */
  recorded_at: unknown;
  /** Notes on accepted anomalies, e.g. `untrusted_label`, `unknown_fields`. */
  flags?: string[];
}

/** An EvidenceRecord before the shell adds ids, provenance and validation. */
export type EvidenceDraft =
  | (DraftCommon & { kind: 'run'; run: RunBody })
  | (DraftCommon & { kind: 'signal'; signal: SignalBody })
  | (DraftCommon & { kind: 'document'; document: DocumentBody })
  | (DraftCommon & { kind: 'judgment'; judgment: JudgmentBody });

/** An adapter's answer for one source row: one or more drafts, or a drop with a reason code. */
export type AdapterOutput = { type: 'keep'; records: EvidenceDraft[] } | ({ type: 'drop' } & Drop);

/** One parsed line of a session file, as the shell hands it to `toEvidenceFile`. */
export interface SessionUnit {
  /** 0-based line number in the file. */
  index: number;
  row: Record<string, unknown>;
}

/**
 * Drafts (or one drop) built from some lines of a session file. `units` are the line numbers the
 * group consumed, ascending; the first is the records' provenance. Across all groups of a file every
 * unit handed in appears exactly once, so per-file accounting stays exact.
 */
export interface SessionGroup {
  units: number[];
  output: AdapterOutput;
}

/**
 * One source format. `toEvidence` is pure: no I/O, no clock, no randomness; the same row always
 * gives the same drafts. Vendor input is read loosely (unknown fields are flagged, not fatal).
 */
export interface Adapter {
  name: string;
  description: string;
  shape: FileShape;
  /** Confidence in [0, 1] that a parsed row is in this format, with a short reason. */
  sniff(row: Record<string, unknown>): { confidence: number; reason: string };
  toEvidence(row: Record<string, unknown>, ctx: AdapterContext): AdapterOutput;
  /**
   * The `schema_version` values this adapter reads, for formats that carry one. A row with a
   * top-level `schema_version` not listed here (any value, when this is absent) is quarantined
   * SCHEMA_VERSION_UNSUPPORTED: it claims a format revision nobody wrote an adapter for.
   */
  schemaVersions?: readonly (string | number)[];
  /**
   * Shape `jsonl-session` only: every parsed line of one file at once (ascending index; lines the
   * shell already quarantined are absent) → groups that cover each unit exactly once. Pure, like
   * `toEvidence`; `toEvidence` of such an adapter reads one line as a one-line file.
   */
  toEvidenceFile?(units: readonly SessionUnit[], ctx: Omit<AdapterContext, 'index'>): SessionGroup[];
}

/** Convenience for adapters: the conversation text of a message, for task keys and checks. */
export function messageText(m: ChatMessage): string {
  return m.content ?? '';
}
