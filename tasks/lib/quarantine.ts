import { QuarantineRecord, SCHEMA_VERSION as QUARANTINE_V } from '../../schemas/quarantine-record.ts';

/** The fields a phase knows about a dropped row. */
export interface QRow {
  reason: string;
  detail: string;
  file: string;
  index: number | null;
  offset: number | null;
  bytes: number | null;
  lineSha: string | null;
  sig: string | null;
  record: string | null;
  trace: string | null;
  ref: string | null;
}

/** Builds a validated quarantine row for a stage. */
export function quarantineRow(q: QRow, stage: string): QuarantineRecord {
  return QuarantineRecord.parse({
    schema_version: QUARANTINE_V,
    stage,
    reason: q.reason,
    detail: q.detail,
    source_file: q.file,
    line_offset: q.index,
    byte_offset: q.offset,
    bytes: q.bytes,
    line_sha256: q.lineSha,
    sig_hash: q.sig,
    record_id: q.record,
    trace_id: q.trace,
    ref: q.ref,
  });
}
