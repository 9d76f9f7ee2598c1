/**
 * Decoded variants of a string that the secret rules also scan, because a secret hidden behind an
 * encoding is still a secret: escape sequences left in text (a JSON string encoded twice, `\x41`),
 * percent-encoding in URLs, and base64 blobs that decode to printable text. Pure and linear.
 */

/** Shortest base64 run worth decoding (a 15-byte payload). */
export const MIN_BASE64_RUN = 20;

const ESCAPE = /\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[nrtbf"'\\/])/;

/** The string with backslash escapes resolved, or null when it has none. */
export function unescapeVariant(s: string): string | null {
  if (!s.includes('\\') || !ESCAPE.test(s)) return null;
  return s.replace(
    /\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([nrtbf"'\\/]))/g,
    (_m, u?: string, x?: string, c?: string) => {
      if (u !== undefined) return String.fromCharCode(parseInt(u, 16));
      if (x !== undefined) return String.fromCharCode(parseInt(x, 16));
      switch (c) {
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        default:
          return c as string;
      }
    },
  );
}

/** The string with %XX sequences decoded (invalid UTF-8 runs left as they were), or null when it has none. */
export function percentVariant(s: string): string | null {
  if (!s.includes('%') || !/%[0-9A-Fa-f]{2}/.test(s)) return null;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

/**
 * Decoded text when at least 90% of the bytes are printable ASCII or whitespace (and none is NUL);
 * an image or other binary blob decodes to mostly non-text bytes and is skipped. Secrets are ASCII,
 * so text in other scripts need not be decoded.
 */
function printable(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  let good = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === 0) return null;
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13) good++;
  }
  return good >= 0.9 * bytes.length ? bytes.toString('utf8') : null;
}

/** A base64 blob inside a string and its decoded text. */
export interface DecodedBlob {
  start: number;
  end: number;
  text: string;
}

/**
 * Base64 / base64url runs of at least MIN_BASE64_RUN characters that decode to printable UTF-8 text
 * (an image or other binary blob decodes to non-text and is skipped). Calls `charge` with the
 * length of each run before decoding it; stops when it returns false.
 */
export function base64Blobs(s: string, charge: (n: number) => boolean): DecodedBlob[] {
  const out: DecodedBlob[] = [];
  const re = /[A-Za-z0-9+/_-]{20,}={0,2}/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const run = m[0];
    if (!charge(run.length)) break;
    const text = printable(
      Buffer.from(run.replace(/=+$/, ''), run.includes('-') || run.includes('_') ? 'base64url' : 'base64'),
    );
    if (text !== null) out.push({ start: m.index, end: m.index + run.length, text });
  }
  return out;
}

/** True when a string could be a JSON object or array (cheap check before JSON.parse). */
export function looksLikeJson(s: string): boolean {
  const t = s.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}
