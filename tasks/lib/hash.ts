import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** Lowercase hex SHA-256 of bytes or a UTF-8 string. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 8785 canonical JSON (keys sorted by UTF-16 code units, ECMAScript number format). */
export function canonicalJson(value: unknown): string {
  const s = canonicalize(value);
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
