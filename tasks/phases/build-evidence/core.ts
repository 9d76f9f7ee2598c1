import type { DistillConfig } from '../../../schemas/config.ts';
import { SCHEMA_VERSION as EVIDENCE_V, EvidenceRecord } from '../../../schemas/evidence-record.ts';
import type { Adapter, AdapterOutput, EvidenceDraft } from '../../adapters/adapter.ts';
import { contentId, sha256, sigHash } from '../../lib/hash.ts';
import { parseRow, relabelBigInteger } from '../../lib/json-check.ts';
import type { Drop as AnyDrop } from '../../lib/result.ts';
import type { Reason } from './contract.ts';
import { isAdapterDropReason } from '../../adapters/drop-reasons.ts';

type Drop = AnyDrop<Reason>;
import { type SourceUnit } from '../../lib/source-reader.ts';
import { injectionFlag } from './injection.ts';
import { repetitionFlag } from './repetition.ts';
import { parseTimestamp } from './time.ts';

/**
 * The pure core of build-evidence: one source unit (a line, an array element, a session's lines)
 * → evidence records or a drop with a reason. No paths, files or process state.
 */

/** The result of turning one source unit into evidence. */
export type UnitOutcome =
  | { type: 'keep'; records: EvidenceRecord[] }
  | ({ type: 'drop'; sigHash: string | null; traceId: string | null } & Drop);

/** A unit that parsed: its row, the row's sig_hash and the flags parsing set. */
export interface ParsedUnit {
  unit: SourceUnit;
  value: Record<string, unknown>;
  sig: string;
  flags: string[];
}

type Config = Pick<DistillConfig, 'as_of' | 'future_skew_hours' | 'limits'>;

/** Pure: a unit's line-level checks (readable, strict JSON, a supported schema_version), before any adapter. */
export function parseUnit(
  unit: SourceUnit,
  adapter: Adapter,
  config: Config,
): { ok: true; parsed: ParsedUnit } | { ok: false; outcome: UnitOutcome } {
  const drop = (
    d: Drop,
    sig: string | null = null,
    traceId: string | null = null,
  ): { ok: false; outcome: UnitOutcome } => ({
    ok: false,
    outcome: { type: 'drop', sigHash: sig, traceId, ...d },
  });
  if (unit.issue) return drop(unit.issue);
  const parsed = parseRow(unit.text as string, { maxDepth: config.limits.max_depth });
  if (!parsed.ok) {
    if (
      !unit.terminated &&
      (parsed.drop.reason === 'JSON_PARSE' || parsed.drop.reason === 'JSON_TRAILING_DATA')
    )
      return drop({
        reason: 'TRUNCATED_FINAL_LINE',
        detail: `last line has no newline and does not parse (a torn write?): ${parsed.drop.detail}`,
      });
    return drop(parsed.drop);
  }
  const sig = sigHash(parsed.value);
  const version = parsed.value['schema_version'];
  if (version !== undefined && !(adapter.schemaVersions ?? []).includes(version as string | number)) {
    const known = adapter.schemaVersions?.length
      ? `reads schema_version ${adapter.schemaVersions.map((v) => JSON.stringify(v)).join(', ')}`
      : 'reads rows without a schema_version';
    return drop(
      {
        reason: 'SCHEMA_VERSION_UNSUPPORTED',
        detail: `schema_version ${JSON.stringify(version)} is not supported: adapter ${adapter.name} ${known}`,
      },
      sig,
      traceIdOf(parsed.value),
    );
  }
  return { ok: true, parsed: { unit, value: parsed.value, sig, flags: parsed.flags } };
}

/**
 * Pure: an adapter's output for some parsed units → validated evidence records or one drop. The
 * first unit is the provenance; the ids hash all units' sig_hashes (one unit: its own sig_hash),
 * so a session whose later lines change gets new ids.
 */
