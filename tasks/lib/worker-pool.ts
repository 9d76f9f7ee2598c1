import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { workerBootstrap } from './compiled.ts';
import { QueuePool } from './queue/pool.ts';
import { queueUrl } from './queue/settings.ts';
import { workerQueueDepth } from './tuning.ts';

/**
 * A small pool of worker threads for the CPU-bound per-row work of a phase (one request = one
 * batch of rows). Results never depend on which worker ran a batch or when: callers either merge
 * order-independent results or put them back in request order, so output stays byte-identical
 * to a single-threaded run. Workers run the same code as this thread: the launcher's precompiled
 * JavaScript, or the TypeScript through tsx (lib/compiled.ts).
 */

/** Threads to use: DISTILL_THREADS when set (1 = no workers), else the cores available, at most 4. */
export function threadCount(): number {
  const env = process.env['DISTILL_THREADS'];
  if (env !== undefined && /^[0-9]+$/.test(env) && Number(env) >= 1) return Number(env);
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** What mapInOrder and runOrLocal need of a pool: worker threads here, or the job queue. */
export interface Pool<Req, Res> {
  run(req: Req): Promise<Res>;
  readonly hasIdle: boolean;
  readonly capacity: number;
  close(): Promise<void>;
}

/** True when the pooled phases run their partitions as jobs on a queue (DISTILL_QUEUE). */
export function queueMode(): boolean {
  return queueUrl() !== null;
}

/**
 * The executor of a pooled phase: with DISTILL_QUEUE (or the config's `queue`), a QueuePool whose
 * jobs `distill worker` processes run (docs/scale-out.md), whatever the input size; otherwise
 * `threads - 1` worker threads beside this one, or null (this thread only) when `threads` is 1.
 */
export function phasePool<Req, Res>(spec: {
  phase: string;
  module: URL;
  threads: number;
  data: unknown;
  root: string;
  requestIsFile?: boolean;
}): Pool<Req, Res> | null {
  if (queueMode()) return new QueuePool<Req, Res>(spec);
  return spec.threads > 1 ? new WorkerPool<Req, Res>(spec.module, spec.threads - 1, spec.data) : null;
}

type Pending<Res> = { resolve: (r: Res) => void; reject: (e: Error) => void };

/**
 * A pool of `size` workers running `moduleUrl`, which must call `serveRequests`. Each worker may
 * hold `workerQueueDepth()` requests at once (default 2: the one it runs and the next), so it goes
 * straight on to the next batch while this thread is busy with its own batch or with the results;
 * with a depth of 1, the worker idled for those stretches (screen's cold run at 1M used 1.4 of
 * its 2 cores).
 */
export class WorkerPool<Req, Res> implements Pool<Req, Res> {
  /** Each worker with the requests sent to it and not answered yet, oldest first (a worker answers in order). */
  private readonly all: { worker: Worker; queue: Pending<Res>[] }[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly depth = workerQueueDepth();
  private failed: Error | null = null;

  constructor(moduleUrl: URL, size: number, data: unknown) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(workerBootstrap(moduleUrl), { eval: true, workerData: data });
      const queue: Pending<Res>[] = [];
      w.on('message', (m: { ok: true; res: Res } | { ok: false; error: string }) => {
        const p = queue.shift();
        this.waiting.shift()?.();
        if (!p) return;
        if (m.ok) p.resolve(m.res);
        else p.reject(new Error(m.error));
      });
      w.on('error', (e) => {
        this.failed = e;
        for (const p of queue.splice(0)) p.reject(e);
        for (const wake of this.waiting.splice(0)) wake();
      });
      this.all.push({ worker: w, queue });
    }
  }

  /** The worker with the fewest requests, if it has room for one more. */
  private free(): { worker: Worker; queue: Pending<Res>[] } | null {
    let best: { worker: Worker; queue: Pending<Res>[] } | null = null;
    let least = this.depth;
    for (const w of this.all) {
      if (w.queue.length < least) {
        best = w;
        least = w.queue.length;
      }
    }
    return best;
  }

  /** Requests the workers can hold at once. */
  get capacity(): number {
    return this.all.length * this.depth;
  }

  /** True once a worker thread died: every later request is refused (a queue worker drops such a pool). */
  get broken(): boolean {
    return this.failed !== null;
  }

  /** True when a worker can take a request now. */
  get hasIdle(): boolean {
    return this.free() !== null;
  }

  /** Runs one request on the least busy worker, waiting for room when every worker is full. */
  async run(req: Req): Promise<Res> {
    let w = this.free();
    while (w === null) {
      if (this.failed) throw this.failed;
      await new Promise<void>((r) => this.waiting.push(r));
      w = this.free();
    }
    if (this.failed) throw this.failed;
    const { worker, queue } = w;
    return new Promise<Res>((resolve, reject) => {
      queue.push({ resolve, reject });
      worker.postMessage(req);
    });
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.worker.terminate()));
  }
}

/**
 * The worker side: answers each request with `handle(req, workerData)`; an exception is sent back
 * (with its stack) and rethrown by `run` in the main thread.
 */
export function serveRequests<Req, Res, Data>(handle: (req: Req, data: Data) => Res | Promise<Res>): void {
  if (isMainThread || !parentPort) return;
  const port = parentPort;
  // one request at a time, answered in the order received (the pool matches answers to requests by order)
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (req: Req) => {
    chain = chain
      .then(() => handle(req, workerData as Data))
      .then(
        (res) => port.postMessage({ ok: true, res }),
        (e: unknown) => port.postMessage({ ok: false, error: (e as Error)?.stack ?? String(e) }),
      );
  });
}

/**
 * Maps requests in order: in this thread for the first `after` requests, then on a pool made by
 * `makePool` (null: stay in this thread) with at most `window` requests in flight (at least one more
 * than the workers hold, so this thread never waits while there is work). This thread is
 * one of the cores: whenever every worker is busy it takes the next request itself, so the work
 * balances itself and `threads` cores need only `threads - 1` workers (each costs ~100 MB of
 * resident memory). The pool is closed when the map ends. A small input never starts a worker.
 * On the job queue (queueMode) the pool is made at the first request and takes every request.
 */
export async function* mapInOrder<Req, Res>(
  requests: AsyncIterable<Req>,
  local: (r: Req) => Res | Promise<Res>,
  makePool: () => Pool<Req, Res> | null,
  opts: { after: number; window: number },
): AsyncGenerator<Res> {
  let pool: Pool<Req, Res> | null = null;
  let n = 0;
  const after = queueMode() ? 0 : opts.after;
  const inFlight: Promise<Res>[] = [];
  try {
    for await (const req of requests) {
      if (++n === after + 1) pool = makePool();
      inFlight.push(runOrLocal(pool, req, local));
      // room for every request the workers can hold plus one here, or this thread would wait idle
      while (inFlight.length >= (pool ? Math.max(opts.window, pool.capacity + 1) : 1))
        yield await (inFlight.shift() as Promise<Res>);
    }
    while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Res>);
  } finally {
    await pool?.close();
  }
}

/** Runs a request on an idle worker, or in this thread when there is none (or no pool). */
export function runOrLocal<Req, Res>(
  pool: Pool<Req, Res> | null,
  req: Req,
  local: (r: Req) => Res | Promise<Res>,
): Promise<Res> {
  const p = pool?.hasIdle ? pool.run(req) : Promise.resolve().then(() => local(req));
  p.catch(() => undefined); // the caller awaits it in order; this only keeps an early rejection from being reported as unhandled
  return p;
}
