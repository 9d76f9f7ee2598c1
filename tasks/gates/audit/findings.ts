import type { z } from 'zod';
import { n } from '../../lib/log.ts';

/** What one required check found: ok, a one-line detail, and the first problems (each says where and how to fix). */
export interface CheckOutcome {
  ok: boolean;
  detail: string;
  /** The first problems found (at most `FINDINGS_KEPT`); `problem_count` is the full number. */
  problems: string[];
  problem_count: number;
}

/** How many problems a check keeps for the report (the count covers all of them). */
export const FINDINGS_KEPT = 20;

/** Collects the problems of one check; keeps the first few, counts all. */
export class Findings {
  count = 0;
  readonly first: string[] = [];

  add(problem: string): void {
    this.count++;
    if (this.first.length < FINDINGS_KEPT) this.first.push(problem);
  }

  /** The outcome: ok with `okDetail`, or failed with the number of problems and the first one. */
  outcome(okDetail: string): CheckOutcome {
    if (this.count === 0) return { ok: true, detail: okDetail, problems: [], problem_count: 0 };
    const head = `${n(this.count)} problem${this.count === 1 ? '' : 's'}; first: ${this.first[0]}`;
    return { ok: false, detail: head, problems: [...this.first], problem_count: this.count };
  }
}

/** A zod failure as `$.path: message`. */
export function zodIssue(error: z.ZodError): string {
  const is = error.issues[0];
  return `$${is && is.path.length > 0 ? `.${is.path.join('.')}` : ''}: ${is?.message ?? 'invalid'}`;
}

/** "1 row" / "3 rows". */
export function plural(x: number, word: string): string {
  return `${n(x)} ${word}${x === 1 ? '' : 's'}`;
}
