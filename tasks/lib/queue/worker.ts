import type { Job, Worker } from 'bullmq';
import { promises as fsp } from 'node:fs';
import { hostname, availableParallelism } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { codeFingerprint } from '../code-fingerprint.ts';
import { crashPoint, pausePoint } from '../fault.ts';
import { sha256, sha256File } from '../hash.ts';
import { log } from '../log.ts';
import { UserError } from '../result.ts';
import { WorkerPool } from '../worker-pool.ts';
import { connect } from './connect.ts';
import { writeJobFile } from './files.ts';
import {
  jobAttempts,
  JOBS_DIR,
  lockMs,
  projectId,
  QUEUE_PHASES,
  QUEUE_PREFIX,
  queueUrl,
  redactedUrl,
  type JobData,
  type JobResult,
} from './settings.ts';

const CODE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** A relative path with no `..` step and no root: inside the project folder it is joined to. */
function insideProject(rel: string): boolean {
  if (rel === '' || isAbsolute(rel) || rel.includes('\\')) return false;
  const n = posix.normalize(rel);
  return n === rel && n !== '..' && !n.startsWith('../') && !n.startsWith('/');
}

/** The only modules a job may name: a phase's worker-thread module (never a path trusted blindly). */
const MODULE_RE = /^tasks\/phases\/[a-z][a-z-]*\/worker\.ts$/;

/** A job this worker must not run on any attempt (another project, other code). */
class Refused extends Error {}

/**
 * `distill worker`: processes the jobs of every pooled phase (one BullMQ queue per phase) for the
 * project at `root`, which on other machines is the same folder mounted over NFS or any POSIX
 * mount (docs/scale-out.md). Each job's request is read from the shared folder after checking the
 * project id, the code fingerprint and the sha256 of every input it names; the phase's own worker
 * module runs it on one of `concurrency` worker threads (so this thread stays free to renew the
 * job locks), and the result is written beside it (temp file + rename) for the phase to merge.
 * SIGTERM / SIGINT: stop taking jobs, finish the ones running, exit 0; a second signal exits at
 * once (its jobs are retried elsewhere once their locks expire).
 */
