import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { codeFingerprint } from '../code-fingerprint.ts';
import { sha256, sha256File } from '../hash.ts';
import { setProgressNote } from '../log.ts';
import { UserError } from '../result.ts';
import { connect, unreachable } from './connect.ts';
import { writeJobFile } from './files.ts';
import { recordBuilt } from './log.ts';
import {
  jobAttempts,
  JOBS_DIR,
  projectId,
  QUEUE_PREFIX,
  queueUrl,
  queueWindow,
  redactedUrl,
  type JobData,
  type JobResult,
} from './settings.ts';

/** The code root (tasks/ and schemas/ are under it): job modules are named relative to it. */
const CODE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Removes job files older than a day from a phase's job folder: results nobody read (a phase that
 * failed or was killed while its jobs ran) and temp files of killed workers. A live job's files are
 * minutes old.
 */
async function removeStale(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  const before = Date.now() - 86_400_000;
  for (const name of names) {
    const p = join(dir, name);
    const st = await fsp.stat(p).catch(() => null);
    if (st && st.mtimeMs < before) await fsp.rm(p, { force: true });
  }
}

/** What a phase hands the queue executor: the same as a WorkerPool, plus where the project is. */
export interface QueuePoolSpec {
  phase: string;
  /** The phase's worker-thread module (it calls serveRequests); the workers run it on their threads. */
  module: URL;
  /** The worker threads' data (plain, serialisable); a `root` key is replaced by each worker's root. */
  data: unknown;
  root: string;
  /** The request is an absolute path of a file under the root (score's partition files). */
  requestIsFile?: boolean;
}

interface Waiter {
  partition: number;
  label: string;
  /** Set once the job is surely in Redis (after the add): from then on, a job Redis does not know was lost. */
  added?: boolean;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Conn {
  queue: Queue;
  events: QueueEvents;
  conns: Redis[];
  projectId: string;
  code: string;
  module: string;
}

/**
 * The queue executor (issue #25): the WorkerPool interface (`run`, `hasIdle`, `capacity`, `close`)
 * over a BullMQ queue, so a pooled phase's reduce step is unchanged and its bytes are the same by
 * construction. Each request becomes one job: the request is v8-serialized (as postMessage would
 * copy it) into `.distill/queue/<phase>/<job>.req` in the shared project folder, the job in Redis
 * carries that path, its sha256, the project id and the code fingerprint; a `distill worker` runs
 * the phase's own worker module on the request and writes the result beside it (`.res`). The job
 * id is a hash of the project, phase, partition number and input digest: adding it again while it
 * exists is a no-op. This process does none of the work (`hasIdle` is always true).
 */
export class QueuePool<Req, Res> {
  private readonly ready: Promise<Conn>;
  private seq = 0;
  private finished = 0;
  private readonly waiters = new Map<string, Waiter>();
  private failed: Error | null = null;
  private poll: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly url: string;

  constructor(private readonly spec: QueuePoolSpec) {
    this.url = queueUrl() as string;
    this.ready = this.init();
    this.ready.catch(() => undefined); // surfaced by run()
    setProgressNote(() => `${this.finished}/${this.seq} partitions done on the queue`);
  }

  /** Jobs in flight at once. */
  get capacity(): number {
    return queueWindow();
  }

  /** Always: the queue holds what the workers have not taken yet. */
  get hasIdle(): boolean {
    return true;
  }

  private async init(): Promise<Conn> {
    const { Queue, QueueEvents } = await import('bullmq');
    const name = `distill-phase:${hostname()}:${process.pid}`;
    const [id, a] = await Promise.all([projectId(this.spec.root), connect(this.url, 'producer', name)]);
    const conns: Redis[] = [a];
    try {
      const b = await connect(this.url, 'producer', name);
      conns.push(b);
      for (const c of conns)
        c.on('end', () => this.fail(unreachable(this.url, 'the connection was lost and did not come back')));
      const queue = new Queue(this.spec.phase, { connection: a, prefix: QUEUE_PREFIX });
      const events = new QueueEvents(this.spec.phase, { connection: b, prefix: QUEUE_PREFIX });
      queue.on('error', () => undefined); // connection loss is reported by 'end' above
      events.on('error', () => undefined);
      await events.waitUntilReady();
      events.on('completed', ({ jobId, returnvalue }) => {
        const w = this.waiters.get(jobId);
        if (!w) return;
        const v = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as JobResult;
        this.settle(jobId, w, v, null);
      });
      events.on('failed', ({ jobId }) => {
        if (this.waiters.has(jobId)) void this.check(jobId);
      });
      // events can be missed (a job finished before the subscription, a stream trimmed): a slow poll of
      // the jobs in flight catches them
      this.poll = setInterval(() => {
        for (const jobId of [...this.waiters.keys()]) void this.check(jobId);
      }, 2000);
      this.poll.unref();
      await removeStale(join(this.spec.root, JOBS_DIR, this.spec.phase));
      const module = relative(CODE_ROOT, fileURLToPath(this.spec.module)).split(sep).join('/');
      return { queue, events, conns, projectId: id, code: codeFingerprint(), module };
    } catch (e) {
      for (const c of conns) c.disconnect();
      throw e;
    }
  }

