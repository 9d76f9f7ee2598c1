import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/**
 * The executor setting (issue #25): where a pooled phase's per-partition work runs. Local (this
 * process and its worker threads) unless `DISTILL_QUEUE=redis://host:port/db` is set, or the
 * config's `queue` key; then each partition is a BullMQ job that `distill worker` processes run
 * (docs/scale-out.md). This module loads nothing heavy: help and local builds never load BullMQ.
 */

/** What a queue URL must look like (checked by the config schema too). */
export const QUEUE_URL_RE = /^rediss?:\/\/[^\s/]*(:[0-9]+)?(\/[0-9]{1,2})?$/;

let configured: string | null = null;

/** Records the config's `queue` setting (loadConfig calls this). */
export function setConfiguredQueue(url: string | undefined): void {
  configured = url ?? null;
}

/**
 * The queue URL in effect, or null for the local executor: $DISTILL_QUEUE (`local` forces the
 * local executor), else the `queue` of the config loaded last.
 */
export function queueUrl(): string | null {
  const env = process.env['DISTILL_QUEUE'];
  if (env === 'local') return null;
  if (env !== undefined && env !== '') return env;
  return configured;
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  return url.replace(
    /\/\/([^@/]*)@/,
    (_m, auth: string) => `//${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`,
  );
}

function knob(name: string, fallback: number): number {
  const v = process.env[name];
  return v !== undefined && /^[0-9]+$/.test(v) && Number(v) > 0 ? Number(v) : fallback;
}

/**
 * How long a worker's lock on a job lasts without renewal (ms); the stalled-job check runs at the
 * same interval, so a job whose worker died is retried after at most about twice this.
 * Renewal runs on the worker's main thread, which only moves files: the work is on its threads.
 */
export const lockMs = (): number => knob('DISTILL_QUEUE_LOCK_MS', 30_000);
/** Attempts of a job before the phase fails (a stall counts as one). */
export const jobAttempts = (): number => knob('DISTILL_QUEUE_ATTEMPTS', 3);
/** Jobs a phase keeps in flight at once (its results are merged in order, as in the local pool). */
export const queueWindow = (): number => knob('DISTILL_QUEUE_WINDOW', 16);
/** Give up on an unreachable Redis after this long (ms): a clear error, never an endless retry. */
export const connectGiveUpMs = (): number => knob('DISTILL_QUEUE_CONNECT_MS', 5_000);

/** Where job requests and results live, relative to the project root (the shared folder). */
export const JOBS_DIR = '.distill/queue';

/** The BullMQ key prefix of distill's queues; one queue per pooled phase. */
export const QUEUE_PREFIX = 'distill';
/** The phases whose partitions run as jobs. */
export const QUEUE_PHASES = ['build-evidence', 'score', 'screen'] as const;

/**
 * This project's id: a random id created once in `.distill/project-id` (never in a dataset). A
 * worker compares it with the id a job carries, so a worker whose shared folder is another
 * project (or another copy of it) refuses the job instead of trusting a path.
 */
export async function projectId(root: string): Promise<string> {
  const path = join(root, '.distill', 'project-id');
  try {
    return (await fsp.readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fsp.mkdir(join(root, '.distill'), { recursive: true });
  try {
    await fsp.writeFile(path, `${randomUUID()}\n`, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process made it first
  }
  return (await fsp.readFile(path, 'utf8')).trim();
}

/** What a job carries (JSON in Redis); files are relative to the project root. */
export interface JobData {
  projectId: string;
  phase: string;
  /** The request's place in the phase's sequence (0-based). */
  partition: number;
  /** A name for messages (score: its partition file). */
  label: string;
  /** codeFingerprint() of the code that enqueued it: a worker running other code refuses it. */
  code: string;
  /** The phase's worker-thread module, relative to the code root (tasks/phases/<phase>/worker.ts). */
  module: string;
  /** The request, v8-serialized, and its sha256. */
  request: { path: string; sha256: string; bytes: number };
  /** Score's request is a file: root-relative, with its sha256 (the worker checks both). */
  file: { path: string; sha256: string } | null;
  /** The worker threads' data; `root` (when `rootKey`) is replaced by the worker's own root. */
  data: unknown;
  rootKey: boolean;
  /** sha256 over the request, the file's sha256 and the data: the job id derives from it. */
  inputDigest: string;
}

/** What a job returns (JSON in Redis): where its v8-serialized result is, and who built it. */
export interface JobResult {
  path: string;
  sha256: string;
  bytes: number;
  worker: string;
  ms: number;
}
