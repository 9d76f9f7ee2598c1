import { liveHolder } from '../lib/lock.ts';
import { UserError } from '../lib/result.ts';
import { PIPELINE } from '../phases/registry.ts';

/**
 * Refuses a build (LOCKED, before anything is written) while another process holds the lock of
 * any phase it would run: a phase typed by hand (`distill score`) while `run-all` starts.
 */
export async function refuseIfPhaseLocked(root: string): Promise<void> {
  for (const p of PIPELINE) {
    const h = await liveHolder(root, p.phase);
    if (h)
      throw new UserError(
        'LOCKED',
        `${p.phase} is locked by pid ${h.pid} since ${h.started_at} (.distill/locks/${p.phase}.lock); ` +
          'this build is refused and changed nothing. Wait for that run to finish and rerun; if no such process exists, delete the lock file.',
      );
  }
}
