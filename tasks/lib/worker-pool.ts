import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/**
 * A small pool of worker threads for the CPU-bound per-row work of a phase (one request = one
 * batch of rows). Results never depend on which worker ran a batch or when: callers either merge
 * order-independent results or put them back in request order, so output stays byte-identical
 * to a single-threaded run. Workers load the same TypeScript modules through tsx, registered in
 * each worker by a small bootstrap (a loader given with --import does not reach worker threads).
 */

const TSX_API = import.meta.resolve('tsx/esm/api');

/** The worker's entry code: register tsx in this thread, then import the worker module. */
function bootstrap(moduleUrl: URL): string {
  return `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}); }).catch((e) => { console.error(e); process.exit(70); });`;
}

/** Threads to use: DISTILL_THREADS when set (1 = no workers), else the cores available, at most 4. */
export function threadCount(): number {
  const env = process.env['DISTILL_THREADS'];
  if (env !== undefined && /^[0-9]+$/.test(env) && Number(env) >= 1) return Number(env);
  return Math.max(1, Math.min(4, availableParallelism()));
}

type Pending<Res> = { resolve: (r: Res) => void; reject: (e: Error) => void };

/** A pool of `size` workers running `moduleUrl`, which must call `serveRequests`. */
export class WorkerPool<Req, Res> {
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<Worker, Pending<Res>>();
  private readonly all: Worker[] = [];
  private failed: Error | null = null;

  constructor(moduleUrl: URL, size: number, data: unknown) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(bootstrap(moduleUrl), { eval: true, workerData: data });
      w.on('message', (m: { ok: true; res: Res } | { ok: false; error: string }) => {
        const p = this.pending.get(w);
        this.pending.delete(w);
        this.release(w);
        if (!p) return;
        if (m.ok) p.resolve(m.res);
        else p.reject(new Error(m.error));
      });
      w.on('error', (e) => {
        this.failed = e;
        const p = this.pending.get(w);
        this.pending.delete(w);
        p?.reject(e);
        for (const wake of this.waiting.splice(0)) wake();
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  private release(w: Worker): void {
    this.idle.push(w);
    this.waiting.shift()?.();
  }

  /** True when a worker is free to take a request now. */
  get hasIdle(): boolean {
    return this.idle.length > 0;
  }

  /** Runs one request on the next idle worker. */
  async run(req: Req): Promise<Res> {
    while (this.idle.length === 0) {
      if (this.failed) throw this.failed;
      await new Promise<void>((r) => this.waiting.push(r));
    }
    if (this.failed) throw this.failed;
    const w = this.idle.pop() as Worker;
    return new Promise<Res>((resolve, reject) => {
      this.pending.set(w, { resolve, reject });
      w.postMessage(req);
    });
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

/**
 * The worker side: answers each request with `handle(req, workerData)`; an exception is sent back
 * (with its stack) and rethrown by `run` in the main thread.
 */
export function serveRequests<Req, Res, Data>(handle: (req: Req, data: Data) => Res | Promise<Res>): void {
  if (isMainThread || !parentPort) return;
  const port = parentPort;
  port.on('message', (req: Req) => {
    Promise.resolve()
      .then(() => handle(req, workerData as Data))
      .then(
        (res) => port.postMessage({ ok: true, res }),
        (e: unknown) => port.postMessage({ ok: false, error: (e as Error)?.stack ?? String(e) }),
      );
  });
}

/**
 * Maps requests in order: in this thread for the first `after` requests, then on a pool made by
 * `makePool` (null: stay in this thread) with at most `window` requests in flight. This thread is
 * one of the cores: whenever every worker is busy it takes the next request itself, so the work
 * balances itself and `threads` cores need only `threads - 1` workers (each costs ~100 MB of
 * resident memory). The pool is closed when the map ends. A small input never starts a worker.
 */
export async function* mapInOrder<Req, Res>(requests: AsyncIterable<Req>, local: (r: Req) => Res | Promise<Res>, makePool: () => WorkerPool<Req, Res> | null, opts: { after: number; window: number }): AsyncGenerator<Res> {
  let pool: WorkerPool<Req, Res> | null = null;
  let n = 0;
  const inFlight: Promise<Res>[] = [];
  try {
    for await (const req of requests) {
      if (++n === opts.after + 1) pool = makePool();
      inFlight.push(runOrLocal(pool, req, local));
      while (inFlight.length >= (pool ? opts.window : 1)) yield await (inFlight.shift() as Promise<Res>);
    }
    while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Res>);
  } finally {
    await pool?.close();
  }
}

/** Runs a request on an idle worker, or in this thread when there is none (or no pool). */
export function runOrLocal<Req, Res>(pool: WorkerPool<Req, Res> | null, req: Req, local: (r: Req) => Res | Promise<Res>): Promise<Res> {
  const p = pool?.hasIdle ? pool.run(req) : Promise.resolve().then(() => local(req));
  p.catch(() => undefined); // the caller awaits it in order; this only keeps an early rejection from being reported as unhandled
  return p;
}
