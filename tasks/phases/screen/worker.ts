import { serveRequests } from '../../lib/worker-pool.ts';
import {
  screenBatch,
  workerScreenOptions,
  type ScreenBatch,
  type ScreenBatchResult,
  type ScreenWorkerData,
} from './batch.ts';
import type { ScreenOptions } from './core.ts';

// A screen worker thread: steps 1–4 over batches of rows (tasks/phases/screen/batch.ts). The options
// are loaded once per thread; a thread serves one phase run's worker data (a queue worker keys its
// thread pools by that data, which names the protected eval files' digest).
let opts: Promise<ScreenOptions> | null = null;
serveRequests<ScreenBatch, ScreenBatchResult, ScreenWorkerData>(async (batch, data) => {
  opts ??= workerScreenOptions(data);
  return screenBatch(batch, await opts);
});
