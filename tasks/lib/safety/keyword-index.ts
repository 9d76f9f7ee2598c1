/**
 * Which of a fixed set of keywords occur in a text, in one pass: gitleaks' keyword prefilter (a
 * rule's regex runs only on text holding one of its keywords). Keywords are bucketed by their
 * first two lowercase characters; each position of the lowercased text looks up its bucket and
 * tests only those keywords, so the cost is one pass plus a few `startsWith` per candidate
 * position, whatever the number of rules. (A single alternation regex finds one keyword per
 * position and misses keywords nested in a longer one: `sk` inside `sk_live`.)
 */
export class KeywordIndex {
  private readonly buckets = new Map<number, string[]>();
  private readonly single = new Set<number>();
  /**
   * A prefilter of the buckets: 1 at `(first & 0xff) << 8 | (second & 0xff)` when some bucket's two
   * characters give that index. Most positions of a text start no keyword: a typed-array read
   * rejects them before the Map lookup (a collision only costs that lookup).
   */
  private readonly pairs = new Uint8Array(1 << 16);

  constructor(keywords: readonly string[]) {
    for (const k of new Set(keywords.map((x) => x.toLowerCase()))) {
      if (k.length === 0) continue;
      if (k.length === 1) {
        this.single.add(k.charCodeAt(0));
        continue;
      }
      const key = (k.charCodeAt(0) << 16) | k.charCodeAt(1);
      this.pairs[((k.charCodeAt(0) & 0xff) << 8) | (k.charCodeAt(1) & 0xff)] = 1;
      const b = this.buckets.get(key);
      if (b) b.push(k);
      else this.buckets.set(key, [k]);
    }
  }

  /** The keywords present in `text` (case-insensitive). */
  present(text: string): Set<string> {
    const lower = text.toLowerCase();
    const found = new Set<string>();
    const pairs = this.pairs;
    for (let i = 0; i + 1 < lower.length; i++) {
      const c0 = lower.charCodeAt(i);
      const c1 = lower.charCodeAt(i + 1);
      if (pairs[((c0 & 0xff) << 8) | (c1 & 0xff)] === 0) continue;
      const b = this.buckets.get((c0 << 16) | c1);
      if (b === undefined) continue;
      for (const k of b) if (!found.has(k) && lower.startsWith(k, i)) found.add(k);
    }
    if (this.single.size > 0)
      for (let i = 0; i < lower.length; i++) {
        const c = lower.charCodeAt(i);
        if (this.single.has(c)) found.add(String.fromCharCode(c));
      }
    return found;
  }
}