export function finishDrafts(
  out: AdapterOutput,
  members: readonly ParsedUnit[],
  adapter: Adapter,
  source: { stream: string; file: string },
  config: Config,
): UnitOutcome {
  const first = members[0] as ParsedUnit;
  const sig = first.sig;
  const drop = (d: Drop, traceId: string | null = null): UnitOutcome => ({
    type: 'drop',
    sigHash: sig,
    traceId,
    ...d,
  });
  if (out.type === 'drop') {
    // adapters drop for reasons of their closed list only; another reason is a bug in the adapter
    if (!isAdapterDropReason(out.reason))
      throw new Error(
        `adapter ${adapter.name} dropped a row for "${out.reason}", which is not in ADAPTER_DROP_REASONS`,
      );
    return drop(relabelBigInteger({ ...out, reason: out.reason }, first.flags), traceIdOf(first.value));
  }
  if (out.records.length === 0)
    return drop({
      reason: 'SCHEMA_INVALID',
      detail: `adapter ${adapter.name} produced no record for this row`,
    });
  const idSig = members.length === 1 ? sig : sha256(members.map((m) => m.sig).join('\n'));
  const unitFlags = members.flatMap((m) => [...m.unit.flags, ...m.flags]);
  const asOfMs = Date.parse(config.as_of);
  const records: EvidenceRecord[] = [];
  for (let i = 0; i < out.records.length; i++) {
    const d = out.records[i] as EvidenceDraft;
    let recordedAt: string | null = null;
    if (d.recorded_at !== null && d.recorded_at !== undefined) {
      const ts = parseTimestamp(d.recorded_at);
      if (!ts.ok) return drop({ reason: 'INVALID_TIMESTAMP', detail: ts.detail }, d.trace_id);
      if (ts.ms > asOfMs + config.future_skew_hours * 3_600_000)
        return drop(
          {
            reason: 'FUTURE_TIMESTAMP',
            detail: `${ts.iso} is after as_of ${config.as_of} + ${config.future_skew_hours} h`,
          },
          d.trace_id,
        );
      recordedAt = ts.iso;
    }
    const flags = [
      ...new Set([
        ...unitFlags,
        ...(d.flags ?? []),
        ...(d.kind === 'run' ? [...repetitionFlag(d.run.messages), ...injectionFlag(d.run.messages)] : []),
      ]),
    ].sort();
    const { recorded_at: _raw, flags: _f, ...rest } = d;
    const candidate = {
      schema_version: EVIDENCE_V,
      evidence_id: contentId('ev', source.stream, idSig, String(i)),
      stream: source.stream,
      ...rest,
      recorded_at: recordedAt,
      flags,
      provenance: {
        source_file: source.file,
        line_offset: first.unit.index,
        ...(first.unit.locator ? { locator: first.unit.locator } : {}),
        sig_hash: sig,
        recorded_at: recordedAt,
      },
    };
    const res = EvidenceRecord.safeParse(candidate);
    if (!res.success) {
      const is = res.error.issues[0];
      return drop(
        { reason: 'SCHEMA_INVALID', detail: `$.${is?.path.join('.')}: ${is?.message}` },
        d.trace_id,
      );
    }
    records.push(res.data);
  }
  return { type: 'keep', records };
}

/** Pure core: one source unit → evidence records or a drop with a reason. */
export function materializeUnit(
  unit: SourceUnit,
  adapter: Adapter,
  source: { stream: string; file: string; trajectories?: string },
  config: Config,
): UnitOutcome {
  const pre = parseUnit(unit, adapter, config);
  if (!pre.ok) return pre.outcome;
  const { parsed } = pre;
  return finishDrafts(
    adapter.toEvidence(parsed.value, {
      stream: source.stream,
      sourceFile: source.file,
      index: unit.index,
      ...(source.trajectories !== undefined ? { trajectories: source.trajectories } : {}),
    }),
    [parsed],
    adapter,
    source,
    config,
  );
}

/**
 * Pure core of a `jsonl-session` file: all its parsed units → groups of units, each with its
 * records or one drop. Throws (a bug in the adapter) unless the groups cover every unit exactly once.
 */
export function materializeSession(
  parsed: readonly ParsedUnit[],
  adapter: Adapter,
  source: { stream: string; file: string },
  config: Config,
): { members: ParsedUnit[]; outcome: UnitOutcome }[] {
  if (!adapter.toEvidenceFile)
    throw new Error(`adapter ${adapter.name} has shape ${adapter.shape} but no toEvidenceFile`);
  const byIndex = new Map(parsed.map((p) => [p.unit.index, p]));
  const groups = adapter.toEvidenceFile(
    parsed.map((p) => ({ index: p.unit.index, row: p.value })),
    { stream: source.stream, sourceFile: source.file },
  );
  const seen = new Set<number>();
  const out: { members: ParsedUnit[]; outcome: UnitOutcome }[] = [];
  for (const g of groups) {
    const members = [...g.units]
      .sort((a, b) => a - b)
      .map((i) => {
        const m = byIndex.get(i);
        if (!m || seen.has(i))
          throw new Error(
            `adapter ${adapter.name} accounted for line ${i} of ${source.file} ${m ? 'twice' : 'which it was not given'}`,
          );
        seen.add(i);
        return m;
      });
    if (members.length === 0)
      throw new Error(`adapter ${adapter.name} returned an empty group for ${source.file}`);
    out.push({ members, outcome: finishDrafts(g.output, members, adapter, source, config) });
  }
  if (seen.size !== parsed.length)
    throw new Error(
      `adapter ${adapter.name} left ${parsed.length - seen.size} of ${parsed.length} lines of ${source.file} unaccounted for`,
    );
  return out;
}

function traceIdOf(v: Record<string, unknown>): string | null {
  const t = v['trace_id'];
  return typeof t === 'string' ? t : null;
}

/** Partition path of a record: YYYY/MM/DD/<stream>.jsonl, or undated/<stream>.jsonl. */
export function partitionOf(r: EvidenceRecord): string {
  if (!r.recorded_at) return `undated/${r.stream}.jsonl`;
  return `${r.recorded_at.slice(0, 4)}/${r.recorded_at.slice(5, 7)}/${r.recorded_at.slice(8, 10)}/${r.stream}.jsonl`;
}
