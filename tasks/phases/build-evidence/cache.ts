import type { DistillConfig } from '../../../schemas/config.ts';
import type { UnitResult } from './batch.ts';
import { codeFingerprint } from '../../lib/code-fingerprint.ts';
import { sha256 } from '../../lib/hash.ts';
import { LineCache } from '../../lib/line-cache.ts';

/**
 * build-evidence's per-source-file cache, kept outside its output folder in
 * `.distill/cache/build-evidence/<key>.lines` (tasks/lib/line-cache.ts): the per-unit results of a file (tasks/phases/build-evidence/batch.ts),
 * keyed by everything they depend on (the file's path, bytes and sha256, its stream and adapter, the
 * parameters, the code). A file whose key is unchanged is not parsed again; its results are read
 * back and go through the same in-order duplicate check and writing as fresh ones, so the output
 * is byte-identical either way. Entries not used by the last successful build are removed.
 */

const FORMAT = 2;

/**
 * One result as one line: its fields as JSON, then each kept record's published JSON after a tab
 * (JSON text never holds a raw tab), so record text is stored as is, not escaped inside a string.
 */
export function encodeResult(r: UnitResult): string {
  if (r.type === 'drop') return JSON.stringify(r);
  const head = { ...r, records: r.records.map(({ json: _j, ...meta }) => meta) };
  return `${JSON.stringify(head)}\t${r.records.map((x) => x.json).join('\t')}`;
}

/** The inverse of `encodeResult`. */
export function decodeResult(line: string): UnitResult {
  const parts = line.split('\t');
  const head = JSON.parse(parts[0] as string) as UnitResult;
  if (head.type === 'keep') head.records.forEach((rec, i) => (rec.json = parts[i + 1] as string));
  return head;
}

/** The per-file cache of build-evidence. */
export class EvidenceCache {
  private constructor(private readonly lines: LineCache) {}

  /** The cache of a project (created if missing). */
  static async open(root: string): Promise<EvidenceCache> {
    return new EvidenceCache(await LineCache.open(root, 'build-evidence'));
  }

  /** The key of a file's results. */
  key(k: {
    file: string;
    stream: string;
    adapter: string;
    /** The source's `trajectories` option (swe-bench-report: the runs its rows name). */
    trajectories: string | null;
    sha256: string;
    bytes: number;
    config: Pick<DistillConfig, 'as_of' | 'future_skew_hours' | 'limits'>;
  }): string {
    const config = {
      as_of: k.config.as_of,
      future_skew_hours: k.config.future_skew_hours,
      limits: k.config.limits,
    };
    return sha256(
      JSON.stringify({
        format: FORMAT,
        code: codeFingerprint(),
        file: k.file,
        stream: k.stream,
        adapter: k.adapter,
        trajectories: k.trajectories,
        sha256: k.sha256,
        bytes: k.bytes,
        config,
      }),
    );
  }

  /** True when the results of `key` are cached. */
  has(key: string): boolean {
    return this.lines.has(key);
  }

  /** The cached results of `key`, in unit order. */
  async *read(key: string): AsyncGenerator<UnitResult> {
    for await (const line of this.lines.read(key)) yield decodeResult(line);
  }

  /** A writer for the results of `key`. */
  writer(key: string): CacheEntryWriter {
    const w = this.lines.writer(key);
    return { add: (r) => w.add(encodeResult(r)), commit: () => w.commit(), discard: () => w.discard() };
  }

  /** Removes every entry the current build neither read nor wrote. */
  prune(): Promise<void> {
    return this.lines.prune();
  }
}

/** One cache entry being written; `commit` makes it visible. */
export interface CacheEntryWriter {
  add(r: UnitResult): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}