  private fail(e: Error): void {
    if (this.closed || this.failed) return;
    this.failed = e;
    for (const [jobId, w] of this.waiters) {
      this.waiters.delete(jobId);
      w.reject(e);
    }
  }

  private settle(jobId: string, w: Waiter, v: JobResult | null, e: Error | null): void {
    if (this.waiters.get(jobId) !== w) return;
    this.waiters.delete(jobId);
    if (e) w.reject(e);
    else w.resolve(v as JobResult);
  }

  /** Looks a job up: settles its waiter when it completed or failed for good. */
  private async check(jobId: string): Promise<void> {
    const w = this.waiters.get(jobId);
    if (!w || this.failed) return;
    try {
      const c = await this.ready;
      // the state first: a job read before it finished would have no result yet
      const state = await c.queue.getJobState(jobId);
      if (state === 'unknown' && w.added && this.waiters.get(jobId) === w)
        return this.settle(jobId, w, null, this.lostError(jobId, w));
      if (state !== 'completed' && state !== 'failed') return;
      const job = await c.queue.getJob(jobId);
      if (!job) return;
      if (state === 'failed') return this.settle(jobId, w, null, this.jobError(job, w));
      const res = job.returnvalue as JobResult | null;
      if (res && typeof res.path === 'string') this.settle(jobId, w, res, null);
    } catch {
      // Redis gone: the connection's 'end' fails the phase
    }
  }

  /** A job added by this run that Redis no longer holds: Redis restarted without its data, or failed over. */
  private lostError(jobId: string, w: Waiter): UserError {
    return new UserError(
      'QUEUE_JOB_FAILED',
      `${this.spec.phase}: partition ${w.partition} (${w.label}; job ${jobId}) is no longer in Redis (${redactedUrl(this.url)} restarted without its data, or failed over). Nothing was published; run the phase again (docs/scale-out.md, "Failures").`,
    );
  }

  private jobError(job: Job, w: Waiter): UserError {
    const who = job.processedBy ?? 'an unknown worker';
    return new UserError(
      'QUEUE_JOB_FAILED',
      `${this.spec.phase}: partition ${w.partition} (${w.label}; job ${job.id}) failed after ${job.attemptsMade} attempt(s), last on worker ${who}: ${job.failedReason}. Nothing was published; \`distill queue\` lists the failed jobs (docs/scale-out.md, "Failures").`,
    );
  }

  /** Runs one request as a job and returns its result. */
  async run(req: Req): Promise<Res> {
    if (this.failed) throw this.failed;
    const partition = this.seq++;
    const c = await this.ready;
    try {
      return await this.runJob(c, partition, req);
    } catch (e) {
      // a Redis command cut off by the outage ("Connection is closed"): the outage is the error
      if (this.failed) throw this.failed;
      if (!(e instanceof UserError) && c.conns.some((x) => x.status !== 'ready'))
        throw unreachable(this.url, (e as Error).message);
      throw e;
    }
  }

