/**
 * Strict timestamp parsing. `new Date(str)` is lenient (2024-02-30 rolls over to March 1st), so we
 * accept only RFC 3339 date-times with an explicit offset and check the fields round-trip.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export type TimestampResult = { ok: true; iso: string; ms: number } | { ok: false; detail: string };

/** Parses an RFC 3339 string or an epoch number (seconds or milliseconds, told apart by size). */
export function parseTimestamp(input: unknown): TimestampResult {
  if (typeof input === 'number') return parseEpoch(input);
  if (typeof input !== 'string')
    return { ok: false, detail: `expected an RFC 3339 string or epoch number, got ${typeof input}` };
  const m = RFC3339.exec(input);
  if (!m) return { ok: false, detail: `"${clip(input)}" is not an RFC 3339 date-time with a timezone` };
  const [, y, mo, d, h, mi, s, frac, tz] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1) return { ok: false, detail: `year ${y} is out of range` };
  if (month < 1 || month > 12) return { ok: false, detail: `month ${mo} is out of range` };
  if (day < 1 || day > daysInMonth(year, month))
    return { ok: false, detail: `day ${d} does not exist in ${y}-${mo}` };
  if (hour > 23 || minute > 59 || second > 59)
    return { ok: false, detail: `time ${h}:${mi}:${s} is out of range (no 24:00, no leap seconds)` };
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  let offsetMin = 0;
  if (tz !== 'Z' && tz !== 'z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 23 || om > 59) return { ok: false, detail: `timezone offset ${tz} is out of range` };
    offsetMin = sign * (oh * 60 + om);
  }
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const base = new Date(0);
  base.setUTCFullYear(year, month - 1, day);
  base.setUTCHours(hour, minute, second, ms);
  const t = base.getTime() - offsetMin * 60_000;
  if (!Number.isFinite(t)) return { ok: false, detail: `"${clip(input)}" is out of range` };
  const iso = new Date(t).toISOString();
  // the offset can carry 0001-01-01 or 9999-12-31 outside four-digit UTC years (+010000-..., 0000-...)
  if (!/^\d{4}-/.test(iso) || iso.startsWith('0000'))
    return { ok: false, detail: `"${clip(input)}" is outside years 0001-9999 in UTC` };
  return { ok: true, iso, ms: t };
}

function parseEpoch(n: number): TimestampResult {
  if (!Number.isFinite(n) || n <= 0)
    return { ok: false, detail: `epoch ${n} is not a positive finite number` };
  // Below 1e11 the number is seconds (until year 5138); above, milliseconds.
  const ms = n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  const d = new Date(ms);
  if (!Number.isFinite(d.getTime()) || d.getUTCFullYear() > 9999)
    return { ok: false, detail: `epoch ${n} is out of range` };
  return { ok: true, iso: d.toISOString(), ms };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
