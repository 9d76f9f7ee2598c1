/**
 * Sniff confidence from the keys a row has: the fraction of the adapter's signature keys present.
 * Signature keys are chosen to be distinctive, so a row of another format scores low.
 */
export function sniffByKeys(
  row: Record<string, unknown>,
  signature: readonly string[],
  format: string,
): { confidence: number; reason: string } {
  const missing = signature.filter((k) => !Object.hasOwn(row, k));
  const present = signature.length - missing.length;
  const confidence = Math.round((present / signature.length) * 100) / 100;
  const reason =
    missing.length === 0
      ? `has all ${signature.length} ${format} keys`
      : `has ${present}/${signature.length} ${format} keys (missing ${missing.join(', ')})`;
  return { confidence, reason };
}
