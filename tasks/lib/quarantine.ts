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

/**
 * What a phase left out, for its closing line, bad rows and policy exclusions apart:
 * `1 quarantined (1 TOOL_ARGS_INVALID), 244 excluded by policy (244 CATEGORY_EXCLUDED)`; '' when nothing.
 */
export function leftOutText(byReason: Readonly<Record<string, number>>, excluded: readonly string[]): string {
  const policy = new Set(excluded);
  const part = (pred: (r: string) => boolean): [number, string] => {
    const entries = Object.entries(byReason)
      .filter(([r, v]) => v > 0 && pred(r.split(':')[0] as string))
      .sort(([ra, a], [rb, b]) => b - a || (ra < rb ? -1 : 1));
    const total = entries.reduce((s, [, v]) => s + v, 0);
    return [total, entries.map(([r, v]) => `${v.toLocaleString('en-US')} ${r}`).join(', ')];
  };
  const [bad, badText] = part((r) => !policy.has(r));
  const [out, outText] = part((r) => policy.has(r));
  return [
    ...(bad ? [`${bad.toLocaleString('en-US')} quarantined (${badText})`] : []),
    ...(out ? [`${out.toLocaleString('en-US')} excluded by policy (${outText})`] : []),
  ].join(', ');
}
