import { leftOutText } from '../../lib/quarantine.ts';
import { EXCLUDED } from './contract.ts';
import type { DistillConfig } from '../../../schemas/config.ts';
import { SCHEMA_VERSION as EVIDENCE_V, type EvidenceRecord } from '../../../schemas/evidence-record.ts';
import type { Provenance } from '../../../schemas/provenance.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { RagSample, SCHEMA_VERSION as RAG_V } from '../../../schemas/rag-sample.ts';
import { SCHEMA_VERSION as SCORED_V, type ScoredRun } from '../../../schemas/scored-run.ts';
import { readLocated, type DocumentEvidence } from '../../lib/export/inputs.ts';
import { screenedFiles } from '../../lib/upstream.ts';
import { renderCard } from '../../lib/export/formats/hf-card.ts';
import { hasText, normaliseForCompare } from '../../lib/export/messages.ts';
import { runDocumentText } from '../../lib/export/run-document.ts';
import {
  QUARANTINE_FILE,
  QuarantineSorter,
  rescanExport,
  sortById,
  type ExportDrop,
} from '../../lib/export/output.ts';
import { ExternalSorter } from '../../lib/external-sort.ts';
import { contentId, sha256 } from '../../lib/hash.ts';
import { RAG_CARD, RAG_DIR, RAG_FILE, type Reason as ExportRagReason } from './contract.ts';
import { n } from '../../lib/log.ts';
import type { PhaseResult } from '../../lib/phase.ts';
import { stagedPhase } from '../../lib/phase-shell.ts';

/** A whole retrieval document before chunking. */
export interface RagDocument {
  baseId: string;
  text: string;
  /** Flat metadata without the chunk fields. */
  metadata: Record<string, string | number>;
  provenance: Provenance;
  /** The unit it came from, for quarantine rows. */
  record: string;
  trace: string | null;
}

type DocOutcome =
  { type: 'keep'; doc: RagDocument } | { type: 'drop'; reason: ExportRagReason; detail: string };

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

function lastWhitespace(s: string, before: number): number {
  for (let i = Math.min(before, s.length - 1); i > 0; i--) if (/\s/.test(s[i] as string)) return i;
  return -1;
}

/** Cuts one over-long paragraph at a line break, else a space, else hard (never inside a surrogate pair). */
function splitParagraph(p: string, max: number): string[] {
  const out: string[] = [];
  let rest = p;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = lastWhitespace(rest, max);
    if (cut < max / 2) {
      cut = max;
      if (isHighSurrogate(rest.charCodeAt(cut - 1))) cut = cut > 1 ? cut - 1 : cut + 1;
    }
    const head = rest.slice(0, cut).trimEnd();
    if (head !== '') out.push(head);
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') out.push(rest);
  return out;
}

/**
 * Splits a text longer than `max` characters into chunks on paragraph (blank-line) boundaries,
 * packing whole paragraphs up to `max`; only a paragraph longer than `max` is cut inside.
 */
export function chunkText(text: string, max: number): string[] {
  if (text.length <= max) return [text];
  const paragraphs = text
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const pieces = paragraphs.flatMap((p) => (p.length <= max ? [p] : splitParagraph(p, max)));
  const chunks: string[] = [];
  let cur = '';
  for (const p of pieces) {
    if (cur === '') cur = p;
    else if (cur.length + 2 + p.length <= max) cur += `\n\n${p}`;
    else {
      chunks.push(cur);
      cur = p;
    }
  }
  if (cur !== '') chunks.push(cur);
  return chunks;
}

/** Pure core: an accepted / partially accepted run → a Task / Steps / Answer / Patch document (run-document.ts), or a drop. */
export function runDocument(run: ScoredRun): DocOutcome {
  if (run.category !== 'accepted' && run.category !== 'partially_accepted')
    return {
      type: 'drop',
      reason: 'CATEGORY_EXCLUDED',
      detail: `${run.category} runs are not grounded knowledge`,
    };
  const doc = runDocumentText(run);
  if (doc.type === 'drop') return doc;
  const text = doc.text;
  return {
    type: 'keep',
    doc: {
      baseId: contentId('rag', 'run', run.run_id, text),
      text,
      metadata: {
        kind: 'run',
        source_file: run.provenance.source_file,
        stream: run.stream,
        trace_id: run.run_id,
        task_key: run.task_key ?? '',
        category: run.category,
        recorded_at: run.recorded_at ?? '',
        evidence_id: run.evidence_id,
        title: '',
      },
      provenance: run.provenance,
      record: run.run_id,
      trace: run.run_id,
    },
  };
}

