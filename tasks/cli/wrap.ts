/**
 * Word wrap for the CLI's help text. Hand-written instead of wrap-ansi (used before): importing
 * wrap-ansi pulls in string-width and its emoji regular expression, ~100 ms of CPU on every
 * `distill` start, a fifth of the 0.5 s start-up budget (docs/performance.md). Help text is our
 * own plain text with no escape sequences or wide characters, so columns are code points.
 *
 * Greedy fill: a line never exceeds `columns` (a word longer than that is cut into pieces of
 * `columns`); spaces between words on one line are kept as written, a line neither starts nor ends
 * with spaces, and line feeds in the text are kept.
 */
export function wrapWords(text: string, columns: number): string {
  const width = Math.max(1, Math.floor(columns));
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    // each token is a word with the spaces before it: spaces inside a line are kept as written
    for (const token of paragraph.match(/ *[^ ]+/g) ?? []) {
      if (line !== '' && line.length + token.length <= width) {
        line += token;
        continue;
      }
      if (line !== '') out.push(line);
      let word = [...token.trimStart()];
      for (; word.length > width; word = word.slice(width)) out.push(word.slice(0, width).join(''));
      line = word.join('');
    }
    out.push(line);
  }
  return out.join('\n');
}
