import { join } from 'node:path';
import { globby } from 'globby';
import { EvidenceRecord, SCHEMA_VERSION as EVIDENCE_V } from '../schemas/evidence-record.ts';
import type { DistillConfig, SourceConfig } from '../schemas/config.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../schemas/quarantine-record.ts';
import { quarantineRow } from './lib/quarantine.ts';
import { EVIDENCE_DIR } from './lib/layout.ts';
import type { FileEntry } from '../schemas/stage-receipt.ts';
import type { Adapter, AdapterOutput, EvidenceDraft } from './adapters/adapter.ts';
import { contentId, sha256, sigHash } from './lib/hash.ts';
import { parseRow } from './lib/json-check.ts';
import { Progress, log, n } from './lib/log.ts';
import { MANIFEST, manifestText } from './lib/manifest.ts';
import { bump, sortedCounts, type PhaseResult } from './lib/phase.ts';
import type { Drop } from './lib/result.ts';
import { UserError } from './lib/result.ts';
import { openSource, readArrayElements, readDocument, readLines, sniffRefusal, snapshotHashes, type SourceUnit } from './lib/source-reader.ts';
import { previousInputs, sourceChange } from './lib/source-history.ts';
import { escapesRoot, nameCollision } from './lib/source-names.ts';
import { injectionFlag } from './lib/injection.ts';
import { repetitionFlag } from './lib/repetition.ts';
import { manifestEntries, StagedDir } from './lib/staged-dir.ts';
import { resolveAdapters } from './resolve-adapters.ts';
import { parseTimestamp } from './lib/time.ts';

const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

/** Reason codes this phase can give (file-level and line-level), besides adapter schema drops. */
export const BUILD_EVIDENCE_REASONS = [
  'SYMLINK_INPUT', 'PATH_ESCAPE', 'NOT_REGULAR_FILE', 'BINARY_FILE', 'UNSUPPORTED_ENCODING', 'DUPLICATE_SOURCE', 'UNSAFE_SOURCE_NAME', 'NOT_A_JSON_ARRAY',
  'BLANK_LINE', 'INVALID_UTF8', 'LINE_TOO_LONG', 'TRUNCATED_FINAL_LINE', 'JSON_PARSE', 'JSON_TRAILING_DATA', 'NOT_AN_OBJECT',
  'DUPLICATE_KEY', 'UNSAFE_INTEGER', 'NUMBER_OUT_OF_RANGE', 'TOO_DEEP', 'TOO_MANY_KEYS', 'FIELD_TOO_LARGE', 'LONE_SURROGATE', 'NUL_IN_STRING', 'FORBIDDEN_KEY',
  'INVALID_TIMESTAMP', 'FUTURE_TIMESTAMP', 'DUPLICATE_RECORD', 'SCHEMA_INVALID', 'SCHEMA_VERSION_UNSUPPORTED',
] as const;

/** Per-file accounting: every unit (line / element) ends as evidence or quarantine. */
export interface FileHealth {
  file: string;
  stream: string;
  adapter: string;
  units: number;
  evidence_units: number;
  quarantined_units: number;
  records: number;
  file_refused: string | null;
  by_reason: Record<string, number>;
  /** File-level notes: file_empty, grew_during_read, unterminated_tail_deferred, looks_pretty_printed. */
  flags: string[];
  /** For a source with adapter "auto": how sure detection was that `adapter` reads this file, and why. */
  detected: { confidence: number; reason: string } | null;
}

/** The result of turning one source unit into evidence. */
export type UnitOutcome = { type: 'keep'; records: EvidenceRecord[] } | ({ type: 'drop'; sigHash: string | null; traceId: string | null } & Drop);

/** A unit that parsed: its row, the row's sig_hash and the flags parsing set. */
export interface ParsedUnit {
  unit: SourceUnit;
  value: Record<string, unknown>;
  sig: string;
  flags: string[];
}

type Config = Pick<DistillConfig, 'as_of' | 'future_skew_hours' | 'limits'>;

