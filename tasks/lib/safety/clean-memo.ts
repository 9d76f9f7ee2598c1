import { hash } from 'node:crypto';
import { FifoQueue } from '../fifo-queue.ts';
import type { Budget } from './budget.ts';

/**
 * Strings each memo of the safety checks remembers (every thread has its own). A memo keeps a
 * long string's sha256, not the string, so an entry costs ~200–250 bytes whatever the string's
 * length (measured: 32 Ki entries held 6.4–7.5 MiB). 8 Ki entries (~2 MiB a memo, four memos a
 * thread) fill at 100k rows as at 1M, so RSS does not grow with the corpus: with 32 Ki a memo was
 * full at 1M and not at 100k, and the exports' RSS growth 100k → 1M rose from 1.09–1.20 to
 * 1.21–1.23. Before, each memo kept 1 Mi characters of the strings themselves, which held only
 * ~2,000 strings of the typical ~500 characters: an export's rescan met each message string again
 * three formats later, long after it was dropped.
 */
export const MEMO_ENTRIES = 8 * 1024;

/** Strings up to this length are their own key; longer ones are keyed by a hash (below). */
const RAW_KEY_MAX = 128;

/**
 * The memo key of `s`: the string itself when short (hashing costs more than keeping it), else U+0001 and its sha256
 * (base64url). sha256, not a fast non-cryptographic hash or md5: an entry says
 * "this string holds no secret", so two strings with one key must not be craftable. A short
 * string that starts with U+0001 or U+0002 is hashed too, so a raw key is never a hash key.
 * The hash is of the string's UTF-8 only when it is well-formed: UTF-8 turns every lone surrogate
 * into U+FFFD, so `x\uD800` and `x\uFFFD` would share a key. A string with a lone surrogate is
 * hashed as its UTF-16 code units instead, under U+0002 (never the key of a well-formed string).
 */
function keyOf(s: string): string {
  const first = s.charCodeAt(0);
  if (s.length <= RAW_KEY_MAX && first !== 1 && first !== 2) return s;
  if (s.isWellFormed()) return `\u0001${hash('sha256', s, 'base64url')}`;
  return `\u0002${hash('sha256', Buffer.from(s, 'utf16le'), 'base64url')}`;
}

/**
 * Remembers what a detector decided about a string, with the work (characters) deciding it
 * charged to the record's budget. The same strings recur across thousands of records (system
 * prompts, tool definitions, task prompts, ids) and in every format an export writes; a remembered
 * one is not scanned again, its work is charged at once instead. That gives the same outcome as
 * scanning: the total is charged only when it fits (every partial charge fitted then too); when it
 * does not fit, the string is scanned for real, which runs out at the same point. A decision whose
 * scan ran out of budget must not be remembered (the caller's rule). Bounded: at most `maxEntries`
 * strings are kept, the oldest dropped first; strings shorter than `minChars` are not kept.
 */
export class DecisionMemo<V> {
  private readonly entries = new Map<string, { value: V; cost: number }>();
  private readonly order = new FifoQueue<string>();

  constructor(
    readonly minChars = 64,
    private readonly maxEntries = MEMO_ENTRIES,
  ) {}

  /** The string last looked up and its key: a miss is scanned, then remembered, and its key (a sha256 when long) is computed once. */
  private lastString: string | null = null;
  private lastKey = '';

  private keyOf(s: string): string {
    if (s !== this.lastString) {
      this.lastKey = keyOf(s);
      this.lastString = s;
    }
    return this.lastKey;
  }

  /** The remembered decision about `s`, its work charged to `budget`; undefined when not remembered or it does not fit. */
  replay(s: string, budget: Budget): V | undefined {
    if (s.length < this.minChars) return undefined;
    const e = this.entries.get(this.keyOf(s));
    if (e === undefined || budget.exhausted || budget.spent + e.cost > budget.limit) return undefined;
    budget.spent += e.cost;
    return e.value;
  }

  /** Remembers `value` as the decision about `s`, having cost `cost` characters of work. */
  remember(s: string, value: V, cost: number): void {
    if (s.length < this.minChars) return;
    const key = this.keyOf(s);
    if (this.entries.has(key)) return;
    this.entries.set(key, { value, cost });
    this.order.push(key);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.order.shift() as string; // not entries.keys().next(): see FifoQueue
      this.entries.delete(oldest);
    }
  }
}

/** Strings a detector found nothing in (a DecisionMemo of one possible decision). */
export class CleanMemo {
  private readonly memo: DecisionMemo<true>;

  constructor(minChars = 64, maxEntries = MEMO_ENTRIES) {
    this.memo = new DecisionMemo<true>(minChars, maxEntries);
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
