import { serveRequests } from '../../lib/worker-pool.ts';
import { scorePartition, type PartitionScore } from './partition.ts';

// A score worker thread: pass 2 over one hash partition file (tasks/phases/score/partition.ts).
serveRequests<string, PartitionScore, null>((path) => scorePartition(path));
