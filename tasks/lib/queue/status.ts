import { hostname } from 'node:os';
import { UserError } from '../result.ts';
import { connect } from './connect.ts';
import { projectId, QUEUE_PHASES, QUEUE_PREFIX, queueUrl, redactedUrl, type JobData } from './settings.ts';

/** One phase's queue: jobs by state, the workers connected, the latest failures. */
export interface PhaseQueueStatus {
  phase: string;
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  workers: number;
  failures: {
    job: string;
    partition: number;
    label: string;
    worker: string | null;
    attempts: number;
    reason: string;
  }[];
}

/** `distill queue`: the jobs of every pooled phase by state, and the last failures with their worker and error. */
export async function queueStatus(
  root: string,
): Promise<{ url: string; project: string; phases: PhaseQueueStatus[] }> {
  const url = queueUrl();
  if (url === null)
    throw new UserError(
      'USAGE',
      'no job queue is set: DISTILL_QUEUE=redis://host:port/db (or "queue" in distill.config.json); without it every phase runs in-process',
    );
  const conn = await connect(url, 'producer', `distill-queue:${hostname()}:${process.pid}`);
  const { Queue } = await import('bullmq');
  try {
    const phases: PhaseQueueStatus[] = [];
    for (const phase of QUEUE_PHASES) {
      const q = new Queue<JobData>(phase, { connection: conn, prefix: QUEUE_PREFIX });
      try {
        const c = await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
        const failed = await q.getFailed(0, 4);
        phases.push({
          phase,
          waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
          active: c['active'] ?? 0,
          completed: c['completed'] ?? 0,
          failed: c['failed'] ?? 0,
          delayed: c['delayed'] ?? 0,
          workers: await q.getWorkersCount(),
          failures: failed.map((j) => ({
            job: String(j.id),
            partition: (j.data as JobData).partition,
            label: (j.data as JobData).label,
            worker: j.processedBy ?? null,
            attempts: j.attemptsMade,
            reason: j.failedReason,
          })),
        });
      } finally {
        await q.close();
      }
    }
    return { url: redactedUrl(url), project: await projectId(root), phases };
  } finally {
    conn.disconnect();
  }
}

/** The status as a table. */
export function formatQueueStatus(s: Awaited<ReturnType<typeof queueStatus>>): string {
  const head = ['phase', 'waiting', 'active', 'completed', 'failed', 'delayed', 'workers'];
  const rows = s.phases.map((p) => [
    p.phase,
    ...[p.waiting, p.active, p.completed, p.failed, p.delayed, p.workers].map(String),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(width[i] as number) : c.padStart(width[i] as number))).join('  ');
  const out = [`queue ${s.url} (project ${s.project.slice(0, 8)})`, line(head), ...rows.map(line)];
  for (const p of s.phases)
    for (const f of p.failures)
      out.push(
        `failed: ${p.phase} partition ${f.partition} (${f.label}; job ${f.job}) after ${f.attempts} attempt(s) on ${f.worker ?? 'an unknown worker'}: ${f.reason}`,
      );
  return out.join('\n');
}