/** Pure: a unit's line-level checks (readable, strict JSON, a supported schema_version), before any adapter. */
export function parseUnit(unit: SourceUnit, adapter: Adapter, config: Config): { ok: true; parsed: ParsedUnit } | { ok: false; outcome: UnitOutcome } {
  const drop = (d: Drop, sig: string | null = null, traceId: string | null = null): { ok: false; outcome: UnitOutcome } => ({ ok: false, outcome: { type: 'drop', sigHash: sig, traceId, ...d } });
  if (unit.issue) return drop(unit.issue);
  const parsed = parseRow(unit.text as string, { maxDepth: config.limits.max_depth });
  if (!parsed.ok) {
    if (!unit.terminated && (parsed.drop.reason === 'JSON_PARSE' || parsed.drop.reason === 'JSON_TRAILING_DATA'))
      return drop({ reason: 'TRUNCATED_FINAL_LINE', detail: `last line has no newline and does not parse (a torn write?): ${parsed.drop.detail}` });
    return drop(parsed.drop);
  }
  const sig = sigHash(parsed.value);
  const version = parsed.value['schema_version'];
  if (version !== undefined && !(adapter.schemaVersions ?? []).includes(version as string | number)) {
    const known = adapter.schemaVersions?.length ? `reads schema_version ${adapter.schemaVersions.map((v) => JSON.stringify(v)).join(', ')}` : 'reads rows without a schema_version';
    return drop({ reason: 'SCHEMA_VERSION_UNSUPPORTED', detail: `schema_version ${JSON.stringify(version)} is not supported: adapter ${adapter.name} ${known}` }, sig, traceIdOf(parsed.value));
  }
  return { ok: true, parsed: { unit, value: parsed.value, sig, flags: parsed.flags } };
}

/**
 * Pure: an adapter's output for some parsed units → validated evidence records or one drop. The
 * first unit is the provenance; the ids hash all units' sig_hashes (one unit: its own sig_hash),
 * so a session whose later lines change gets new ids.
 */
export function finishDrafts(out: AdapterOutput, members: readonly ParsedUnit[], adapter: Adapter, source: { stream: string; file: string }, config: Config): UnitOutcome {
  const first = members[0] as ParsedUnit;
  const sig = first.sig;
  const drop = (d: Drop, traceId: string | null = null): UnitOutcome => ({ type: 'drop', sigHash: sig, traceId, ...d });
  if (out.type === 'drop') return drop(out, traceIdOf(first.value));
  if (out.records.length === 0) return drop({ reason: 'SCHEMA_INVALID', detail: `adapter ${adapter.name} produced no record for this row` });
  const idSig = members.length === 1 ? sig : sha256(members.map((m) => m.sig).join('\n'));
  const unitFlags = members.flatMap((m) => [...m.unit.flags, ...m.flags]);
  const asOfMs = Date.parse(config.as_of);
  const records: EvidenceRecord[] = [];
  for (let i = 0; i < out.records.length; i++) {
    const d = out.records[i] as EvidenceDraft;
    let recordedAt: string | null = null;
    if (d.recorded_at !== null && d.recorded_at !== undefined) {
      const ts = parseTimestamp(d.recorded_at);
      if (!ts.ok) return drop({ reason: 'INVALID_TIMESTAMP', detail: ts.detail }, d.trace_id);
      if (ts.ms > asOfMs + config.future_skew_hours * 3_600_000)
        return drop({ reason: 'FUTURE_TIMESTAMP', detail: `${ts.iso} is after as_of ${config.as_of} + ${config.future_skew_hours} h` }, d.trace_id);
      recordedAt = ts.iso;
    }
    const flags = [...new Set([...unitFlags, ...(d.flags ?? []), ...(d.kind === 'run' ? [...repetitionFlag(d.run.messages), ...injectionFlag(d.run.messages)] : [])])].sort();
    const { recorded_at: _raw, flags: _f, ...rest } = d;
    const candidate = {
      schema_version: EVIDENCE_V,
      evidence_id: contentId('ev', source.stream, idSig, String(i)),
      stream: source.stream,
      ...rest,
      recorded_at: recordedAt,
      flags,
      provenance: {
        source_file: source.file,
        line_offset: first.unit.index,
        ...(first.unit.locator ? { locator: first.unit.locator } : {}),
        sig_hash: sig,
        recorded_at: recordedAt,
      },
    };
    const res = EvidenceRecord.safeParse(candidate);
    if (!res.success) {
      const is = res.error.issues[0];
      return drop({ reason: 'SCHEMA_INVALID', detail: `$.${is?.path.join('.')}: ${is?.message}` }, d.trace_id);
    }
    records.push(res.data);
  }
  return { type: 'keep', records };
}

/** Pure core: one source unit → evidence records or a drop with a reason. */
export function materializeUnit(unit: SourceUnit, adapter: Adapter, source: { stream: string; file: string }, config: Config): UnitOutcome {
  const pre = parseUnit(unit, adapter, config);
  if (!pre.ok) return pre.outcome;
  const { parsed } = pre;
  return finishDrafts(adapter.toEvidence(parsed.value, { stream: source.stream, sourceFile: source.file, index: unit.index }), [parsed], adapter, source, config);
}

