/**
 * Some exports write UTC date-times without an offset (Langfuse "2024-05-29 13:46:19.963000",
 * LangSmith "2024-05-29T13:46:19.963000"). Their docs say UTC, so the offset is added and the row
 * flagged `timestamp_assumed_utc`; anything else goes to the shell's strict check unchanged.
 */
const NAIVE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)$/;

/** The timestamp with `Z` added when it is a documented-UTC naive date-time, and the flag to set. */
export function utcIfNaive(ts: unknown): { value: unknown; flags: string[] } {
  if (typeof ts !== 'string') return { value: ts, flags: [] };
  const m = NAIVE.exec(ts);
  return m ? { value: `${m[1]}T${m[2]}Z`, flags: ['timestamp_assumed_utc'] } : { value: ts, flags: [] };
}
