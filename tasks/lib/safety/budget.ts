/**
 * The per-record work budget of the detectors. Work is counted in characters scanned (every regex
 * pass, decode and validation charges the length it reads), so running out is deterministic: the
 * same record runs out at the same point on every machine. A wall-clock backstop catches a
 * detector bug that the count cannot see; it should never fire (and would be the one
 * non-deterministic outcome, so it is logged in the detail). Running out fails closed: the record
 * is quarantined DETECTOR_TIMEOUT, never passed as clean.
 */

/** Characters of detector work one record may cost (about a quarter of a second of scanning). */
export const RECORD_WORK_LIMIT = 64 * 1024 * 1024;
/** Wall-clock backstop per record, in milliseconds. */
export const RECORD_WALL_MS = 10_000;

/** A spendable budget; `exhausted` stays true once the limit is crossed. */
export class Budget {
  spent = 0;
  exhausted = false;
  /** Why it ran out, for the quarantine detail. */
  why = '';
  private readonly started: number;
  private charges = 0;

  constructor(
    readonly limit = RECORD_WORK_LIMIT,
    readonly wallMs = RECORD_WALL_MS,
  ) {
    this.started = performance.now();
  }

  /** Charges `n` units for work about to be done at `where`; false (and exhausted) when over budget. */
  charge(n: number, where: string): boolean {
    if (this.exhausted) return false;
    this.spent += n;
    if (this.spent > this.limit) {
      this.exhausted = true;
      this.why = `work budget of ${this.limit} characters used up at ${where}`;
      return false;
    }
    // the clock is read every 64th charge: charges are many and small, and the backstop is coarse
    if ((++this.charges & 63) === 0 && performance.now() - this.started > this.wallMs) {
      this.exhausted = true;
      this.why = `wall-clock backstop of ${this.wallMs} ms passed at ${where}`;
      return false;
    }
    return true;
  }
}
