/**
 * Small function specs with a correct and a subtly buggy implementation in Python and
 * TypeScript. The coding catalog and the repo-fixer agent build their tasks from these.
 */
export interface CodeSnippet {
  /** snake_case name (Python); the TypeScript name is its camelCase form. */
  fn: string;
  /** What the function does, as a verb phrase ("converts …"). */
  desc: string;
  /** The symptom a failing test shows for the buggy version. */
  symptom: string;
  python: { good: string; buggy: string };
  typescript: { good: string; buggy: string };
}

/** The spec catalog. */
export const SNIPPETS: readonly CodeSnippet[] = [
  {
    fn: 'slugify',
    desc: "converts a title to a URL slug (lowercase ASCII letters and digits, words joined by '-')",
    symptom: "assert slugify('Hello,  World!') == 'hello-world' (got 'hello--world-')",
    python: {
      good: "import re\n\ndef slugify(title: str) -> str:\n    words = re.findall(r'[a-z0-9]+', title.lower())\n    return '-'.join(words)",
      buggy:
        "def slugify(title: str) -> str:\n    return title.lower().replace(' ', '-').replace(',', '').replace('!', '-')",
    },
    typescript: {
      good: "export function slugify(title: string): string {\n  return (title.toLowerCase().match(/[a-z0-9]+/g) ?? []).join('-');\n}",
      buggy:
        "export function slugify(title: string): string {\n  return title.toLowerCase().split(' ').join('-');\n}",
    },
  },
  {
    fn: 'chunk_list',
    desc: 'splits a list into chunks of size n, the last chunk possibly shorter',
    symptom: 'assert chunk_list([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]] (got [[1, 2], [3, 4]])',
    python: {
      good: "def chunk_list(items: list, n: int) -> list[list]:\n    if n <= 0:\n        raise ValueError('n must be positive')\n    return [items[i:i + n] for i in range(0, len(items), n)]",
      buggy:
        'def chunk_list(items: list, n: int) -> list[list]:\n    return [items[i:i + n] for i in range(0, len(items) - n + 1, n)]',
    },
    typescript: {
      good: "export function chunkList<T>(items: T[], n: number): T[][] {\n  if (n <= 0) throw new RangeError('n must be positive');\n  const out: T[][] = [];\n  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));\n  return out;\n}",
      buggy:
        'export function chunkList<T>(items: T[], n: number): T[][] {\n  const out: T[][] = [];\n  for (let i = 0; i + n <= items.length; i += n) out.push(items.slice(i, i + n));\n  return out;\n}',
    },
  },
  {
    fn: 'dedupe',
    desc: 'removes duplicates from a list while keeping the first-seen order',
    symptom: "assert dedupe(['b', 'a', 'b']) == ['b', 'a'] (got ['a', 'b'])",
    python: {
      good: 'def dedupe(items: list) -> list:\n    seen = set()\n    out = []\n    for x in items:\n        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out',
      buggy: 'def dedupe(items: list) -> list:\n    return sorted(set(items))',
    },
    typescript: {
      good: 'export function dedupe<T>(items: T[]): T[] {\n  return [...new Set(items)];\n}',
      buggy: 'export function dedupe<T>(items: T[]): T[] {\n  return [...new Set(items)].sort();\n}',
    },
  },
  {
    fn: 'parse_duration',
    desc: "parses durations such as '1h30m', '45s' or '2h' into seconds",
    symptom: "assert parse_duration('1h30m') == 5400 (got 1830)",
    python: {
      good: "import re\n\nUNITS = {'h': 3600, 'm': 60, 's': 1}\n\ndef parse_duration(text: str) -> int:\n    parts = re.findall(r'(\\d+)([hms])', text)\n    if not parts or ''.join(n + u for n, u in parts) != text:\n        raise ValueError(f'bad duration: {text!r}')\n    return sum(int(n) * UNITS[u] for n, u in parts)",
      buggy:
        "import re\n\ndef parse_duration(text: str) -> int:\n    return sum(int(n) * (60 if u == 'h' else 1) for n, u in re.findall(r'(\\d+)([hms])', text))",
    },
    typescript: {
      good: "const UNITS: Record<string, number> = { h: 3600, m: 60, s: 1 };\n\nexport function parseDuration(text: string): number {\n  const parts = [...text.matchAll(/(\\d+)([hms])/g)];\n  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`bad duration: ${text}`);\n  return parts.reduce((s, p) => s + Number(p[1]) * (UNITS[p[2] ?? 's'] ?? 1), 0);\n}",
      buggy:
        "export function parseDuration(text: string): number {\n  return [...text.matchAll(/(\\d+)([hms])/g)].reduce((s, p) => s + Number(p[1]) * (p[2] === 'h' ? 60 : 1), 0);\n}",
    },
  },
  {
    fn: 'is_palindrome',
    desc: 'checks whether a string is a palindrome, ignoring case and non-alphanumeric characters',
    symptom: "assert is_palindrome('A man, a plan, a canal: Panama') is True (got False)",
    python: {
      good: 'def is_palindrome(text: str) -> bool:\n    chars = [c.lower() for c in text if c.isalnum()]\n    return chars == chars[::-1]',
      buggy: 'def is_palindrome(text: str) -> bool:\n    return text.lower() == text.lower()[::-1]',
    },
    typescript: {
      good: "export function isPalindrome(text: string): boolean {\n  const s = text.toLowerCase().replace(/[^a-z0-9]/g, '');\n  return s === [...s].reverse().join('');\n}",
      buggy:
        "export function isPalindrome(text: string): boolean {\n  return text === [...text].reverse().join('');\n}",
    },
  },
  {
    fn: 'top_k_words',
    desc: 'returns the k most frequent words of a text, ties broken alphabetically',
    symptom: "assert top_k_words('b a b a c', 2) == ['a', 'b'] (got ['b', 'a'])",
    python: {
      good: 'from collections import Counter\n\ndef top_k_words(text: str, k: int) -> list[str]:\n    counts = Counter(text.lower().split())\n    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]',
      buggy:
        'from collections import Counter\n\ndef top_k_words(text: str, k: int) -> list[str]:\n    return [w for w, _ in Counter(text.split()).most_common(k)]',
    },
    typescript: {
      good: 'export function topKWords(text: string, k: number): string[] {\n  const counts = new Map<string, number>();\n  for (const w of text.toLowerCase().split(/\\s+/).filter(Boolean)) counts.set(w, (counts.get(w) ?? 0) + 1);\n  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, k).map(([w]) => w);\n}',
      buggy:
        "export function topKWords(text: string, k: number): string[] {\n  const counts = new Map<string, number>();\n  for (const w of text.split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);\n  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, k).map(([w]) => w);\n}",
    },
  },
  {
    fn: 'flatten',
    desc: 'flattens an arbitrarily nested list into a flat list',
    symptom: 'assert flatten([1, [2, [3, [4]]]]) == [1, 2, 3, 4] (got [1, 2, [3, [4]]])',
    python: {
      good: 'def flatten(items: list) -> list:\n    out = []\n    stack = [iter(items)]\n    while stack:\n        for x in stack[-1]:\n            if isinstance(x, list):\n                stack.append(iter(x))\n                break\n            out.append(x)\n        else:\n            stack.pop()\n    return out',
      buggy:
        'def flatten(items: list) -> list:\n    return [y for x in items for y in (x if isinstance(x, list) else [x])]',
    },
    typescript: {
      good: 'export function flatten(items: unknown[]): unknown[] {\n  return items.flat(Infinity);\n}',
      buggy: 'export function flatten(items: unknown[]): unknown[] {\n  return items.flat();\n}',
    },
  },
  {
    fn: 'median',
    desc: 'returns the median of a non-empty list of numbers',
    symptom: 'assert median([4, 1, 3, 2]) == 2.5 (got 3)',
    python: {
      good: "def median(xs: list[float]) -> float:\n    if not xs:\n        raise ValueError('median of empty list')\n    s = sorted(xs)\n    mid = len(s) // 2\n    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2",
      buggy: 'def median(xs: list[float]) -> float:\n    return sorted(xs)[len(xs) // 2]',
    },
    typescript: {
      good: "export function median(xs: number[]): number {\n  if (xs.length === 0) throw new RangeError('median of empty list');\n  const s = [...xs].sort((a, b) => a - b);\n  const mid = Math.floor(s.length / 2);\n  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;\n}",
      buggy:
        'export function median(xs: number[]): number {\n  return xs.sort()[Math.floor(xs.length / 2)]!;\n}',
    },
  },
];

/** snake_case → camelCase (the TypeScript name of a spec's function). */
export function camel(fn: string): string {
  return fn.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