/**
 * Pure core of a `jsonl-session` file: all its parsed units → groups of units, each with its
 * records or one drop. Throws (a bug in the adapter) unless the groups cover every unit exactly once.
 */
export function materializeSession(parsed: readonly ParsedUnit[], adapter: Adapter, source: { stream: string; file: string }, config: Config): { members: ParsedUnit[]; outcome: UnitOutcome }[] {
  if (!adapter.toEvidenceFile) throw new Error(`adapter ${adapter.name} has shape ${adapter.shape} but no toEvidenceFile`);
  const byIndex = new Map(parsed.map((p) => [p.unit.index, p]));
  const groups = adapter.toEvidenceFile(parsed.map((p) => ({ index: p.unit.index, row: p.value })), { stream: source.stream, sourceFile: source.file });
  const seen = new Set<number>();
  const out: { members: ParsedUnit[]; outcome: UnitOutcome }[] = [];
  for (const g of groups) {
    const members = [...g.units].sort((a, b) => a - b).map((i) => {
      const m = byIndex.get(i);
      if (!m || seen.has(i)) throw new Error(`adapter ${adapter.name} accounted for line ${i} of ${source.file} ${m ? 'twice' : 'which it was not given'}`);
      seen.add(i);
      return m;
    });
    if (members.length === 0) throw new Error(`adapter ${adapter.name} returned an empty group for ${source.file}`);
    out.push({ members, outcome: finishDrafts(g.output, members, adapter, source, config) });
  }
  if (seen.size !== parsed.length) throw new Error(`adapter ${adapter.name} left ${parsed.length - seen.size} of ${parsed.length} lines of ${source.file} unaccounted for`);
  return out;
}

function traceIdOf(v: Record<string, unknown>): string | null {
  const t = v['trace_id'];
  return typeof t === 'string' ? t : null;
}

/** Partition path of a record: YYYY/MM/DD/<stream>.jsonl, or undated/<stream>.jsonl. */
export function partitionOf(r: EvidenceRecord): string {
  if (!r.recorded_at) return `undated/${r.stream}.jsonl`;
  return `${r.recorded_at.slice(0, 4)}/${r.recorded_at.slice(5, 7)}/${r.recorded_at.slice(8, 10)}/${r.stream}.jsonl`;
}

/** A file name we refuse to carry into logs and provenance (control characters, huge names). */
function unsafeName(rel: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rel)) return 'file name contains control characters';
  if (rel.split('/').some((p) => Buffer.byteLength(p) > 255)) return 'a path component is longer than 255 bytes';
  return null;
}

/** Lists each source's files (sorted, relative, POSIX); a file claimed by two streams is an error. */
export async function listSources(root: string, config: DistillConfig): Promise<{ source: SourceConfig; files: string[] }[]> {
  const claimed = new Map<string, string>();
  const out: { source: SourceConfig; files: string[] }[] = [];
  const sources = [...config.sources].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  for (const source of sources) {
    for (const g of source.files) {
      if (g.startsWith('/') || g.split('/').includes('..')) throw new UserError(`source ${source.stream}: glob "${g}" leaves the project root; copy the files under data/ instead`);
    }
    const found = await globby(source.files, { cwd: root, onlyFiles: false, followSymbolicLinks: false, dot: false, absolute: false });
    const files = found.filter((f) => /\.(jsonl|json|ndjson|traj)$/i.test(f) || !f.endsWith('/')).sort();
    for (const f of files) {
      const prev = claimed.get(f);
      if (prev) throw new UserError(`${f} is matched by both stream "${prev}" and stream "${source.stream}"; make the globs disjoint in distill.config.json`);
      claimed.set(f, source.stream);
    }
    out.push({ source, files });
  }
  return out;
}

/** Options of build-evidence: `acceptSourceChanges` rebuilds even when a source shrank or changed since the last build. */
export interface BuildEvidenceOptions {
  acceptSourceChanges?: boolean;
}