export async function runWorker(root: string, opts: { concurrency: number | null }): Promise<number> {
  const url = queueUrl();
  if (url === null)
    throw new UserError(
      'USAGE',
      'distill worker needs the job queue: set DISTILL_QUEUE=redis://host:port/db (or "queue" in distill.config.json)',
    );
  const concurrency = opts.concurrency ?? availableParallelism();
  const name = `${hostname()}:${process.pid}`;
  const [id, code] = [await projectId(root), codeFingerprint()];
  const conn = await connect(url, 'worker', `distill-worker:${name}`);
  const { Worker: BullWorker, UnrecoverableError } = await import('bullmq');
  let outage = false;
  conn.on('error', (e: Error) => {
    if (!outage) log.warn(`worker ${name}: lost Redis at ${redactedUrl(url)} (${e.message}); reconnecting`);
    outage = true;
  });
  conn.on('ready', () => {
    if (outage) log.info(`worker ${name}: Redis is back`);
    outage = false;
  });

  /** Thread pools by phase module and data, closed when idle for a minute. */
  const pools = new Map<string, { pool: WorkerPool<unknown, unknown>; busy: number; last: number }>();
  const sweep = setInterval(() => {
    for (const [k, p] of pools)
      if (p.busy === 0 && performance.now() - p.last > 60_000) {
        pools.delete(k);
        void p.pool.close();
      }
  }, 10_000);
  sweep.unref();

  let done = 0;
  const process1 = async (phase: string, job: Job<JobData>): Promise<JobResult> => {
    const t0 = performance.now();
    const d = job.data;
    // what a job names comes through Redis: the worker reads and writes only the files a job of this
    // queue's phase can have (its request and result beside it, a partition file inside the project)
    if (d.phase !== phase || !d.module.startsWith(`tasks/phases/${phase}/`))
      throw new Refused(
        `worker ${name} refuses job ${job.id}: it names phase ${d.phase} (module ${d.module}) on the ${phase} queue`,
      );
    if (!/^[0-9a-f]{40}$/.test(job.id ?? '') || d.request.path !== `${JOBS_DIR}/${phase}/${job.id}.req`)
      throw new Refused(
        `worker ${name} refuses job ${job.id}: its request ${d.request.path} is not this job's request file`,
      );
    if (d.file && !insideProject(d.file.path))
      throw new Refused(
        `worker ${name} refuses job ${job.id}: its partition file ${d.file.path} is not a path inside the project`,
      );
    if (d.projectId !== id)
      throw new Refused(
        `worker ${name} refuses job ${job.id}: it is for project ${d.projectId}, but this worker's folder ${root} is project ${id} (.distill/project-id); mount the shared project folder the phase runs in and start the worker there`,
      );
    if (d.code !== code)
      throw new Refused(
        `worker ${name} refuses job ${job.id}: it was enqueued by other code (fingerprint ${d.code.slice(0, 12)}, this worker runs ${code.slice(0, 12)}); run the same checkout of distill on every machine`,
      );
    if (!MODULE_RE.test(d.module))
      throw new Refused(`worker ${name} refuses job ${job.id}: module ${d.module}`);
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(join(root, d.request.path));
    } catch (e) {
      throw new Error(
        `worker ${name}: cannot read ${d.request.path} under ${root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is this the shared project folder?`,
      );
    }
    if (sha256(bytes) !== d.request.sha256)
      throw new Error(
        `worker ${name}: ${d.request.path} under ${root} does not match the job's input digest; is this the shared project folder?`,
      );
    let req = deserialize(bytes) as unknown;
    if (d.file) {
      const abs = join(root, d.file.path);
      const sha = await sha256File(abs).catch(() => null);
      if (sha !== d.file.sha256)
        throw new Error(
          `worker ${name}: ${d.file.path} under ${root} ${sha === null ? 'is missing' : "does not match the job's input digest"}; is this the shared project folder?`,
        );
      req = abs;
    }
    const data = d.rootKey ? { ...(d.data as object), root } : d.data;
    const key = `${d.module}\u0000${JSON.stringify(d.data)}`;
    let entry = pools.get(key);
    if (!entry) {
      const moduleUrl = pathToFileURL(join(CODE_ROOT, d.module));
      entry = { pool: new WorkerPool(moduleUrl, concurrency, data), busy: 0, last: 0 };
      pools.set(key, entry);
    }
    entry.busy++;
    let res: unknown;
    try {
      res = await entry.pool.run(req);
    } catch (e) {
      // a thread that died (out of memory, a crash) leaves its pool failing every request: drop it, so
      // the next job (this one's retry among them) gets fresh threads
      if (entry.pool.broken && pools.get(key) === entry) {
        pools.delete(key);
        void entry.pool.close();
      }
      throw e;
    } finally {
      entry.busy--;
      entry.last = performance.now();
    }
    await pausePoint(`queue:${d.phase}:job`); // test hooks (lib/fault.ts): a job surely in progress
    crashPoint(`queue:${d.phase}:job`);
    const out = serialize(res);
    const path = `${JOBS_DIR}/${d.phase}/${job.id}.res`;
    await writeJobFile(join(root, path), out);
    done++;
    return {
      path,
      sha256: sha256(out),
      bytes: out.length,
      worker: name,
      ms: Math.round(performance.now() - t0),
    };
  };

  const workers: Worker[] = QUEUE_PHASES.map(
    (phase) =>
      new BullWorker<JobData, JobResult>(
        phase,
        async (job) => {
          try {
            return await process1(phase, job);
          } catch (e) {
            log.warn(`worker ${name}: ${phase} job ${job.id} (${job.data.label}): ${(e as Error).message}`);
            if (e instanceof Refused) throw new UnrecoverableError(e.message);
            throw new Error(`${(e as Error).message}`);
          }
        },
        {
          connection: conn,
          prefix: QUEUE_PREFIX,
          concurrency,
          name,
          lockDuration: lockMs(),
          stalledInterval: lockMs(),
          // a stall (its worker died) is retried like a failed attempt; the phase fails after that many
          maxStalledCount: jobAttempts(),
        },
      ),
  );
  for (const w of workers) w.on('error', () => undefined); // connection trouble: reported by `conn` above
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log.info(
    `worker ${name}: serving ${QUEUE_PHASES.join(', ')} jobs of ${root} (project ${id.slice(0, 8)}) from ${redactedUrl(url)}, ${concurrency} at a time; SIGTERM to stop`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        log.warn(`worker ${name}: ${sig} again, leaving at once (running jobs are retried elsewhere)`);
        process.exit(130);
      }
      stopping = true;
      log.info(`worker ${name}: ${sig}: finishing the running jobs, then stopping`);
      void (async () => {
        await Promise.allSettled(workers.map((w) => w.close()));
        clearInterval(sweep);
        await Promise.allSettled([...pools.values()].map((p) => p.pool.close()));
        conn.disconnect();
        log.info(`worker ${name}: stopped after ${done} jobs`);
        resolve(0);
      })();
    };
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  });
}
