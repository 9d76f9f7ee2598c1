import { serveRequests } from '../lib/worker-pool.ts';
import { screenBatch, screenOptions, type ScreenBatch, type ScreenBatchResult, type ScreenWorkerData } from './screen-batch.ts';
import type { ScreenOptions } from './screen-core.ts';

// A screen worker thread: steps 1–4 over batches of rows (tasks/safety/screen-batch.ts).
let opts: Promise<ScreenOptions> | null = null;
serveRequests<ScreenBatch, ScreenBatchResult, ScreenWorkerData>(async (batch, data) => {
  opts ??= screenOptions(data).then((o) => o.opts);
  return screenBatch(batch, await opts);
});
