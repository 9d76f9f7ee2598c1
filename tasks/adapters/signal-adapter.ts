import type { z } from 'zod';
import type { SignalBody } from '../../schemas/evidence-record.ts';
import type { Drop } from '../lib/result.ts';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** What differs between the one-row-one-signal streams (tests, tools, reviews, auditors, ...). */
export interface SignalSpec<S extends z.ZodObject> {
  name: string;
  description: string;
  /** Loose input schema; its keys are the known fields (others are flagged `unknown_fields`). */
  row: S;
  /** Keys whose presence identifies the format (for sniff). */
  sniffKeys: readonly string[];
  /** The raw timestamp value of a row (the shell parses it strictly). */
  timestamp: (r: z.output<S>) => unknown;
  /** The signal of a valid row, or a drop for a semantic problem the schema cannot express. */
  toSignal: (r: z.output<S>) => SignalBody | Drop;
}

/** Builds an adapter for a stream whose every row is one outcome signal keyed by `trace_id`. */
export function signalAdapter<S extends z.ZodObject>(spec: SignalSpec<S>): Adapter {
  const unknownFields = unknownFieldsCheck(Object.keys(spec.row.shape));
  return {
    name: spec.name,
    description: spec.description,
    shape: 'jsonl',
    sniff: (row) => sniffByKeys(row, spec.sniffKeys, spec.name),
    toEvidence(row): AdapterOutput {
      const read = readInput(spec.row, row);
      if (!read.ok) return { type: 'drop', ...read.drop };
      const r = read.data;
      const signal = spec.toSignal(r);
      if ('reason' in signal) return { type: 'drop', ...signal };
      return {
        type: 'keep',
        records: [
          {
            kind: 'signal',
            trace_id: (r as { trace_id: string }).trace_id,
            task_key: null,
            recorded_at: spec.timestamp(r),
            flags: unknownFields(row),
            signal,
          },
        ],
      };
    },
  };
}
