import { FifoQueue } from '../fifo-queue.ts';
import type { Budget } from './budget.ts';

/**
 * Remembers strings a detector found nothing in, with the work (characters) their scan charged
 * to the record's budget. The same long strings recur across thousands of records (system
 * prompts, tool definitions, task prompts); a remembered one is not scanned again, its work is
 * charged at once instead. That gives the same outcome as scanning: a clean scan changes nothing
 * but the budget, and the total is charged only when it fits (every partial charge fitted then
 * too); when it does not fit, the string is scanned for real, which runs out at the same point.
 * Bounded: at most `maxChars` characters of strings are kept, the oldest dropped first.
 */
export class CleanMemo {
  private readonly costs = new Map<string, number>();
  private readonly order = new FifoQueue<string>();
  private chars = 0;

  constructor(
    readonly minChars = 64,
    private readonly maxChars = 4 * 1024 * 1024,
  ) {}

  /** Charges a remembered clean string's work; true when it was remembered and fitted the budget. */
  replay(s: string, budget: Budget): boolean {
    if (s.length < this.minChars) return false;
    const cost = this.costs.get(s);
    if (cost === undefined || budget.exhausted || budget.spent + cost > budget.limit) return false;
    budget.spent += cost;
    return true;
  }

  /** Remembers `s` as clean, having cost `cost` characters of work. */
  remember(s: string, cost: number): void {
    if (s.length < this.minChars || s.length > this.maxChars / 16 || this.costs.has(s)) return;
    this.costs.set(s, cost);
    this.order.push(s);
    this.chars += s.length;
    while (this.chars > this.maxChars) {
      const oldest = this.order.shift() as string; // not costs.keys().next(): see FifoQueue
      this.costs.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}
