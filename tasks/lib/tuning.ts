/**
 * Size knobs of the bounded-memory and parallel paths. The defaults suit a large corpus on a
 * small machine; tests set them through the environment to force every spill and worker path on
 * a tiny corpus. None of them changes any output byte (tested: test/perf-paths.test.ts).
 */
function knob(name: string, fallback: number): number {
  const v = process.env[name];
  return v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : fallback;
}

/** Below this many input bytes a phase starts no worker thread. */
export const workerMinBytes = (): number => knob('DISTILL_WORKER_MIN_BYTES', 16 * 1024 * 1024);
/** Batches a phase handles itself before it starts its workers. */
export const workersAfterBatches = (): number => knob('DISTILL_WORKERS_AFTER', 8);
/** Characters of row text per batch handed to a worker. */
export const batchChars = (): number => knob('DISTILL_BATCH_CHARS', 512 * 1024);
/** Evidence bytes per hash partition of the score join. */
export const scorePartitionBytes = (): number => knob('DISTILL_SCORE_PARTITION_BYTES', 4 * 1024 * 1024);
/** Scale of every external sort's buffer (1 = default; tests use a tiny fraction). */
export const sortMemoryScale = (): number => knob('DISTILL_SORT_MEMORY_PERMILLE', 1000) / 1000;
/** Requests a worker may hold at once (the one it runs and those queued behind it), so it never waits for this thread. */
export const workerQueueDepth = (): number => Math.max(1, knob('DISTILL_WORKER_QUEUE', 2));