  private async runJob(c: Conn, partition: number, req: Req): Promise<Res> {
    if (this.failed) throw this.failed;
    const { root, phase } = this.spec;
    let payload: unknown = req;
    let file: JobData['file'] = null;
    let label = `batch ${partition}`;
    if (this.spec.requestIsFile) {
      const rel = relative(root, req as string);
      if (isAbsolute(rel) || rel.startsWith('..'))
        throw new Error(`queue: ${String(req)} is outside the project root ${root}`);
      const path = rel.split(sep).join('/');
      file = { path, sha256: await sha256File(req as string) };
      payload = path;
      label = path;
    }
    const bytes = serialize(payload);
    const reqSha = sha256(bytes);
    const rootKey = typeof this.spec.data === 'object' && this.spec.data !== null && 'root' in this.spec.data;
    const data = rootKey ? { ...(this.spec.data as object), root: null } : this.spec.data;
    const inputDigest = sha256(JSON.stringify([reqSha, file?.sha256 ?? null, data ?? null]));
    const jobId = sha256(JSON.stringify([c.projectId, phase, partition, inputDigest, c.code])).slice(0, 40);
    const reqPath = `${JOBS_DIR}/${phase}/${jobId}.req`;
    await writeJobFile(join(root, reqPath), bytes);
    const jobData: JobData = {
      projectId: c.projectId,
      phase,
      partition,
      label,
      code: c.code,
      module: c.module,
      request: { path: reqPath, sha256: reqSha, bytes: bytes.length },
      file,
      data,
      rootKey,
      inputDigest,
    };
    const done = new Promise<JobResult>((resolve, reject) =>
      this.waiters.set(jobId, { partition, label, resolve, reject }),
    );
    done.catch(() => undefined);
    await this.enqueue(c.queue, jobId, jobData);
    const waiter = this.waiters.get(jobId);
    if (waiter) waiter.added = true;
    const result = await done;
    // the result file is where this job's worker writes it, nowhere else: a job's return value comes
    // through Redis, so a path it names is not trusted (read or removed) unless it is that one
    const resPath = `${JOBS_DIR}/${phase}/${jobId}.res`;
    if (result.path !== resPath)
      throw new UserError(
        'QUEUE_JOB_FAILED',
        `${phase}: partition ${partition} (${label}; job ${jobId}) came back naming ${JSON.stringify(result.path)} as its result, not ${resPath}; refused. Nothing was published.`,
      );
    const out = await fsp.readFile(join(root, result.path));
    if (sha256(out) !== result.sha256)
      throw new Error(`queue: ${result.path} does not match the sha256 its worker reported`);
    recordBuilt(phase, { partition, label, job: jobId, worker: result.worker, ms: result.ms });
    this.finished++;
    await Promise.all([
      fsp.rm(join(root, reqPath), { force: true }),
      fsp.rm(join(root, result.path), { force: true }),
    ]);
    return deserialize(out) as Res;
  }

  /**
   * Adds the job; when one with this id exists (a rerun, or a phase restarted while its jobs ran)
   * adding is a no-op and its state decides: waiting or active, wait for it; completed, use its
   * result if the file is still there; failed (or completed without its file), add it afresh.
   */
  private async enqueue(queue: Queue, jobId: string, data: JobData): Promise<void> {
    const opts = {
      jobId,
      attempts: jobAttempts(),
      backoff: { type: 'fixed', delay: 250 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 7 * 86_400 },
    };
    const addedAt = Date.now();
    await queue.add(data.phase, data, opts);
    const state = await queue.getJobState(jobId);
    if (state !== 'failed' && state !== 'completed') return; // waiting, delayed or active: wait for it
    const job = await queue.getJob(jobId);
    // finished before this add: a job of an earlier run (this one's are settled by events and polls)
    if (!job || (job.finishedOn ?? addedAt) >= addedAt - 1000) return void this.check(jobId);
    const res = job.returnvalue as JobResult | null;
    if (state === 'completed' && res) {
      try {
        await fsp.access(join(this.spec.root, res.path));
        return void this.check(jobId);
      } catch {
        // its result was read and removed: build it again
      }
    }
    await job.remove();
    await queue.add(data.phase, data, opts);
  }

  /** Stops waiting: removes this run's jobs no worker took yet and their files, and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    setProgressNote(null);
    if (this.poll) clearInterval(this.poll);
    let c: Conn;
    try {
      c = await this.ready;
    } catch {
      return;
    }
    const left = [...this.waiters.keys()];
    this.waiters.clear();
    if (!this.failed)
      await Promise.all(
        left.map(async (id) => {
          try {
            await (await c.queue.getJob(id))?.remove();
          } catch {
            // taken by a worker meanwhile: it finishes, nobody reads it
          }
          await fsp.rm(join(this.spec.root, JOBS_DIR, this.spec.phase, `${id}.req`), { force: true });
        }),
      );
    // closing stops BullMQ's own retry loops (they would keep the process alive); on a lost Redis it
    // cannot finish, so it is given a moment, then the connections are cut
    const closing = Promise.allSettled([c.events.close(), c.queue.close()]);
    await Promise.race([closing, new Promise((r) => setTimeout(r, this.failed ? 200 : 5000).unref())]);
    for (const conn of c.conns) conn.disconnect();
  }
}
