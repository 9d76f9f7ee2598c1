import { materializeBatch, type UnitBatch, type UnitResult } from './batch.ts';
import { serveRequests } from '../../lib/worker-pool.ts';

// A build-evidence worker thread: materializes batches of units (tasks/phases/build-evidence/batch.ts).
serveRequests<UnitBatch, UnitResult[], null>((batch) => materializeBatch(batch));
