import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { QueuePool } from '../../lib/queue/pool.ts';

/**
 * The queue's own cost per job (run by `npm run bench -- --workers N` inside the bench project, so
 * it is the same code as the worker's): `node --import tsx queue-overhead.ts <root> <jobs>` with
 * DISTILL_QUEUE set sends empty build-evidence batches one at a time and prints the round trip of
 * each (ms) as JSON. An empty batch is the cheapest real job: request file, Redis, worker, its
 * thread, result file, back.
 */
const [root, n] = process.argv.slice(2) as [string, string];
const jobs = Number(n);
const config = {
  as_of: '2026-01-01T00:00:00Z',
  future_skew_hours: 24,
  limits: { max_line_bytes: 1 << 20, max_depth: 64 },
};
const pool = new QueuePool<unknown, unknown>({
  phase: 'build-evidence',
  // named as a job names it (a path, not an import of the phase's code)
  module: pathToFileURL(
    join(fileURLToPath(new URL('../../..', import.meta.url)), 'tasks/phases/build-evidence/worker.ts'),
  ),
  data: null,
  root,
});
const times: number[] = [];
try {
  for (let i = 0; i < jobs + 5; i++) {
    const t0 = performance.now();
    await pool.run({ adapter: 'gateway-call', stream: 'bench', file: `bench-${i}`, config, units: [] });
    if (i >= 5) times.push(performance.now() - t0); // the first ones start the worker's thread
  }
} finally {
  await pool.close();
}
process.stdout.write(`${JSON.stringify(times)}\n`);
