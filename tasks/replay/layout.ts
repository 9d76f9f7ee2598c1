/** Replay call logs and eval reports (not a phase output: written by replay / replay-eval). */
export const REPLAY_REPORTS_DIR = 'reports/replay';
