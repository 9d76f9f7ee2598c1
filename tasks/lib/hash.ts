import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { hashFile } from 'hasha';

/** Lowercase hex SHA-256 of bytes or a UTF-8 string. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Lowercase hex SHA-256 of a file. hasha streams it in a worker thread it keeps (one per process,
 * started on first use and unref'd), so hashing a large source file does not hold up this thread.
 */
export function sha256File(path: string): Promise<string> {
  return hashFile(path, { algorithm: 'sha256' });
}

/** Thrown by the fast path for anything JSON.parse cannot produce; the reference library handles it. */
class NotPlainJson extends Error {}

/**
 * RFC 8785 canonical JSON of a value JSON.parse could have produced (strings, finite numbers,
 * booleans, null, arrays, plain objects), written for speed: the same bytes as the `canonicalize`
 * package (tested against it), without its per-call cycle set and intermediate arrays.
 */
function canonPlain(v: unknown): string {
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw new NotPlainJson();
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new NotPlainJson();
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          if (i > 0) out += ',';
          out += x === undefined ? 'null' : canonPlain(x);
        }
        return `${out}]`;
      }
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') throw new NotPlainJson();
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const x = o[k];
        if (x === undefined) continue;
        if (!k.isWellFormed()) throw new NotPlainJson();
        out += `${first ? '' : ','}${JSON.stringify(k)}:${canonPlain(x)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new NotPlainJson(); // bigint, symbol, function: the library's behaviour (or error) applies
  }
}

/** RFC 8785 canonical JSON (keys sorted by UTF-16 code units, ECMAScript number format). */
export function canonicalJson(value: unknown): string {
  let s: string | undefined;
  try {
    s = canonPlain(value);
  } catch (e) {
    // anything unusual (lone surrogates, non-finite numbers, toJSON, cycles) goes through the
    // reference implementation, which gives the canonical form or the canonical error
    if (!(e instanceof NotPlainJson) && !(e instanceof RangeError)) throw e;
    s = canonicalize(value);
  }
  if (s === undefined) throw new Error('canonicalJson: value has no JSON form');
  return s;
}

/** The provenance join key: SHA-256 of the canonical JSON of a source row. */
export function sigHash(value: unknown): string {
  return sha256(canonicalJson(value));
}

/** A short, stable id with a prefix: `<prefix>_` + first 24 hex chars of sha256(parts joined by NUL). */
export function contentId(prefix: string, ...parts: string[]): string {
  return `${prefix}_${sha256(parts.join('\u0000')).slice(0, 24)}`;
}
