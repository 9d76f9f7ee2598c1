import { serveRequests } from '../../lib/worker-pool.ts';
import {
  screenBatch,
  screenOptions,
  type ScreenBatch,
  type ScreenBatchResult,
  type ScreenWorkerData,
} from './batch.ts';
import type { ScreenOptions } from './core.ts';

// A screen worker thread: steps 1–4 over batches of rows (tasks/phases/screen/batch.ts).
let opts: Promise<ScreenOptions> | null = null;
serveRequests<ScreenBatch, ScreenBatchResult, ScreenWorkerData>(async (batch, data) => {
  opts ??= screenOptions(data).then((o) => o.opts);
  return screenBatch(batch, await opts);
});
