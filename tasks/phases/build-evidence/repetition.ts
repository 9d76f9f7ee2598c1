import type { ChatMessage } from '../../../schemas/chat.ts';

/**
 * Degenerate repetition (RELIABILITY.md §5 #56): a model stuck in a loop ("the the the ...",
 * "hahaha..."). Two linear checks, no regex backtracking, so a 100k-token answer costs O(16·n):
 * - the same whitespace-separated token `REPEAT_TOKEN_RUN` or more times in a row;
 * - a unit of at most `REPEAT_MAX_PERIOD` characters (not whitespace only) repeated back to back
 *   over `REPEAT_SPAN_CHARS` or more characters.
 */
export const REPEAT_TOKEN_RUN = 50;
export const REPEAT_MAX_PERIOD = 16;
export const REPEAT_SPAN_CHARS = 512;

/** Why `text` is degenerate repetition, or null when it is not. */
export function degenerateRepetition(text: string): string | null {
  // too short for either check to fire: REPEAT_TOKEN_RUN tokens need as many characters and the
  // separators between them; a repeated stretch needs REPEAT_SPAN_CHARS characters
  if (text.length < 2 * REPEAT_TOKEN_RUN - 1) return null;
  let run = 0;
  let prev = '';
  for (const tok of text.split(/\s+/)) {
    if (tok === '') continue;
    run = tok === prev ? run + 1 : 1;
    prev = tok;
    if (run >= REPEAT_TOKEN_RUN)
      return `the token ${JSON.stringify(clip(tok))} repeats ${REPEAT_TOKEN_RUN}+ times in a row`;
  }
  if (text.length < REPEAT_SPAN_CHARS) return null;
  for (let p = 1; p <= REPEAT_MAX_PERIOD; p++) {
    let same = 0; // length of the current stretch where text[i] === text[i - p]
    let blank = false; // the current stretch repeats a whitespace-only unit (indentation, padding)
    for (let i = p; i < text.length; i++) {
      if (text.charCodeAt(i) !== text.charCodeAt(i - p)) {
        same = 0;
        blank = false;
        continue;
      }
      same++;
      if (same + p >= REPEAT_SPAN_CHARS && !blank) {
        const unit = text.slice(i - same - p + 1, i - same + 1);
        if (unit.trim() !== '')
          return `${JSON.stringify(clip(unit))} repeats back to back over ${REPEAT_SPAN_CHARS}+ characters`;
        blank = true;
      }
    }
  }
  return null;
}

/** `['degenerate_repetition']` when any assistant message's text is degenerate repetition. */
export function repetitionFlag(messages: readonly ChatMessage[]): string[] {
  return messages.some(
    (m) =>
      m.role === 'assistant' && typeof m.content === 'string' && degenerateRepetition(m.content) !== null,
  )
    ? ['degenerate_repetition']
    : [];
}

function clip(s: string): string {
  return s.length > 32 ? `${s.slice(0, 32)}…` : s;
}
