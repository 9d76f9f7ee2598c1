import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
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
import { fanOutSharded, QuarantineSorter, rescanExport, type ExportDrop } from '../../lib/export/output.ts';
import {
  EVIDENCE_SHARD,
  EXPORT_LAYOUT,
  familyShard,
  previousBuild,
  quarantineShard,
  reuseShard,
  saveBuild,
  shardEntries,
  shardOfInput,
  SpilledJson,
  type ShardRecord,
} from '../../lib/export/shards.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { bump, sortedCounts } from '../../lib/phase.ts';
import { EXPORT_SORT_CHARS, ExternalSorter } from '../../lib/external-sort.ts';
import { contentId, sha256 } from '../../lib/hash.ts';
import { RAG_CARD, RAG_DIR, RAG_FAMILY, type Reason as ExportRagReason } from './contract.ts';
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

/** The dataset card of exports/rag/ (deterministic: counts come from the data). */
export function ragCard(rows: number): string {
  return renderCard({
    prettyName: 'distill RAG documents',
    taskCategories: ['text-retrieval', 'question-answering'],
    tags: ['rag', 'retrieval', 'agent-traces', 'distill'],
    configs: [
      { name: 'documents', default: true, splits: [{ split: 'train', path: `${RAG_FAMILY}/*.jsonl`, rows }] },
    ],
    body: [
      '# distill RAG documents',
      '',
      `Exported by \`distill export-rag\`: one row per retrieval document or chunk of one (\`id\`, \`text\`, flat \`metadata\` of strings and numbers, \`provenance\`), ready for LlamaIndex, LangChain (\`JSONLoader\`, \`json_lines\`) or a vector store's bulk loader.`,
      '',
      'Documents come from accepted and partially accepted runs (`metadata.kind` = `run`) and from knowledge documents (`document`). A run becomes `Task:` (the user turn the model worked on), `Steps:` (each tool call with its result, clipped), `Answer:` (the human correction, else the last assistant text that is more than a pleasantry) and, for a coding agent, `Patch:` (the diff it submitted). Documents longer than the configured size are split on paragraph boundaries (`metadata.chunk_index` / `chunk_count`); equal texts are kept once, in the first shard that holds them.',
      '',
      `Rows are one file per day of the traces (\`${RAG_FAMILY}/<YYYY-MM-DD>.jsonl\`, \`undated.jsonl\`) plus the knowledge documents (\`${RAG_FAMILY}/evidence.jsonl\`). Trace any row back to its source line with \`distill trace <id>\`; rows left out are explained in \`_quarantine/<shard>.jsonl\`.`,
    ],
  });
}

/** What a RAG build remembers of each shard: counts, and each distinct text with the id that kept it. */
interface RagShard {
  runs_in: number;
  documents_in: number;
  kept: number;
  chunks: number;
  quarantined: number;
  by_reason: Record<string, number>;
  /**
   * [text key, lowest base id of this shard with that text, the earlier shard's winner or ''].
   * In a state read back: the list; while a build runs, a shard it built has it spilled to its
   * scratch folder (saveBuild copies it in), so the build does not hold every text of the corpus.
   */
  texts: [string, string, string][] | SpilledJson;
}

/**
 * The dedup key of a document text (first 128 bits of the sha256 of its normalised text). Hex of
 * the first 16 bytes of the digest, not a slice of the 64-digit hex: a slice keeps its whole parent
 * string alive, and every kept key stays in memory for the rest of the build.
 */
const textKey = (text: string): string =>
  createHash('sha256').update(normaliseForCompare(text)).digest().toString('hex', 0, 16);

/**
 * The export-rag phase: exports/rag/documents/<shard>.jsonl and its dataset card, one shard per
 * day file of screened runs plus `evidence` for the knowledge documents. Equal texts are kept once,
 * in time order: shards in name order (days, `evidence`, `undated`), within a shard the lowest base
 * id. A shard therefore depends on its input and on which of its texts an earlier shard kept (and
 * under which id): a shard whose input is unchanged and whose texts meet the same earlier winners
 * as in the previous build is linked from the published folder; the others are built again.
 */
