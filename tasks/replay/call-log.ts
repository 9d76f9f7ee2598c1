import { ReplayCall } from '../../schemas/replay-call.ts';
import { REPLAY_REPORTS_DIR } from '../replay/layout.ts';
import { appendRotating } from './log-rotation.ts';
import type { ReplaySettings } from './settings.ts';

/** Base name of the call log: reports/replay/calls.jsonl, calls.1.jsonl, … */
export const CALL_LOG = 'calls';

/** A logger that validates each ReplayCall row and appends it to reports/replay/calls.jsonl with rotation. */
export function callLogger(root: string, settings: ReplaySettings): (row: ReplayCall) => Promise<void> {
  return async (row) => {
    await appendRotating(root, REPLAY_REPORTS_DIR, CALL_LOG, [ReplayCall.parse(row)], {
      maxBytes: settings.log.max_bytes,
      keep: settings.log.keep,
    });
  };
}
