import type { DistillConfig } from '../../../schemas/config.ts';
import type { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { getAdapter } from '../../adapters/registry.ts';
import { materializeUnit, partitionOf } from './core.ts';
import { sha256 } from '../../lib/hash.ts';
import type { SourceUnit } from '../../lib/source-reader.ts';

/**
 * build-evidence's per-unit work (strict parse, adapter, timestamp, schema check, serialization)
 * over a batch of units of one file, as plain data that crosses a worker boundary and that the
 * per-file cache stores: what happens next to a unit (duplicate check, writing) depends on every
 * file before it and is done in order by the phase itself.
 */

/** One evidence record of a kept unit, serialized as it is published. */
export interface KeptRecord {
  id: string;
  kind: EvidenceRecord['kind'];
  /** Partition file, YYYY/MM/DD/<stream>.jsonl or undated/<stream>.jsonl. */
  part: string;
  json: string;
  sig: string;
  trace: string | null;
}

/** A unit's place in its file and the sha256 of its raw bytes (for quarantine rows). */
export interface UnitPlace {
  index: number;
  offset: number;
  bytes: number;
  lineSha: string | null;
}

/** What became of one unit. */
export type UnitResult = UnitPlace &
  (
    | { type: 'keep'; records: KeptRecord[] }
    | {
        type: 'drop';
        reason: string;
        detail: string;
        sigHash: string | null;
        traceId: string | null;
        ref: string | null;
        prettyPrinted: boolean;
      }
  );

type Config = Pick<DistillConfig, 'as_of' | 'future_skew_hours' | 'limits'>;

/**
 * A batch of consecutive units of one file. A unit whose raw bytes are exactly the UTF-8 of its
 * text may come without them (`raw` and `rawSha256` null), to copy less to a worker.
 */
export interface UnitBatch {
  adapter: string;
  stream: string;
  file: string;
  /** The source's `trajectories` option, for adapters that name runs from it. */
  trajectories?: string;
  config: Config;
  units: SourceUnit[];
}

/** Materializes every unit of a batch (pure: any thread gives the same results). */
export function materializeBatch(batch: UnitBatch): UnitResult[] {
  const adapter = getAdapter(batch.adapter);
  if (!adapter) throw new Error(`unknown adapter ${batch.adapter}`);
  const source = {
    stream: batch.stream,
    file: batch.file,
    ...(batch.trajectories !== undefined ? { trajectories: batch.trajectories } : {}),
  };
  return batch.units.map((unit) => {
    const outcome = materializeUnit(unit, adapter, source, batch.config);
    // no raw bytes and no hash: the raw bytes were exactly the UTF-8 of the text (see the batching in build-evidence)
    const lineSha = unit.raw
      ? sha256(unit.raw)
      : (unit.rawSha256 ?? (unit.text !== null ? sha256(unit.text) : null));
    const place: UnitPlace = { index: unit.index, offset: unit.offset, bytes: unit.bytes, lineSha };
    if (outcome.type === 'keep') {
      return {
        ...place,
        type: 'keep',
        records: outcome.records.map((r) => ({
          id: r.evidence_id,
          kind: r.kind,
          part: partitionOf(r),
          json: JSON.stringify(r),
          sig: r.provenance.sig_hash,
          trace: r.trace_id,
        })),
      };
    }
    const prettyPrinted =
      unit.index === 0 && outcome.reason === 'JSON_PARSE' && /^\s*[{[]\s*$/.test(unit.text ?? '');
    return {
      ...place,
      type: 'drop',
      reason: outcome.reason,
      detail: outcome.detail,
      sigHash: outcome.sigHash,
      traceId: outcome.traceId,
      ref: outcome.ref ?? null,
      prettyPrinted,
    };
  });
}
