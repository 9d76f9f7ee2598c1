/** Deterministic time arithmetic for the generator: everything is computed from the start date. */

const DAY_MS = 86_400_000;

/** Epoch ms of 00:00 UTC on `startDate` + `day` days. */
export function dayStart(startDate: string, day: number): number {
  const [y, m, d] = startDate.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) + day * DAY_MS;
}

/** `YYYY-MM-DD` of an epoch ms (UTC). */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** RFC 3339 in UTC with milliseconds. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** RFC 3339 with a fixed `+HH:00` offset (the same instant, written in local time). */
export function isoWithOffset(ms: number, hours: number): string {
  const local = new Date(ms + hours * 3_600_000).toISOString().slice(0, 19);
  const sign = hours < 0 ? '-' : '+';
  return `${local}${sign}${String(Math.abs(hours)).padStart(2, '0')}:00`;
}
