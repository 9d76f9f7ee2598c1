/**
 * The one logger: everything human-readable goes to stderr. On a TTY, long work shows a progress
 * line that redraws in place; elsewhere (CI, pipes) progress prints plain lines sparingly.
 */
const tty = Boolean(process.stderr.isTTY) && process.env['CI'] !== 'true';
const quiet = process.env['DISTILL_QUIET'] === '1';

export const log = {
  info(msg: string): void {
    if (!quiet) process.stderr.write(`${msg}\n`);
  },
  warn(msg: string): void {
    process.stderr.write(`⚠ ${msg}\n`);
  },
  error(msg: string): void {
    process.stderr.write(`✖ ${msg}\n`);
  },
  /** The closing line of a phase, e.g. `✔ score: 1,204 runs → 600 accepted, ...`. */
  done(msg: string): void {
    process.stderr.write(`✔ ${msg}\n`);
  },
  /** A closing report of several lines (run-all's phases, funnel and drift); printed even when quiet. */
  report(text: string): void {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  },
};

/** Formats an integer with thousands separators, independent of the locale. */
export function n(x: number): string {
  return String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A progress reporter over a known or unknown total. */
export class Progress {
  private count = 0;
  private lastDraw = 0;
  private nextPlain: number;

  constructor(
    private readonly label: string,
    private readonly total: number | null = null,
    private readonly plainEvery = 250_000,
  ) {
    this.nextPlain = plainEvery;
  }

  tick(by = 1): void {
    this.count += by;
    if (quiet) return;
    if (tty) {
      if ((this.count & 1023) !== 0) return;
      const now = performance.now();
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const pct = this.total ? ` ${Math.floor((100 * this.count) / this.total)}%` : '';
      process.stderr.write(
        `\r${this.label}: ${n(this.count)}${this.total ? `/${n(this.total)}` : ''}${pct}   `,
      );
    } else if (this.count >= this.nextPlain) {
      this.nextPlain += this.plainEvery;
      process.stderr.write(`${this.label}: ${n(this.count)} rows\n`);
    }
  }

  end(): void {
    if (tty && !quiet && this.count >= 1024) process.stderr.write('\r\x1b[K');
  }
}
