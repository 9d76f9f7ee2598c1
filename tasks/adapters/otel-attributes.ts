/**
 * OTLP/JSON attribute values (`{key, value:{stringValue | intValue | doubleValue | boolValue |
 * arrayValue | kvlistValue | bytesValue}}`) → plain JSON values. `intValue` is a string in the
 * protobuf JSON mapping (int64); it becomes a number when safe, else stays a string.
 */

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** One AnyValue → a plain value; `undefined` for an empty or unknown value. */
export function anyValue(v: unknown): unknown {
  if (!isObj(v)) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) {
    const x = v.intValue;
    if (typeof x === 'number') return x;
    if (typeof x === 'string' && /^-?\d+$/.test(x)) {
      const n = Number(x);
      return Number.isSafeInteger(n) ? n : x;
    }
    return x;
  }
  if ('doubleValue' in v) {
    const x = v.doubleValue;
    return typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : x;
  }
  if ('arrayValue' in v) {
    const values = isObj(v.arrayValue) && Array.isArray(v.arrayValue.values) ? v.arrayValue.values : [];
    return values.map(anyValue);
  }
  if ('kvlistValue' in v) return attributeMap(isObj(v.kvlistValue) ? v.kvlistValue.values : undefined);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

/** A `[{key, value}]` list → an object (later keys win, as in the SDKs); anything else → {}. */
export function attributeMap(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    if (!isObj(kv) || typeof kv.key !== 'string') continue;
    out[kv.key] = anyValue(kv.value);
  }
  return out;
}

/** A value that may be a JSON string (the common way content attributes are recorded) → parsed. */
export function jsonish(v: unknown): { ok: true; value: unknown } | { ok: false; error: string } {
  if (typeof v !== 'string') return { ok: true, value: v };
  const t = v.trim();
  if (!(t.startsWith('[') || t.startsWith('{'))) return { ok: true, value: v };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Unix nanoseconds (string or number) → epoch milliseconds, or null. */
export function nanosToMs(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v / 1e6);
  if (typeof v === 'string' && /^\d+$/.test(v) && v !== '0') return Number(BigInt(v) / 1_000_000n);
  return null;
}
