/**
 * Holds back what the in-process builds print (each phase's closing line, run-all's report), so
 * `distill acceptance` prints only its verdict; a failed build's text is kept for the report.
 */

/** A running capture: `stop()` restores stderr and returns what was written meanwhile. */
export interface StderrCapture {
  stop(): string;
}

/** Starts capturing process.stderr writes (nested captures each see the text written inside them). */
export function captureStderr(): StderrCapture {
  const original = process.stderr.write;
  const chunks: string[] = [];
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (cb) cb();
    return true;
  }) as typeof process.stderr.write;
  return {
    stop(): string {
      process.stderr.write = original;
      return chunks.join('');
    },
  };
}

/** The last `n` non-empty lines of a text (a failed build's log, for a report detail). */
export function tail(text: string, n = 30): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}
