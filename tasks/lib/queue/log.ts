/**
 * Which worker built each partition of the phases run in this process, for the receipt (never
 * in a dataset, so the bytes stay the same whoever built them). Filled by the queue pool.
 */
export interface BuiltPartition {
  partition: number;
  label: string;
  job: string;
  worker: string;
  ms: number;
}

const built = new Map<string, BuiltPartition[]>();

export function recordBuilt(phase: string, b: BuiltPartition): void {
  const list = built.get(phase) ?? [];
  list.push(b);
  built.set(phase, list);
}

/** Forgets what an earlier run of `phase` in this process recorded. */
export function resetBuilt(phase: string): void {
  built.delete(phase);
}

/** The receipt's `executor` record of `phase`, or undefined when it ran locally. */
export function executorRecord(
  phase: string,
):
  | { kind: 'queue'; jobs: number; by_worker: Record<string, number>; partitions: BuiltPartition[] }
  | undefined {
  const list = built.get(phase);
  if (!list || list.length === 0) return undefined;
  const sorted = [...list].sort((a, b) => a.partition - b.partition);
  const byWorker: Record<string, number> = {};
  for (const b of sorted) byWorker[b.worker] = (byWorker[b.worker] ?? 0) + 1;
  return { kind: 'queue', jobs: sorted.length, by_worker: byWorker, partitions: sorted };
}
