import { FifoQueue } from '../fifo-queue.ts';
import type { Budget } from './budget.ts';

/**
 * Characters of strings each memo of the safety checks remembers (every thread has its own). Was
 * 4 Mi (2 Mi for ids): a 100k corpus's strings did not fill them and a 1M corpus's did, so the
 * memos made a phase's peak RSS grow with the corpus (~25 MB an export, twice that in screen's two
 * threads). Each string recurs within a record and its formats, which a smaller memo still holds.
 */
export const MEMO_CHARS = 1024 * 1024;

/**
 * Remembers what a detector decided about a string, with the work (characters) deciding it
 * charged to the record's budget. The same strings recur across thousands of records (system
 * prompts, tool definitions, task prompts, ids); a remembered one is not scanned again, its work
 * is charged at once instead. That gives the same outcome as scanning: the total is charged only
 * when it fits (every partial charge fitted then too); when it does not fit, the string is scanned
 * for real, which runs out at the same point. A decision whose scan ran out of budget must not be
 * remembered (the caller's rule). Bounded: at most `maxChars` characters of strings are kept,
 * the oldest dropped first; strings shorter than `minChars` or longer than `maxChars / 16` are not
 * kept.
 */
export class DecisionMemo<V> {
  private readonly entries = new Map<string, { value: V; cost: number }>();
  private readonly order = new FifoQueue<string>();
  private chars = 0;

  constructor(
    readonly minChars = 64,
    private readonly maxChars = 4 * 1024 * 1024,
  ) {}

  /** The remembered decision about `s`, its work charged to `budget`; undefined when not remembered or it does not fit. */
  replay(s: string, budget: Budget): V | undefined {
    if (s.length < this.minChars) return undefined;
    const e = this.entries.get(s);
    if (e === undefined || budget.exhausted || budget.spent + e.cost > budget.limit) return undefined;
    budget.spent += e.cost;
    return e.value;
  }

  /** Remembers `value` as the decision about `s`, having cost `cost` characters of work. */
  remember(s: string, value: V, cost: number): void {
    if (s.length < this.minChars || s.length > this.maxChars / 16 || this.entries.has(s)) return;
    this.entries.set(s, { value, cost });
    this.order.push(s);
    this.chars += s.length;
    while (this.chars > this.maxChars) {
      const oldest = this.order.shift() as string; // not entries.keys().next(): see FifoQueue
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}

/** Strings a detector found nothing in (a DecisionMemo of one possible decision). */
export class CleanMemo {
  private readonly memo: DecisionMemo<true>;

  constructor(minChars = 64, maxChars = 4 * 1024 * 1024) {
    this.memo = new DecisionMemo<true>(minChars, maxChars);
  }

  /** Charges a remembered clean string's work; true when it was remembered and fitted the budget. */
  replay(s: string, budget: Budget): boolean {
    return this.memo.replay(s, budget) === true;
  }

  /** Remembers `s` as clean, having cost `cost` characters of work. */
  remember(s: string, cost: number): void {
    this.memo.remember(s, true, cost);
  }
}
