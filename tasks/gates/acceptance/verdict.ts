/** The outcome of one invariant: ok, and a detail that says what was checked or what broke. */
export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** How many problems a failing detail lists before "and N more". */
const SHOWN = 6;

/** ok with `okDetail` when there is no problem, else the first problems joined (and how many more). */
export function verdict(problems: readonly string[], okDetail: string): CheckResult {
  if (problems.length === 0) return { ok: true, detail: okDetail };
  const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : '';
  return { ok: false, detail: `${problems.slice(0, SHOWN).join('; ')}${more}` };
}

/** Counts of `keyOf(x)` over a list. */
export function countBy<T>(xs: readonly T[], keyOf: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) {
    const k = keyOf(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** One problem per key whose count differs from the pinned one (a key missing on a side counts 0). */
export function countDiffs(
  got: Readonly<Record<string, number>>,
  want: Readonly<Record<string, number>>,
  where: string,
): string[] {
  const keys = [...new Set([...Object.keys(got), ...Object.keys(want)])].sort();
  return keys
    .filter((k) => (got[k] ?? 0) !== (want[k] ?? 0))
    .map((k) => `${where}${k}: ${got[k] ?? 0}, expected ${want[k] ?? 0}`);
}

/** `a 1, b 2` for a count map, keys sorted. */
export function listCounts(m: Readonly<Record<string, number>>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k} ${m[k]}`)
    .join(', ');
}
