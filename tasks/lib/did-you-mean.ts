import { distance } from 'fastest-levenshtein';

/**
 * "Did you mean" for names a user types (commands, options, adapters, streams, config keys): the
 * closest candidate by edit distance, if it is close enough to be a typo of it. Case and `_` / `-`
 * are ignored, so `Gateway-Calls` finds `gateway_calls`.
 */

const fold = (s: string): string => s.toLowerCase().replace(/[-_ ]/g, '');

/** The candidate `input` is most likely a typo of, or null when none is close. */
export function closestName(input: string, candidates: readonly string[]): string | null {
  const a = fold(input);
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(a, fold(c));
    if (d < bestD || (d === bestD && best !== null && c < best)) {
      best = c;
      bestD = d;
    }
  }
  // a typo changes a few characters: at most 1 in a short name, 2 up to 8, then a third of it
  const allowed = a.length <= 3 ? 1 : a.length <= 8 ? 2 : Math.floor(a.length / 3);
  return best !== null && bestD <= allowed && bestD < a.length ? best : null;
}

/** ` did you mean "x"?` (with a leading space), or '' when nothing is close. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const c = closestName(input, candidates);
  return c === null ? '' : ` did you mean "${c}"?`;
}