/** The build-evidence phase: every source row → evidence or quarantine, partitioned by day. */
export async function buildEvidence(root: string, config: DistillConfig, opts: BuildEvidenceOptions = {}): Promise<PhaseResult> {
  const listed = await listSources(root, config);
  for (const { source, files } of listed) if (files.length === 0) log.warn(`source ${source.stream}: no file matches ${source.files.join(', ')}`);
  if (listed.every((l) => l.files.length === 0))
    throw new UserError('no source file matches any glob in distill.config.json; generate the sample with `npm run corpus` or point "sources" at your files');
  const history = opts.acceptSourceChanges ? new Map<string, FileEntry>() : await previousInputs(root);
  const seenNames = new Map<string, string>();
  const resolved = await resolveAdapters(root, listed, config);
  const staged = await StagedDir.begin(root, EVIDENCE_DIR);
  try {
    const inputs: FileEntry[] = [];
    const health: FileHealth[] = [];
    const seenFiles = new Map<string, string>();
    const seenIds = new Map<string, string>();
    const byReason: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    let units = 0;
    let kept = 0;
    let quarantined = 0;
    let records = 0;
    const progress = new Progress('build-evidence');
    for (const { source, files } of listed) {
      for (const file of files) {
        const { adapter, detected } = resolved.get(file) ?? { adapter: null, detected: null };
        const h: FileHealth = { file, stream: source.stream, adapter: adapter?.name ?? source.adapter, units: 0, evidence_units: 0, quarantined_units: 0, records: 0, file_refused: null, by_reason: {}, flags: [], detected };
        health.push(h);
        const abs = join(root, file);
        const q = staged.writer(`_quarantine/${source.stream}.jsonl`);
        const refuseFile = async (reason: string, detail: string, fileSha: string | null, bytes: number | null, ref: string | null = null) => {
          h.file_refused = reason;
          bump(h.by_reason, reason);
          bump(byReason, reason);
          await q.write(quarantineRow({ reason, detail, file, index: null, offset: null, bytes, lineSha: fileSha, sig: null, record: null, trace: null, ref }, 'build-evidence'));
        };
        const nameIssue = unsafeName(file);
        if (nameIssue) {
          await refuseFile('UNSAFE_SOURCE_NAME', nameIssue, null, null);
          continue;
        }
        const sameName = nameCollision(file, seenNames);
        if (sameName !== null) {
          await refuseFile('UNSAFE_SOURCE_NAME', `name differs from ${sameName} only by Unicode normalization or case, which is the same file on macOS / Windows; rename one`, null, null, sameName);
          continue;
        }
        if (await escapesRoot(root, abs)) {
          await refuseFile('PATH_ESCAPE', 'a symbolic link in the path leads outside the project root; copy the files under the root instead', null, null);
          continue;
        }
        const opened = await openSource(abs).catch((e: NodeJS.ErrnoException) => {
          const why = e.code === 'ENOENT' ? 'it was listed but vanished before it could be opened' : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.message;
          throw new UserError(`SOURCE_UNREADABLE: ${file}: ${why} (${e.code ?? 'error'}); nothing was published. Restore the file or its permissions, or change the globs in distill.config.json, and rerun`);
        });
        if (!opened.ok) {
          await refuseFile(opened.refusal.reason, opened.refusal.detail, null, null);
          continue;
        }
        const src = opened.src;
        try {
          const prev = history.get(file);
          const hashes = await snapshotHashes(src, prev && prev.bytes <= src.size ? prev.bytes : null);
          const changed = sourceChange(prev, src.size, hashes.prefixSha256);
          if (changed)
            throw new UserError(
              `SOURCE_TRUNCATED: ${file}: ${changed}. Rows already built from it would be lost silently. ` +
                'If the change is intended (a regenerated or edited source), rebuild from scratch with `distill build-evidence --accept-source-changes`.',
            );
          const fileSha = hashes.sha256;
          const entry: FileEntry = { path: file, sha256: fileSha, bytes: src.size, rows: null };
          inputs.push(entry);
          if (src.size === 0) h.flags.push('file_empty');
          const first = seenFiles.get(fileSha);
          if (first && src.size > 0) {
            await refuseFile('DUPLICATE_SOURCE', `byte-identical to ${first}, which was read instead`, fileSha, src.size, first);
            continue;
          }
          seenFiles.set(fileSha, file);
          const refusal = await sniffRefusal(src);
          if (refusal) {
            await refuseFile(refusal.reason, refusal.detail, fileSha, src.size);
            continue;
          }
          if (!adapter) {
            // "auto" found nothing to detect: an empty file; anything else changed since it was sniffed
            if (src.size === 0) continue;
            throw new UserError(`${file}: changed while build-evidence ran (it was empty or unreadable when its format was detected); rerun`);
          }
          const lines = adapter.shape === 'jsonl' || adapter.shape === 'jsonl-session';
          const session: ParsedUnit[] | null = adapter.shape === 'jsonl-session' ? [] : null;
          const reader =
            lines
              ? readLines(src, config.limits.max_line_bytes)
              : adapter.shape === 'json-array'
                ? readArrayElements(src, config.limits.max_line_bytes)
                : readDocument(src, MAX_DOCUMENT_BYTES);
          let deferredAt: number | null = null;
          for await (const item of reader) {
            if (!('index' in item)) {
              await refuseFile(item.reason, item.detail, fileSha, src.size);
              break;
            }
            const unit = item;
            if (!unit.terminated && lines && (await src.fh.stat()).size > src.size) {
              // a writer is appending: the unterminated last line is still being written, so it is
              // left for the next run (which reads it whole), and the input entry ends before it
              deferredAt = unit.offset;
              continue;
            }
            h.units++;
            units++;
            progress.tick();
            let outcome: UnitOutcome;
            if (session) {
              // a session's lines are parsed here and handed to the adapter together after the loop
              const pre = parseUnit(unit, adapter, config);
              if (pre.ok) {
                session.push(pre.parsed);
                continue;
              }
              outcome = pre.outcome;
            } else outcome = materializeUnit(unit, adapter, { stream: source.stream, file }, config);
            if (outcome.type === 'keep') {
              const dupOf = outcome.records.map((r) => seenIds.get(r.evidence_id)).find((x) => x !== undefined);
              if (dupOf !== undefined) {
                const firstRec = outcome.records[0] as EvidenceRecord;
                outcome = { type: 'drop', reason: 'DUPLICATE_RECORD', detail: `identical to the row at ${dupOf}, which was kept`, sigHash: firstRec.provenance.sig_hash, traceId: firstRec.trace_id, ref: firstRec.evidence_id };
              }
            }
            if (outcome.type === 'keep') {
              for (const r of outcome.records) {
                seenIds.set(r.evidence_id, `${file}:${unit.index + 1}`);
                await staged.writer(partitionOf(r)).write(r);
                bump(kinds, r.kind);
              }
              h.evidence_units++;
              h.records += outcome.records.length;
              kept++;
              records += outcome.records.length;
            } else {
              h.quarantined_units++;
              quarantined++;
              if (unit.index === 0 && outcome.reason === 'JSON_PARSE' && /^\s*[{[]\s*$/.test(unit.text ?? '')) h.flags.push('looks_pretty_printed');
              bump(h.by_reason, outcome.reason);
              bump(byReason, outcome.reason);
              const lineSha = unit.raw ? sha256(unit.raw) : unit.rawSha256;
              await q.write(
                quarantineRow({ reason: outcome.reason, detail: outcome.detail, file, index: unit.index, offset: unit.offset, bytes: unit.bytes, lineSha, sig: outcome.sigHash, record: null, trace: outcome.traceId, ref: outcome.ref ?? null }, 'build-evidence'),
              );
            }
          }
          // a session's groups: every line merged into a record counts as an evidence unit of it
          for (const { members, outcome: o } of session ? materializeSession(session, adapter, { stream: source.stream, file }, config) : []) {
            let outcome = o;
            const at = members[0] as ParsedUnit;
            const dupOf = outcome.type === 'keep' ? outcome.records.map((r) => seenIds.get(r.evidence_id)).find((x) => x !== undefined) : undefined;
            if (outcome.type === 'keep' && dupOf !== undefined) {
              const firstRec = outcome.records[0] as EvidenceRecord;
              outcome = { type: 'drop', reason: 'DUPLICATE_RECORD', detail: `identical to the row at ${dupOf}, which was kept`, sigHash: firstRec.provenance.sig_hash, traceId: firstRec.trace_id, ref: firstRec.evidence_id };
            }
            if (outcome.type === 'keep') {
              for (const r of outcome.records) {
                seenIds.set(r.evidence_id, `${file}:${at.unit.index + 1}`);
                await staged.writer(partitionOf(r)).write(r);
                bump(kinds, r.kind);
              }
              h.evidence_units += members.length;
              h.records += outcome.records.length;
              kept += members.length;
              records += outcome.records.length;
              continue;
            }
            for (const m of members) {
              h.quarantined_units++;
              quarantined++;
              bump(h.by_reason, outcome.reason);
              bump(byReason, outcome.reason);
              const lineSha = m.unit.raw ? sha256(m.unit.raw) : m.unit.rawSha256;
              await q.write(
                quarantineRow({ reason: outcome.reason, detail: outcome.detail, file, index: m.unit.index, offset: m.unit.offset, bytes: m.unit.bytes, lineSha, sig: m.sig, record: null, trace: outcome.traceId, ref: outcome.ref ?? null }, 'build-evidence'),
              );
            }
          }
          if ((await src.fh.stat()).size > src.size) h.flags.push('grew_during_read');
          if (deferredAt !== null) {
            h.flags.push('unterminated_tail_deferred');
            entry.bytes = deferredAt;
            entry.sha256 = (await snapshotHashes(src, deferredAt)).prefixSha256 as string;
          }
        } finally {
          await src.fh.close();
        }
        h.by_reason = sortedCounts(h.by_reason);
        h.flags.sort();
        if (h.units !== h.evidence_units + h.quarantined_units) throw new Error(`accounting broke for ${file}: ${h.units} ≠ ${h.evidence_units} + ${h.quarantined_units}`);
      }
    }
    progress.end();
    const filesRefused = health.filter((h) => h.file_refused).length;
    const healthDoc = { schema_version: 1, totals: { files: health.length, files_refused: filesRefused, units, evidence_units: kept, quarantined_units: quarantined, records, by_reason: sortedCounts(byReason), by_kind: sortedCounts(kinds) }, streams: streamHealth(health), files: health };
    await staged.writeFile('_health.json', `${JSON.stringify(healthDoc, null, 2)}\n`);
    const written = await staged.closeAll();
    const outputs = manifestEntries(EVIDENCE_DIR, written);
    // Self-check before publishing: the rows on disk equal what we counted (wireit caches any exit 0).
    const evidenceRows = outputs.filter((o) => !o.path.includes('/_')).reduce((s, o) => s + (o.rows ?? 0), 0);
    const quarantineRows = outputs.filter((o) => o.path.includes('/_quarantine/')).reduce((s, o) => s + (o.rows ?? 0), 0);
    if (evidenceRows !== records) throw new Error(`self-check failed: wrote ${evidenceRows} evidence rows, counted ${records}`);
    if (quarantineRows !== quarantined + filesRefused) throw new Error(`self-check failed: wrote ${quarantineRows} quarantine rows, counted ${quarantined + filesRefused}`);
    inputs.sort((a, b) => (a.path < b.path ? -1 : 1));
    const parameters = { as_of: config.as_of, future_skew_hours: config.future_skew_hours, limits: config.limits, sources: listed.map(({ source: s }) => ({ stream: s.stream, adapter: s.adapter, files: [...s.files].sort() })) };
    const schemaVersions = { EvidenceRecord: EVIDENCE_V, QuarantineRecord: QUARANTINE_V };
    await staged.writeFile(
      MANIFEST,
      manifestText({ schema_version: 1, phase: 'build-evidence', parameters, schema_versions: schemaVersions, inputs, files: outputs, counts: { units, evidence_units: kept, quarantined_units: quarantined, files_refused: filesRefused, records } }),
    );
    await staged.publish();
    return {
      parameters,
      schemaVersions,
      inputs,
      outputs,
      counts: { in: units, out: kept, quarantined, by_reason: sortedCounts(byReason) },
      stats: { files: health.length, files_refused: filesRefused, records, ...prefixed('kind.', kinds) },
      summary: `${n(units)} source rows in ${health.length} files → ${n(records)} evidence records, ${n(quarantined)} quarantined${filesRefused ? `, ${filesRefused} files refused` : ''}`,
    };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}

function prefixed(prefix: string, m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(sortedCounts(m)).map(([k, v]) => [`${prefix}${k}`, v]));
}

function streamHealth(files: FileHealth[]): Record<string, { files: number; units: number; evidence_units: number; quarantined_units: number; records: number; by_reason: Record<string, number> }> {
  const out: Record<string, { files: number; units: number; evidence_units: number; quarantined_units: number; records: number; by_reason: Record<string, number> }> = {};
  for (const h of files) {
    const s = (out[h.stream] ??= { files: 0, units: 0, evidence_units: 0, quarantined_units: 0, records: 0, by_reason: {} });
    s.files++;
    s.units += h.units;
    s.evidence_units += h.evidence_units;
    s.quarantined_units += h.quarantined_units;
    s.records += h.records;
    for (const [k, v] of Object.entries(h.by_reason)) bump(s.by_reason, k, v);
    if (h.file_refused) bump(s.by_reason, h.file_refused, 0);
  }
  for (const s of Object.values(out)) s.by_reason = sortedCounts(s.by_reason);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
