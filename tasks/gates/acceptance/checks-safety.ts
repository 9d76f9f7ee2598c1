import type { ChatMessage } from '../../../schemas/chat.ts';
import { normaliseForCompare } from '../../lib/export/messages.ts';
import { canonicalJson } from '../../lib/hash.ts';
import { Budget } from '../../lib/safety/budget.ts';
import { findContamination, ProtectedIndex } from '../../lib/safety/decontaminate.ts';
import { exactKey } from '../../lib/safety/training-text.ts';
import { detectPii, placeholder } from '../../lib/safety/pii.ts';
import { newScan, scanRecord } from '../../lib/safety/secret-scan.ts';
import { documentText, judgmentText, runText } from '../../lib/safety/training-text.ts';
import { locationKey, parseLocation } from './expected.ts';
import type { Snapshot } from './snapshot.ts';
import { verdict, type CheckResult } from './verdict.ts';

/** The training text of one export row (what a model would be trained or grounded on). */
interface ExportText {
  row: string;
  at: string;
  pieces: string[];
}

function messagePieces(messages: readonly ChatMessage[]): string[] {
  const out: string[] = [];
  for (const m of messages) {
    if (m.content) out.push(m.content);
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) out.push(c.function.arguments);
  }
  return out;
}

/** Every export row's texts, with the source location it came from (`file\0offset`). */
function exportTexts(s: Snapshot): ExportText[] {
  const at = (p: { source_file: string; line_offset: number }): string =>
    locationKey(p.source_file, p.line_offset);
  return [
    ...s.exports.sft.map((r) => ({
      row: `sft ${r.id}`,
      at: at(r.provenance),
      pieces: messagePieces(r.messages),
    })),
    ...s.exports.sftPartial.map((r) => ({
      row: `sft-partial ${r.id}`,
      at: at(r.provenance),
      pieces: messagePieces(r.messages),
    })),
    ...s.exports.pairs.flatMap((r) => [
      {
        row: `pair ${r.id}`,
        at: at(r.chosen_provenance),
        pieces: [...messagePieces(r.prompt), ...messagePieces(r.chosen)],
      },
      {
        row: `pair ${r.id}`,
        at: at(r.rejected_provenance),
        pieces: [...messagePieces(r.prompt), ...messagePieces(r.rejected)],
      },
    ]),
    ...s.exports.kto.map((r) => ({
      row: `kto ${r.id}`,
      at: at(r.provenance),
      pieces: [...messagePieces(r.prompt), ...messagePieces(r.completion)],
    })),
    ...s.exports.rag.map((r) => ({ row: `rag ${r.id}`, at: at(r.provenance), pieces: [r.text] })),
  ];
}

/** Screen's quarantine rows at a source location. */
function screenRowsAt(s: Snapshot, file: string, lineOffset: number): Record<string, unknown>[] {
  return (s.quarantine['screen'] ?? []).filter(
    (q) => q['source_file'] === file && q['line_offset'] === lineOffset,
  );
}

/** The screened unit (run, document or judgment) at a source location, if it survived screen. */
function screenedAt(s: Snapshot, file: string, lineOffset: number): string | null {
  const units = [
    ...s.screened.runs.map((r) => ({ id: r.run_id, p: r.provenance })),
    ...s.screened.documents.map((d) => ({ id: d.evidence_id, p: d.provenance })),
    ...s.screened.judgments.map((j) => ({ id: j.evidence_id, p: j.provenance })),
  ];
  return units.find((u) => u.p.source_file === file && u.p.line_offset === lineOffset)?.id ?? null;
}

/** The text of one JSONL line of a source file (0-based), or the whole file for a JSON document. */
function sourceLine(s: Snapshot, file: string, lineOffset: number): string | null {
  const bytes = s.sources[file];
  if (!bytes) return null;
  const text = Buffer.from(bytes).toString('utf8');
  return file.endsWith('.jsonl') ? (text.split('\n')[lineOffset] ?? null) : text;
}

/**
 * A10: no canary (fake secret) of the fixture appears in any file downstream of screen (exports/,
 * data/screened/, data/rag-index/), and the secret scanner finds nothing in any export row.
 */
export function noCanaryInExports(s: Snapshot): CheckResult {
  const problems: string[] = [];
  for (const c of s.expected.canaries) {
    for (const [rel, text] of Object.entries(s.files))
      if (text.includes(c.value)) problems.push(`the ${c.rule} canary of ${c.source} is in ${rel}`);
  }
  const allow = new Set(s.config.secret_allowlist);
  const rows: [string, unknown][] = [
    ...s.exports.sft.map((r) => [`sft ${r.id}`, r] as [string, unknown]),
    ...s.exports.sftPartial.map((r) => [`sft-partial ${r.id}`, r] as [string, unknown]),
    ...s.exports.pairs.map((r) => [`pair ${r.id}`, r] as [string, unknown]),
    ...s.exports.kto.map((r) => [`kto ${r.id}`, r] as [string, unknown]),
    ...s.exports.rag.map((r) => [`rag ${r.id}`, r] as [string, unknown]),
  ];
  for (const [label, row] of rows)
    for (const h of scanRecord(row, newScan(new Budget(), allow)))
      problems.push(`${label}: secret rule ${h.rule} hits ${h.path} (sha256 ${h.sha256.slice(0, 12)}…)`);
  return verdict(
    problems,
    `none of the ${s.expected.canaries.length} canaries is in the ${Object.keys(s.files).length} files downstream of screen; the secret scanner finds nothing in ${rows.length} export rows`,
  );
}

