import { serveRequests } from './lib/worker-pool.ts';
import { scorePartition, type PartitionScore } from './score-partition.ts';

// A score worker thread: pass 2 over one hash partition file (tasks/score-partition.ts).
serveRequests<string, PartitionScore, null>((path) => scorePartition(path));