export async function exportRag(root: string, config: DistillConfig): Promise<PhaseResult> {
  const dir = RAG_DIR;
  const chunkChars = config.exports.rag_chunk_chars;
  const { runs: runFiles, evidence: evFiles } = await screenedFiles(root);
  const parameters = {
    export_layout: EXPORT_LAYOUT,
    rag_chunk_chars: chunkChars,
    categories: ['accepted', 'partially_accepted'],
  };
  const shards: { shard: string; files: FileEntry[]; input: string }[] = runFiles.map((f) => ({
    shard: shardOfInput(f.path),
    files: [f],
    input: f.sha256,
  }));
  if (evFiles.length > 0)
    shards.push({
      shard: EVIDENCE_SHARD,
      files: evFiles,
      input: sha256(evFiles.map((f) => `${f.path}\u0000${f.sha256}`).join('\n')),
    });
  shards.sort((a, b) => (a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0));
  return stagedPhase(root, { phase: 'export-rag', outDir: dir }, async ({ staged, scratch }) => {
    const prev = await previousBuild<RagShard>(root, 'export-rag', dir, parameters);
    const winners = new Map<string, string>(); // text key → base id kept (earlier shards)
    const records = new Map<string, ShardRecord<RagShard>>();
    const reused = new Set<string>();
    const fresh: string[] = [];
    const chunks = new ExternalSorter(scratch.dir, 'chunks', EXPORT_SORT_CHARS);
    const quarantine = new QuarantineSorter(scratch.dir, 'export-rag');
    for (const x of shards) {
      const was = prev?.shards.get(x.shard);
      const wasTexts = was?.data.texts as [string, string, string][] | undefined; // read back: a list
      if (was && was.input === x.input && wasTexts!.every(([k, , e]) => (winners.get(k) ?? '') === e)) {
        const rels = await reuseShard(root, staged, dir, shardEntries(prev!, dir, x.shard), prev!);
        if (rels) {
          for (const r of rels) reused.add(r);
          for (const [k, own, e] of wasTexts!) if (e === '') winners.set(k, own);
          records.set(x.shard, was);
          continue;
        }
      }
      fresh.push(x.shard);
      const texts: [string, string, string][] = [];
      const d: RagShard = {
        runs_in: 0,
        documents_in: 0,
        kept: 0,
        chunks: 0,
        quarantined: 0,
        by_reason: {},
        texts: [],
      };
      const drop = async (e: ExportDrop): Promise<void> => {
        d.quarantined++;
        bump(d.by_reason, e.reason);
        await quarantine.add(e, x.shard);
      };
      const docs = new ExternalSorter(scratch.dir, `documents-${x.shard}`, EXPORT_SORT_CHARS);
      for await (const row of readLocated(
        root,
        x.files.map((f) => f.path),
      )) {
        if (x.shard === EVIDENCE_SHARD) {
          const ev = row.value as EvidenceRecord;
          if (ev.kind !== 'document') continue;
          d.documents_in++;
          const doc = knowledgeDocument(ev);
          await docs.add(doc.baseId, JSON.stringify(doc));
          continue;
        }
        const run = row.value as ScoredRun;
        d.runs_in++;
        const out = runDocument(run);
        if (out.type === 'keep') await docs.add(out.doc.baseId, JSON.stringify(out.doc));
        else
          await drop({
            reason: out.reason,
            detail: out.detail,
            provenance: run.provenance,
            record: run.run_id,
            trace: run.run_id,
            ref: null,
          });
      }
      const local = new Map<string, [string, string]>(); // text key → [own winner, earlier winner]
      for await (const { line } of docs.sorted()) {
        const doc = JSON.parse(line) as RagDocument;
        const key = textKey(doc.text);
        let seen = local.get(key);
        if (!seen) {
          const earlier = winners.get(key) ?? '';
          seen = [doc.baseId, earlier];
          local.set(key, seen);
          if (earlier === '') {
            d.kept++;
            for (const sample of toRagSamples(doc, chunkChars)) {
              d.chunks++;
              await chunks.add(`${x.shard}\u0000${sample.id}`, JSON.stringify(sample));
            }
            continue;
          }
        }
        const first = seen[1] !== '' ? seen[1] : seen[0];
        await drop({
          reason: 'DUPLICATE_TEXT',
          detail: `same text as ${first}, which was kept`,
          provenance: doc.provenance,
          record: doc.record,
          trace: doc.trace,
          ref: first,
        });
      }
      for (const [k, [own, e]] of local) {
        texts.push([k, own, e]);
        if (e === '') winners.set(k, own);
      }
      texts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const spill = new SpilledJson(join(scratch.dir, `texts-${x.shard}.json`));
      await fsp.writeFile(spill.path, JSON.stringify(texts));
      d.texts = spill;
      d.by_reason = sortedCounts(d.by_reason);
      records.set(x.shard, { input: x.input, data: d });
    }
    await fanOutSharded<RagSample & { split: 'train' }>(staged, chunks, RAG_FAMILY, [], fresh);
    await quarantine.write(staged, fresh);
    let runsIn = 0;
    let documentsIn = 0;
    let kept = 0;
    let chunkCount = 0;
    let dropCount = 0;
    const byReasonAll: Record<string, number> = {};
    const expectedRows: Record<string, number> = {};
    for (const [shard, { data: d }] of records) {
      runsIn += d.runs_in;
      documentsIn += d.documents_in;
      kept += d.kept;
      chunkCount += d.chunks;
      dropCount += d.quarantined;
      for (const [k, v] of Object.entries(d.by_reason)) bump(byReasonAll, k, v);
      expectedRows[familyShard(RAG_FAMILY, shard)] = d.chunks;
      expectedRows[quarantineShard(shard)] = d.quarantined;
    }
    const byReason = sortedCounts(byReasonAll);
    const unitsIn = runsIn + documentsIn;
    if (unitsIn !== kept + dropCount)
      throw new Error(
        `accounting broke: ${unitsIn} runs + documents ≠ ${kept} exported + ${dropCount} quarantined`,
      );
    await staged.writeFile(RAG_CARD, ragCard(chunkCount));
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
    const reusedShards = records.size - fresh.length;
    return {
      parameters,
      schemaVersions,
      inputs,
      expectedRows,
      manifestCounts: counts,
      beforePublish: rescanExport(dir, config.secret_allowlist, reused),
      afterPublish: (manifest: string) => saveBuild(root, 'export-rag', parameters, manifest, records),
      counts: { in: unitsIn, out: kept, quarantined: dropCount, by_reason: byReason },
      stats: { ...counts },
      summary: `${n(runsIn)} runs + ${n(documentsIn)} documents → ${n(kept)} documents in ${n(chunkCount)} chunks${dropCount ? `; ${leftOutText(byReason, EXCLUDED)}` : ''}${reusedShards > 0 ? ` (incremental: ${n(fresh.length)} shards built, ${n(reusedShards)} unchanged reused)` : ''}`,
    };
  });
}
