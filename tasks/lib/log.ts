/**
 * The one logger: everything human-readable goes to stderr. On a TTY, long work shows a progress
 * line that redraws in place; elsewhere (CI, pipes) there is no progress, only closing lines.
 */
import { safeLines } from './terminal-text.ts';

const tty = Boolean(process.stderr.isTTY) && process.env['CI'] !== 'true';
/** Read on every call, not once at load: tests run the CLI in-process with DISTILL_QUIET set per call. */
const quiet = (): boolean => process.env['DISTILL_QUIET'] === '1';

export const log = {
  info(msg: string): void {
    if (!quiet()) process.stderr.write(`${safeLines(msg)}\n`);
  },
  warn(msg: string): void {
    process.stderr.write(`⚠ ${safeLines(msg)}\n`);
  },
  error(msg: string): void {
    process.stderr.write(`✖ ${safeLines(msg)}\n`);
  },
  /** The closing line of a phase, e.g. `✔ score: 1,204 runs → 600 accepted, ...`. */
  done(msg: string): void {
    process.stderr.write(`✔ ${safeLines(msg)}\n`);
  },
  /** A closing report of several lines (run-all's phases, funnel and drift); printed even when quiet. */
  report(text: string): void {
    const safe = safeLines(text);
    process.stderr.write(safe.endsWith('\n') ? safe : `${safe}\n`);
  },
};

/** Formats an integer with thousands separators, independent of the locale. */
export function n(x: number): string {
  return String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A duration for a person: `14 s`, `3 min 05 s`, `1 h 02 min`. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * Pure core: one progress line, e.g. `score: 412,330 / 1,000,000 evidence rows (41 %) · 41,200 rows/s
 * · ~14 s left`. Without a total there is no share and no estimate; the rate needs a second of work.
 */
export function progressLine(
  label: string,
  count: number,
  total: number | null,
  unit: string,
  elapsedMs: number,
): string {
  const parts = [`${label}: ${n(count)}${total ? ` / ${n(total)}` : ''} ${unit}`];
  if (total) parts[0] += ` (${Math.min(100, Math.floor((100 * count) / total))} %)`;
  if (elapsedMs >= 1000 && count > 0) {
    const rate = (count * 1000) / elapsedMs;
    parts.push(`${n(Math.round(rate))} rows/s`);
    if (total && total > count) parts.push(`~${humanDuration(((total - count) / rate) * 1000)} left`);
  }
  return parts.join(' · ');
}

let progressNote: (() => string) | null = null;

/** A note every progress line ends with while it is set (the queue executor's finished partitions). */
export function setProgressNote(note: (() => string) | null): void {
  progressNote = note;
}

/** How long a phase works before its progress line appears: short phases stay silent. */
export const PROGRESS_AFTER_MS = 2000;

/**
 * A progress line for long work, redrawn in place on a TTY (rows, rows/s and the time left when the
 * total is known) once the work has taken PROGRESS_AFTER_MS. Silent when stderr is not a TTY, under
 * CI or with DISTILL_QUIET=1: logs and pipes get the phase's closing line only. (Phases run by
 * `npm run` are children of wireit, whose stderr is a pipe: `npx distill <phase>` or
 * `npx distill run-all` show the line.)
 */
export class Progress {
  private count = 0;
  private lastDraw = 0;
  private drawn = false;
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number | null = null,
    private readonly unit = 'rows',
  ) {}

  tick(by = 1): void {
    this.count += by;
    if (!tty || quiet() || (this.count & 255) !== 0) return;
    const now = performance.now();
    if (now - this.started < PROGRESS_AFTER_MS || now - this.lastDraw < 250) return;
    this.lastDraw = now;
    this.drawn = true;
    const note = progressNote?.();
    const line = `${progressLine(this.label, this.count, this.total, this.unit, now - this.started)}${note ? ` · ${note}` : ''}`;
    const width = (process.stderr.columns || 100) - 1; // a wrapped line cannot be redrawn with \r
    process.stderr.write(`\r${line.slice(0, width)}\x1b[K`);
  }

  end(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
  }
}
