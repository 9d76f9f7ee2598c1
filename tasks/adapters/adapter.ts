import type { ChatMessage } from '../../schemas/chat.ts';
import type { DocumentBody, JudgmentBody, RunBody, SignalBody } from '../../schemas/evidence-record.ts';
import type { Drop } from '../lib/result.ts';

/** How a source file is laid out on disk. */
export type FileShape = 'jsonl' | 'json-array' | 'json-document';

/** What an adapter knows about where a row came from. */
export interface AdapterContext {
  /** Stream name from the source config. */
  stream: string;
  /** Source file relative to the project root (POSIX). */
  sourceFile: string;
  /** 0-based line / element index. */
  index: number;
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
}

/** Convenience for adapters: the conversation text of a message, for task keys and checks. */
export function messageText(m: ChatMessage): string {
  return m.content ?? '';
}