/** A11: each canary's source row is quarantined by screen with its expected SECRET_DETECTED rule, and nothing of it survives screen. */
export function canariesQuarantined(s: Snapshot): CheckResult {
  const problems: string[] = [];
  for (const c of s.expected.canaries) {
    const { file, lineOffset } = parseLocation(c.source);
    const line = sourceLine(s, file, lineOffset);
    if (line === null || !line.includes(c.value))
      problems.push(`${c.source}: the ${c.rule} canary is not in that source row (fix expected.json)`);
    const rows = screenRowsAt(s, file, lineOffset);
    const want = `SECRET_DETECTED:${c.rule}`;
    if (rows.length !== 1)
      problems.push(`${c.source}: ${rows.length} screen quarantine rows, expected one ${want}`);
    else if (rows[0]?.['reason'] !== want)
      problems.push(`${c.source}: quarantined ${String(rows[0]?.['reason'])}, expected ${want}`);
    const kept = screenedAt(s, file, lineOffset);
    if (kept !== null)
      problems.push(`${c.source}: ${kept} passed screen although it carries the ${c.rule} canary`);
  }
  const rules = [...new Set(s.expected.canaries.map((c) => c.rule))].sort();
  return verdict(
    problems,
    `${s.expected.canaries.length} canaries quarantined by screen with their rule (${rules.join(', ')})`,
  );
}

/**
 * A12: PII is replaced, not kept: no pinned PII value is in any file downstream of screen, every
 * export row from a row that carried PII holds the typed placeholder (and there is at least one),
 * the screened unit is flagged pii_redacted, and the PII detectors find nothing in export texts.
 */
export function piiReplacedByPlaceholders(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const texts = exportTexts(s);
  for (const p of s.expected.pii) {
    for (const [rel, text] of Object.entries(s.files))
      if (text.includes(p.value)) problems.push(`${p.type} of ${p.source} is in ${rel}`);
    const { file, lineOffset } = parseLocation(p.source);
    const rows = texts.filter((t) => t.at === locationKey(file, lineOffset));
    if (rows.length === 0)
      problems.push(
        `${p.source}: no export row comes from it (expected the row exported with ${placeholder(p.type)})`,
      );
    for (const r of rows)
      if (!r.pieces.some((x) => x.includes(placeholder(p.type))))
        problems.push(`${r.row} (from ${p.source}) lacks the ${placeholder(p.type)} placeholder`);
    const run = s.screened.runs.find(
      (x) => x.provenance.source_file === file && x.provenance.line_offset === lineOffset,
    );
    const flag = run?.flags.find((f) => f.startsWith('pii_redacted:'));
    if (!flag || !flag.slice('pii_redacted:'.length).split('+').includes(p.type))
      problems.push(`${p.source}: screened run is not flagged pii_redacted with ${p.type}`);
  }
  let spans = 0;
  for (const t of texts) {
    for (const piece of t.pieces) {
      for (const sp of detectPii(piece, new Budget(), t.row)) {
        spans++;
        problems.push(`${t.row}: ${sp.type} left in the text at ${sp.start}..${sp.end}`);
      }
    }
  }
  return verdict(
    problems,
    `${s.expected.pii.length} pinned PII values replaced by their placeholders in every export row of their source row; no PII detected in ${texts.length} export texts (${spans} spans)`,
  );
}

/** The id(s) a stage knows the unit at a location by, to compare with a duplicate's `ref`. */
function idsAt(s: Snapshot, stage: string, file: string, lineOffset: number): string[] {
  const here = (p: { source_file: string; line_offset: number }): boolean =>
    p.source_file === file && p.line_offset === lineOffset;
  if (stage === 'build-evidence')
    return s.evidence.filter((e) => here(e.provenance)).map((e) => e.evidence_id);
  if (stage === 'export-rag')
    return s.exports.rag
      .filter((r) => here(r.provenance))
      .map((r) => (Number(r.metadata['chunk_count']) > 1 ? r.id.replace(/-\d+$/, '') : r.id));
  const id = screenedAt(s, file, lineOffset);
  return id === null ? [] : [id];
}

/**
 * A13: duplicates are collapsed: each pinned duplicate is quarantined with its reason and a `ref`
 * to the unit kept in its place, which survives; no two screened units of one class share their
 * normalised content; no two RAG documents or SFT rows are the same.
 */
