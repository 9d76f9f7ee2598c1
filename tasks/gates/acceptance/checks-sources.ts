import { sha256 } from '../../lib/hash.ts';
import type { Snapshot } from './snapshot.ts';
import { countDiffs, verdict, type CheckResult } from './verdict.ts';

/** Units of a JSONL file counted from its bytes: every LF-terminated line, plus an unterminated tail. */
export function jsonlUnits(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b === 0x0a) n++;
  return bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? n + 1 : n;
}

/** sha256 of each line of a JSONL file (bytes between line feeds, as build-evidence hashes a quarantined line). */
function lineHashes(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length ? i > start : bytes[i] === 0x0a) {
      out.push(sha256(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

/** Elements of a JSON array file, or null when it does not parse as one (then build-evidence's count is used). */
function arrayUnits(bytes: Uint8Array): number | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return Array.isArray(v) ? v.length : null;
  } catch {
    return null;
  }
}

/**
 * A01: every source line (JSONL line, JSON-array element) is accounted for exactly once: evidence
 * or a build-evidence quarantine row; a file refused whole has exactly one file-level row. Lines
 * are counted from the bytes, not taken from build-evidence.
 */
export function sourceLinesAccounted(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const evidenceAt = new Map<string, Set<number>>();
  for (const e of s.evidence) {
    const set = evidenceAt.get(e.provenance.source_file) ?? new Set<number>();
    set.add(e.provenance.line_offset);
    evidenceAt.set(e.provenance.source_file, set);
  }
  const quarantinedAt = new Map<string, number[]>();
  const refusedRows = new Map<string, string[]>();
  const hashed = new Map<string, string[]>();
  for (const q of s.quarantine['build-evidence'] ?? []) {
    const file = String(q['source_file']);
    const off = q['line_offset'];
    if (off === null) {
      refusedRows.set(file, [...(refusedRows.get(file) ?? []), String(q['reason'])]);
      continue;
    }
    quarantinedAt.set(file, [...(quarantinedAt.get(file) ?? []), Number(off)]);
    // the row must be the line it names: its line_sha256 is the hash of that line's bytes
    const bytes = s.sources[file];
    if (!file.endsWith('.jsonl') || !bytes || typeof q['line_sha256'] !== 'string') continue;
    if (!hashed.has(file)) hashed.set(file, lineHashes(bytes));
    if (hashed.get(file)?.[Number(off)] !== q['line_sha256'])
      problems.push(
        `${file} line ${Number(off) + 1}: quarantined ${String(q['reason'])}, but its line_sha256 is not the hash of that line`,
      );
  }
  const health = new Map(s.health.files.map((h) => [h.file, h]));
  let units = 0;
  let evidenceUnits = 0;
  let quarantinedUnits = 0;
  let refused = 0;
  for (const [file, bytes] of Object.entries(s.sources)) {
    const h = health.get(file);
    if (!h) {
      problems.push(
        `${file}: matched by the source globs but absent from data/evidence/_health.json (never read)`,
      );
      continue;
    }
    const ev = evidenceAt.get(file) ?? new Set<number>();
    const q = quarantinedAt.get(file) ?? [];
    if (h.file_refused !== null) {
      refused++;
      const rows = refusedRows.get(file) ?? [];
      if (rows.length !== 1 || rows[0] !== h.file_refused)
        problems.push(
          `${file}: refused whole (${h.file_refused}) but has ${rows.length} file-level quarantine rows (${rows.join(', ') || 'none'}), expected exactly one`,
        );
      if (ev.size > 0 || q.length > 0)
        problems.push(
          `${file}: refused whole, yet ${ev.size} lines became evidence and ${q.length} were quarantined one by one`,
        );
      continue;
    }
    const isArray = file.endsWith('.json');
    const unit = isArray ? 'element' : 'line';
    const n = isArray ? (arrayUnits(bytes) ?? h.units) : jsonlUnits(bytes);
    if (n !== h.units)
      problems.push(`${file}: ${n} ${unit}s on disk, but build-evidence counted ${h.units} units`);
    if (h.units !== h.evidence_units + h.quarantined_units)
      problems.push(
        `${file}: _health.json says ${h.units} units ≠ ${h.evidence_units} evidence + ${h.quarantined_units} quarantined`,
      );
    const seen = new Map<number, 'evidence' | 'quarantine'>();
    for (const o of ev) seen.set(o, 'evidence');
    for (const o of q) {
      const was = seen.get(o);
      if (was)
        problems.push(
          `${file} ${unit} ${o + 1}: ${was === 'evidence' ? 'became evidence and was also quarantined' : 'quarantined twice'}`,
        );
      else seen.set(o, 'quarantine');
    }
    const missing: number[] = [];
    for (let i = 0; i < n; i++) if (!seen.has(i)) missing.push(i + 1);
    if (missing.length > 0)
      problems.push(
        `${file}: ${unit}${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} of ${n} neither became evidence nor were quarantined (a row was lost silently)`,
      );
    for (const o of seen.keys())
      if (o >= n) problems.push(`${file}: a row points at ${unit} ${o + 1}, but the file has ${n}`);
    units += n;
    evidenceUnits += ev.size;
    quarantinedUnits += q.length;
  }
  for (const h of s.health.files)
    if (!(h.file in s.sources))
      problems.push(`${h.file}: read by build-evidence but not matched by the config's source globs`);
  if (s.health.totals.units !== units)
    problems.push(`_health.json totals: ${s.health.totals.units} units, the source files hold ${units}`);
  return verdict(
    problems,
    `${units} source rows in ${Object.keys(s.sources).length} files: ${evidenceUnits} became evidence, ${quarantinedUnits} were quarantined with a reason, each exactly once; ${refused} files refused whole with one row each`,
  );
}

/**
 * A02: the fixture exercises every stream of the bundled config with the same adapter, and every
 * stream yields the pinned number of evidence records and quarantined rows (at least one record).
 */
export function streamsIngested(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const fixture = new Map(s.config.sources.map((src) => [src.stream, src.adapter]));
  for (const b of s.bundledStreams) {
    const a = fixture.get(b.stream);
    if (a === undefined)
      problems.push(`bundled stream ${b.stream} (${b.adapter}) is not in the fixture config`);
    else if (a !== b.adapter)
      problems.push(
        `stream ${b.stream} uses adapter ${a} in the fixture, ${b.adapter} in the bundled config`,
      );
  }
  const got: Record<string, number> = {};
  const want: Record<string, number> = {};
  for (const [stream, h] of Object.entries(s.health.streams)) {
    got[`${stream}.records`] = h.records;
    got[`${stream}.quarantined_units`] = h.quarantined_units;
    if (fixture.has(stream) && h.records === 0) problems.push(`stream ${stream} produced no evidence record`);
  }
  for (const stream of fixture.keys())
    if (!(stream in s.health.streams)) problems.push(`stream ${stream} was never read`);
  for (const [stream, e] of Object.entries(s.expected.streams)) {
    want[`${stream}.records`] = e.records;
    want[`${stream}.quarantined_units`] = e.quarantined_units;
  }
  problems.push(...countDiffs(got, want, 'stream '));
  const records = Object.values(s.health.streams).reduce((a, h) => a + h.records, 0);
  return verdict(
    problems,
    `all ${s.bundledStreams.length} bundled streams are in the fixture with their adapters; ${records} evidence records across them, per stream as pinned`,
  );
}
