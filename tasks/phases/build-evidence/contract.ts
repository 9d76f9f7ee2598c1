import { SCHEMA_VERSION as EVIDENCE_V } from '../../../schemas/evidence-record.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { ADAPTER_DROP_REASONS } from '../../adapters/drop-reasons.ts';

/**
 * What other modules may know of build-evidence: where its output lives, what its files are
 * called, the reasons it quarantines for and the record versions it writes.
 */

export const PHASE = 'build-evidence';
/** Its output folder: `YYYY/MM/DD/<stream>.jsonl` evidence, `_quarantine/<stream>.jsonl`, `_health.json`. */
export const EVIDENCE_DIR = 'data/evidence';
export const HEALTH_FILE = '_health.json';
/** The quarantine file of one stream, inside the output folder. */
export const quarantineFile = (stream: string): string => `_quarantine/${stream}.jsonl`;
export const REBUILD = 'npm run build-evidence';

/** Reasons of the phase itself (file-level and line-level), besides the adapters' schema drops. */
export const BUILD_EVIDENCE_REASONS = [
  'SYMLINK_INPUT',
  'PATH_ESCAPE',
  'NOT_REGULAR_FILE',
  'BINARY_FILE',
  'UNSUPPORTED_ENCODING',
  'DUPLICATE_SOURCE',
  'UNSAFE_SOURCE_NAME',
  'NOT_A_JSON_ARRAY',
  'BLANK_LINE',
  'INVALID_UTF8',
  'LINE_TOO_LONG',
  'TRUNCATED_FINAL_LINE',
  'JSON_PARSE',
  'JSON_TRAILING_DATA',
  'NOT_AN_OBJECT',
  'DUPLICATE_KEY',
  'UNSAFE_INTEGER',
  'NUMBER_OUT_OF_RANGE',
  'TOO_DEEP',
  'TOO_MANY_KEYS',
  'FIELD_TOO_LARGE',
  'LONE_SURROGATE',
  'NUL_IN_STRING',
  'FORBIDDEN_KEY',
  'INVALID_TIMESTAMP',
  'FUTURE_TIMESTAMP',
  'DUPLICATE_RECORD',
  'SCHEMA_INVALID',
  'SCHEMA_VERSION_UNSUPPORTED',
] as const;

/** A reason of the phase itself (file- and line-level checks). */
export type BuildEvidenceReason = (typeof BUILD_EVIDENCE_REASONS)[number];

/** Every reason a build-evidence quarantine row can carry. */
export const REASONS = [...BUILD_EVIDENCE_REASONS, ...ADAPTER_DROP_REASONS] as const;
export type Reason = (typeof REASONS)[number];

/** build-evidence leaves nothing out by policy: every row it drops is bad input (quarantined). */
export const EXCLUDED = [] as const satisfies readonly Reason[];

export const SCHEMA_VERSIONS = { EvidenceRecord: EVIDENCE_V, QuarantineRecord: QUARANTINE_V } as const;