export function duplicatesCollapsed(s: Snapshot): CheckResult {
  const problems: string[] = [];
  for (const d of s.expected.duplicates) {
    const drop = parseLocation(d.dropped);
    const keep = parseLocation(d.kept);
    const rows = (s.quarantine[d.stage] ?? []).filter(
      (q) =>
        q['source_file'] === drop.file && q['line_offset'] === drop.lineOffset && q['reason'] === d.reason,
    );
    const kept = idsAt(s, d.stage, keep.file, keep.lineOffset);
    if (rows.length !== 1)
      problems.push(`${d.dropped}: ${rows.length} ${d.stage} quarantine rows with ${d.reason}, expected one`);
    else if (!kept.includes(String(rows[0]?.['ref'])))
      problems.push(
        `${d.dropped}: ${d.reason} ref ${String(rows[0]?.['ref'])}, but the unit kept at ${d.kept} is ${kept.join(' / ') || 'gone'}`,
      );
    if (kept.length === 0)
      problems.push(`${d.kept}: the unit kept in place of ${d.dropped} did not survive ${d.stage}`);
  }
  const keys = new Map<string, string>();
  const units = [
    ...s.screened.runs.map((r) => ({ id: r.run_id, t: runText(r) })),
    ...s.screened.documents.map((x) => ({ id: x.evidence_id, t: documentText(x.document) })),
    ...s.screened.judgments.map((x) => ({ id: x.evidence_id, t: judgmentText(x.judgment) })),
  ];
  for (const u of units) {
    const k = exactKey({ cls: u.t.cls, full: u.t.full });
    const first = keys.get(k);
    if (first !== undefined)
      problems.push(`screened ${u.id} has the same content as ${first} (a duplicate was not collapsed)`);
    else keys.set(k, u.id);
  }
  const same = (what: string, items: { id: string; key: string }[]): void => {
    const seen = new Map<string, string>();
    for (const it of items) {
      const first = seen.get(it.key);
      if (first !== undefined) problems.push(`${what} ${it.id} repeats ${first}`);
      else seen.set(it.key, it.id);
    }
  };
  same(
    'rag',
    s.exports.rag.map((r) => ({ id: r.id, key: normaliseForCompare(r.text) })),
  );
  same(
    'sft',
    s.exports.sft.map((r) => ({ id: r.id, key: canonicalJson(r.messages) })),
  );
  same(
    'sft-partial',
    s.exports.sftPartial.map((r) => ({ id: r.id, key: canonicalJson(r.messages) })),
  );
  return verdict(
    problems,
    `${s.expected.duplicates.length} pinned duplicates collapsed onto the unit kept; ${units.length} screened units, ${s.exports.rag.length} RAG chunks and ${s.exports.sft.length + s.exports.sftPartial.length} SFT rows without a repeat`,
  );
}

/** The protected index of the fixture's eval files, built the way screen builds it. */
export function evalIndex(files: Readonly<Record<string, string>>): ProtectedIndex {
  const index = new ProtectedIndex();
  for (const [rel, text] of Object.entries(files)) {
    const add = (t: string, at: string): void => {
      try {
        index.addValue(JSON.parse(t), { set: 'eval_sets', at });
      } catch {
        index.add(t, { set: 'eval_sets', at });
      }
    };
    if (rel.endsWith('.jsonl'))
      text.split('\n').forEach((line, i) => line.trim() !== '' && add(line, `${rel}:${i + 1}`));
    else add(text, rel);
  }
  return index;
}

/**
 * A14: contamination is quarantined: each pinned copy of an eval item is quarantined
 * EVAL_CONTAMINATION with the eval row as `ref`, and no screened run / judgment or export row
 * shares a 13-gram with (or equals a short) protected eval item.
 */
export function contaminationQuarantined(s: Snapshot): CheckResult {
  const problems: string[] = [];
  for (const c of s.expected.contamination) {
    const { file, lineOffset } = parseLocation(c.source);
    const rows = screenRowsAt(s, file, lineOffset);
    if (rows.length !== 1 || rows[0]?.['reason'] !== 'EVAL_CONTAMINATION')
      problems.push(
        `${c.source}: screen rows ${rows.map((r) => String(r['reason'])).join(', ') || 'none'}, expected one EVAL_CONTAMINATION`,
      );
    else if (rows[0]?.['ref'] !== c.ref)
      problems.push(`${c.source}: EVAL_CONTAMINATION ref ${String(rows[0]?.['ref'])}, expected ${c.ref}`);
  }
  const index = evalIndex(s.evalFiles);
  if (index.empty)
    problems.push(`the fixture's eval_sets (${s.config.eval_sets.join(', ') || 'none'}) protect nothing`);
  const candidates: { row: string; pieces: string[] }[] = [
    ...s.screened.runs.map((r) => ({ row: `screened run ${r.run_id}`, pieces: runText(r).pieces })),
    ...s.screened.judgments.map((j) => ({
      row: `screened judgment ${j.evidence_id}`,
      pieces: judgmentText(j.judgment).pieces,
    })),
    ...exportTexts(s),
  ];
  for (const c of candidates) {
    const hit = findContamination(c.pieces, index);
    if (hit) problems.push(`${c.row}: ${hit.how} at ${hit.origin.at}`);
  }
  return verdict(
    problems,
    `${s.expected.contamination.length} copies of eval items quarantined EVAL_CONTAMINATION with their eval row; ${candidates.length} screened units and export rows share no 13-gram with the eval set`,
  );
}
