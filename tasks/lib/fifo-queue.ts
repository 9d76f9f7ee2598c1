/**
 * A first-in first-out queue over an array with a moving head, compacted once the consumed part
 * is at least half of it. For the eviction order of bounded caches: V8's Map keeps deleted
 * entries as holes until it rehashes, so `map.delete(map.keys().next().value)` on a Map that
 * keeps evicting its oldest entry walks every earlier hole on each call (quadratic: 2.1 s for
 * 100k evictions against 56 ms for this queue; it was 14 % of screen's main thread on the 1M
 * corpus, in CleanMemo).
 */
export class FifoQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