/** Pure core: a knowledge document from evidence → a document (title, then text). */
export function knowledgeDocument(ev: DocumentEvidence): RagDocument {
  const { title, text: body } = ev.document;
  // no title line when the body already opens with it (plain or as a Markdown heading)
  const firstLine = (body.trimStart().split('\n')[0] ?? '').replace(/^#+\s*/, '').trim();
  const text =
    hasText(title) && firstLine !== title.trim() ? `${title.trim()}\n\n${body.trim()}` : body.trim();
  return {
    baseId: contentId('rag', 'document', ev.evidence_id, text),
    text,
    metadata: {
      kind: 'document',
      source_file: ev.provenance.source_file,
      stream: ev.stream,
      trace_id: ev.trace_id ?? '',
      task_key: ev.task_key ?? '',
      category: '',
      recorded_at: ev.recorded_at ?? '',
      evidence_id: ev.evidence_id,
      title: title.trim(),
    },
    provenance: ev.provenance,
    record: ev.evidence_id,
    trace: ev.trace_id,
  };
}

/** One document → its RagSample chunks (id `<base>` alone, or `<base>-<i>` when chunked). */
export function toRagSamples(doc: RagDocument, chunkChars: number): RagSample[] {
  const chunks = chunkText(doc.text, chunkChars);
  return chunks.map((text, i) =>
    RagSample.parse({
      schema_version: RAG_V,
      id: chunks.length === 1 ? doc.baseId : `${doc.baseId}-${i}`,
      text,
      metadata: { ...doc.metadata, chunk_index: i, chunk_count: chunks.length },
      provenance: doc.provenance,
    }),
  );
}

/**
 * Pure core: runs and knowledge documents → RAG chunks and drops. Documents with the same text
 * (up to whitespace) are kept once: the lowest base id wins, the others are DUPLICATE_TEXT.
 */
export function buildRag(
  runs: readonly ScoredRun[],
  documents: readonly DocumentEvidence[],
  opts: { chunkChars: number },
): { samples: RagSample[]; drops: ExportDrop[]; documents: number } {
  const drops: ExportDrop[] = [];
  const docs: RagDocument[] = [];
  for (const run of runs) {
    const out = runDocument(run);
    if (out.type === 'keep') docs.push(out.doc);
    else
      drops.push({
        reason: out.reason,
        detail: out.detail,
        provenance: run.provenance,
        record: run.run_id,
        trace: run.run_id,
        ref: null,
      });
  }
  for (const ev of documents) docs.push(knowledgeDocument(ev));
  docs.sort((a, b) => (a.baseId < b.baseId ? -1 : a.baseId > b.baseId ? 1 : 0));
  const winners = new Map<string, string>();
  const samples: RagSample[] = [];
  let kept = 0;
  for (const d of docs) {
    const key = normaliseForCompare(d.text);
    const first = winners.get(key);
    if (first !== undefined) {
      drops.push({
        reason: 'DUPLICATE_TEXT',
        detail: `same text as ${first}, which was kept`,
        provenance: d.provenance,
        record: d.record,
        trace: d.trace,
        ref: first,
      });
      continue;
    }
    winners.set(key, d.baseId);
    kept++;
    samples.push(...toRagSamples(d, opts.chunkChars));
  }
  return { samples: sortById(samples), drops, documents: kept };
}

/** The dataset card of exports/rag/ (deterministic: counts come from the data). */
export function ragCard(rows: number): string {
  return renderCard({
    prettyName: 'distill RAG documents',
    taskCategories: ['text-retrieval', 'question-answering'],
    tags: ['rag', 'retrieval', 'agent-traces', 'distill'],
    configs: [{ name: 'documents', default: true, splits: [{ split: 'train', path: RAG_FILE, rows }] }],
    body: [
      '# distill RAG documents',
      '',
      `Exported by \`distill export-rag\`: one row per retrieval document or chunk of one (\`id\`, \`text\`, flat \`metadata\` of strings and numbers, \`provenance\`), ready for LlamaIndex, LangChain (\`JSONLoader\`, \`json_lines\`) or a vector store's bulk loader.`,
      '',
      'Documents come from accepted and partially accepted runs (`metadata.kind` = `run`) and from knowledge documents (`document`). A run becomes `Task:` (the user turn the model worked on), `Steps:` (each tool call with its result, clipped), `Answer:` (the human correction, else the last assistant text that is more than a pleasantry) and, for a coding agent, `Patch:` (the diff it submitted). Documents longer than the configured size are split on paragraph boundaries (`metadata.chunk_index` / `chunk_count`); equal texts are kept once.',
      '',
      'Trace any row back to its source line with `distill trace <id>`; rows left out are explained in `_quarantine.jsonl`.',
    ],
  });
}

/**
 * The export-rag phase: exports/rag/documents.jsonl and its dataset card. Streams runs and knowledge documents; whole
 * documents go through an external sort by base id (the first of equal texts is kept, as in
 * `buildRag`, remembered by a hash of its normalised text), chunks through one by id.
 */
export async function exportRag(root: string, config: DistillConfig): Promise<PhaseResult> {
  const dir = RAG_DIR;
  const chunkChars = config.exports.rag_chunk_chars;
  const { runs: runFiles, evidence: evFiles } = await screenedFiles(root);
  return stagedPhase(root, { phase: 'export-rag', outDir: dir }, async ({ staged, scratch }) => {
    const docs = new ExternalSorter(scratch.dir, 'documents');
    const quarantine = new QuarantineSorter(scratch.dir, 'export-rag');
    let runsIn = 0;
    let documentsIn = 0;
    for await (const row of readLocated(
      root,
      runFiles.map((f) => f.path),
    )) {
      const run = row.value as ScoredRun;
      runsIn++;
      const out = runDocument(run);
      if (out.type === 'keep') await docs.add(out.doc.baseId, JSON.stringify(out.doc));
      else
        await quarantine.add({
          reason: out.reason,
          detail: out.detail,
          provenance: run.provenance,
          record: run.run_id,
          trace: run.run_id,
          ref: null,
        });
    }
    for await (const row of readLocated(
      root,
      evFiles.map((f) => f.path),
    )) {
      const ev = row.value as EvidenceRecord;
      if (ev.kind !== 'document') continue;
      documentsIn++;
      const doc = knowledgeDocument(ev);
      await docs.add(doc.baseId, JSON.stringify(doc));
    }
    const winners = new Map<string, string>(); // sha256 of normalised text → base id kept
    const chunks = new ExternalSorter(scratch.dir, 'chunks');
    let kept = 0;
    for await (const { line } of docs.sorted()) {
      const d = JSON.parse(line) as RagDocument;
      const key = sha256(normaliseForCompare(d.text));
      const first = winners.get(key);
      if (first !== undefined) {
        await quarantine.add({
          reason: 'DUPLICATE_TEXT',
          detail: `same text as ${first}, which was kept`,
          provenance: d.provenance,
          record: d.record,
          trace: d.trace,
          ref: first,
        });
        continue;
      }
      winners.set(key, d.baseId);
      kept++;
      for (const sample of toRagSamples(d, chunkChars)) await chunks.add(sample.id, JSON.stringify(sample));
    }
    const chunkCount = chunks.size;
    const dropCount = quarantine.size;
    const unitsIn = runsIn + documentsIn;
    if (unitsIn !== kept + dropCount)
      throw new Error(
        `accounting broke: ${unitsIn} runs + documents ≠ ${kept} exported + ${dropCount} quarantined`,
      );
    const w = staged.writer(RAG_FILE);
    for await (const { line } of chunks.sorted()) await w.writeLine(line);
    const byReason = await quarantine.write(staged);
    await staged.writeFile(RAG_CARD, ragCard(chunkCount));
    const parameters = { rag_chunk_chars: chunkChars, categories: ['accepted', 'partially_accepted'] };
    const schemaVersions = {
      ScoredRun: SCORED_V,
      EvidenceRecord: EVIDENCE_V,
      RagSample: RAG_V,
      QuarantineRecord: QUARANTINE_V,
    };
    const counts = {
      runs_in: runsIn,
      documents_in: documentsIn,
      documents_kept: kept,
      chunks: chunkCount,
      quarantined: dropCount,
    };
    const inputs = [...runFiles, ...evFiles].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      parameters,
      schemaVersions,
      inputs,
      expectedRows: { [RAG_FILE]: chunkCount, [QUARANTINE_FILE]: dropCount },
      manifestCounts: counts,
      beforePublish: rescanExport(dir, config.secret_allowlist),
      counts: { in: unitsIn, out: kept, quarantined: dropCount, by_reason: byReason },
      stats: { ...counts },
      summary: `${n(runsIn)} runs + ${n(documentsIn)} documents → ${n(kept)} documents in ${n(chunkCount)} chunks${dropCount ? `; ${leftOutText(byReason, EXCLUDED)}` : ''}`,
    };
  });
}
