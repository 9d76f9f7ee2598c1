import { join } from 'node:path';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { codeFingerprint } from '../../lib/code-fingerprint.ts';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import { statOf, type OutputStat } from '../../lib/previous-output.ts';
import { sha256 } from '../../lib/hash.ts';
import { LineCache } from '../../lib/line-cache.ts';
import { RULE_TABLE_VERSION } from './rules.ts';

/** The state incremental score keeps between builds: what the last publish wrote, and each evidence file's trace list. */

export const STATE_FORMAT = 1;

export const statePath = (root: string): string => join(root, '.distill', 'cache', 'score', 'state.json');

/** Rows of one evidence file, and how many of them are documents or judgments (which score passes through). */
export interface ScoredFileStats {
  path: string;
  sha256: string;
  rows: number;
  passthrough: number;
}

export interface ScoreState {
  format: number;
  code: string;
  rule_table_version: string;
  manifest_sha256: string;
  files: ScoredFileStats[];
  outputs: OutputStat[];
}

/** The trace ids of one evidence file's run and signal rows, and the evidence ids of those without a trace id. */
export class FileTraces {
  traces = new Set<string>();
  missing: string[] = [];
}

/** The trace lists live in a LineCache (one line of JSON per evidence file sha256; written by rename, not fsynced: a lost entry only means a full run). */
export const traceCache = (root: string): Promise<LineCache> => LineCache.open(root, 'score/files');

/**
 * Keeps what an evidence file held, by its sha256, so that when the file changes (today's traces
 * appended) the traces of its previous version are scored again too. Content-addressed, so a
 * stale entry is never wrong; entries no evidence file has any more are pruned with the state.
 */
export async function saveFileTraces(root: string, sha: string, seen: FileTraces): Promise<void> {
  if (seen.traces.size === 0 && seen.missing.length === 0) return; // documents and judgments only: never needed
  const w = (await traceCache(root)).writer(sha);
  await w.add(JSON.stringify({ traces: [...seen.traces].sort(), missing: [...seen.missing].sort() }));
  await w.commit();
}

export async function readFileTraces(
  cache: LineCache,
  sha: string,
): Promise<{ traces: string[]; missing: string[] } | null> {
  if (!cache.has(sha)) return null;
  try {
    for await (const line of cache.read(sha)) {
      const v = JSON.parse(line) as { traces?: unknown; missing?: unknown };
      return Array.isArray(v.traces) && Array.isArray(v.missing)
        ? { traces: v.traces.map(String), missing: v.missing.map(String) }
        : null;
    }
  } catch {
    // unreadable: as if missing
  }
  return null;
}

/** Removes the trace lists of evidence files that no longer exist in this form. */
export async function pruneFileTraces(root: string, keep: readonly ScoredFileStats[]): Promise<void> {
  const cache = await traceCache(root);
  for (const f of keep) cache.has(f.sha256); // marks the entries to keep
  await cache.prune();
}

/** Records what the just-published output is, for the next run (a cache: never an output). */
export async function saveScoreState(
  root: string,
  manifestBody: string,
  files: ScoredFileStats[],
  outputs: readonly FileEntry[],
): Promise<void> {
  const stats: OutputStat[] = [];
  for (const f of outputs) {
    const st = await statOf(root, f.path);
    if (st) stats.push(st);
  }
  const state: ScoreState = {
    format: STATE_FORMAT,
    code: codeFingerprint(),
    rule_table_version: RULE_TABLE_VERSION,
    manifest_sha256: sha256(Buffer.from(manifestBody, 'utf8')),
    files,
    outputs: stats,
  };
  await writeFileAtomic(statePath(root), `${JSON.stringify(state)}\n`);
  await pruneFileTraces(root, files);
}
