/**
 * Reads top-level fields of one JSON object text without parsing the rest: scans the top-level
 * keys, skipping nested values by bracket depth (string-aware), and stops once every wanted key
 * was seen. Wanted keys must be plain identifiers (compared with the raw key text). For rows this project wrote (valid JSON objects); a wanted key that is missing, or
 * whose value is not a string or null, comes back undefined.
 */
export function peekFields<K extends string>(
  text: string,
  wanted: readonly K[],
): Partial<Record<K, string | null>> {
  const out: Partial<Record<K, string | null>> = {};
  let left = wanted.length;
  const n = text.length;
  let i = text.indexOf('{') + 1;
  const skipString = (from: number): number => {
    // `from` is just after the opening quote; returns the index just after the closing one
    let j = from;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) j += 2;
      else if (c === 0x22) return j + 1;
      else if (j >= n) return n;
      else j++;
    }
  };
  while (i < n && left > 0) {
    const q = text.indexOf('"', i);
    if (q === -1) break;
    const keyEnd = skipString(q + 1);
    // wanted keys are plain identifiers, which JSON.stringify never escapes: compare the raw text
    const key = wanted.find((w) => keyEnd - q === w.length + 2 && text.startsWith(w, q + 1)) ?? null;
    let j = text.indexOf(':', keyEnd) + 1;
    while (
      j < n &&
      (text.charCodeAt(j) === 0x20 ||
        text.charCodeAt(j) === 0x0a ||
        text.charCodeAt(j) === 0x0d ||
        text.charCodeAt(j) === 0x09)
    )
      j++;
    const c = text.charCodeAt(j);
    let end: number;
    if (c === 0x22) end = skipString(j + 1);
    else if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      end = j;
      while (end < n) {
        const d = text.charCodeAt(end);
        if (d === 0x22) {
          end = skipString(end + 1);
          continue;
        }
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          depth--;
          if (depth === 0) {
            end++;
            break;
          }
        }
        end++;
      }
    } else {
      end = j;
      while (end < n && text.charCodeAt(end) !== 0x2c && text.charCodeAt(end) !== 0x7d) end++;
    }
    if (key !== null && !(key in out)) {
      const raw = text.slice(j, end).trim();
      out[key] = c === 0x22 ? (JSON.parse(raw) as string) : raw === 'null' ? null : undefined;
      left--;
    }
    i = end;
    // past the separator
    while (i < n && text.charCodeAt(i) !== 0x2c && text.charCodeAt(i) !== 0x7d) i++;
    i++;
  }
  return out;
}
