import { materializeBatch, type UnitBatch, type UnitResult } from './build-evidence-batch.ts';
import { serveRequests } from './lib/worker-pool.ts';

// A build-evidence worker thread: materializes batches of units (tasks/build-evidence-batch.ts).
serveRequests<UnitBatch, UnitResult[], null>((batch) => materializeBatch(batch));
