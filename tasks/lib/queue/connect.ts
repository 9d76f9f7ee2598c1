import type { Redis } from 'ioredis';
import { UserError } from '../result.ts';
import { connectGiveUpMs, redactedUrl } from './settings.ts';

/**
 * ioredis connections for the queue. A phase (`producer`) gives up on an unreachable Redis after
 * connectGiveUpMs() with QUEUE_UNREACHABLE (nothing published), never retrying forever; a
 * long-running `distill worker` must be reachable when it starts, then rides out an outage by
 * reconnecting (BullMQ moves the jobs it held back once their locks expire).
 */
export async function connect(url: string, role: 'producer' | 'worker', name: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const giveUp = connectGiveUpMs();
  let gaveUp = false;
  let connectedOnce = false;
  const conn = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null, // BullMQ's blocking commands need it; outages are bounded by retryStrategy
    connectTimeout: Math.min(giveUp, 3000),
    retryStrategy: (times: number) => {
      if (role === 'worker' && connectedOnce) return Math.min(1000, 100 * times);
      if (times * 250 >= giveUp) {
        gaveUp = true;
        return null; // ends the connection: 'end' is emitted and pending commands reject
      }
      return 250;
    },
  });
  conn.on('error', () => undefined); // reported through 'end' / the ping below, not as an unhandled event
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${giveUp} ms`)), giveUp);
      let last: Error | null = null;
      conn.on('error', (e: Error) => (last = e));
      conn.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
      conn.once('end', () => {
        clearTimeout(timer);
        reject(last ?? new Error('connection closed'));
      });
    });
  } catch (e) {
    conn.disconnect();
    throw unreachable(url, (e as Error).message, gaveUp);
  }
  connectedOnce = true;
  return conn;
}

/** The error of an unreachable Redis. */
export function unreachable(url: string, why: string, _gaveUp = true): UserError {
  return new UserError(
    'QUEUE_UNREACHABLE',
    `cannot reach the job queue's Redis at ${redactedUrl(url)} (DISTILL_QUEUE or "queue" in distill.config.json): ${why}. Nothing was published. Start Redis (or fix the URL) and rerun, or unset DISTILL_QUEUE to build in this process.`,
  );
}
