import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Provenance } from '../../schemas/provenance.ts';
import { readLocated } from '../lib/export/inputs.ts';
import { SFT_FAMILY } from '../phases/export-sft/contract.ts';
import { KTO_FAMILY, PAIR_FAMILY } from '../phases/export-preference/contract.ts';
import { RAG_FAMILY } from '../phases/export-rag/contract.ts';
import { familyFiles } from '../lib/export/shards.ts';
import { sigHash } from '../lib/hash.ts';
import { parseRow } from '../lib/json-check.ts';
import { EVIDENCE_DIR, EXPORT_DIRS, SCORED_DIR } from '../phases/registry.ts';
import { readManifest } from '../lib/manifest.ts';
import { loadConfig } from '../lib/project.ts';
import { UserError } from '../lib/result.ts';
import {
  openSource,
  readArrayElements,
  readDocument,
  readLines,
  type FileRefusal,
  type SourceUnit,
} from '../lib/source-reader.ts';

/** One step of the walk back: where an upstream record sits (1-based line for people). */
export interface TraceHop {
  stage: 'scored run' | 'evidence';
  id: string;
  /** `file:line` (1-based), or null when the record was not found. */
  at: string | null;
  note: string;
}

/** The re-read of one source row and the comparison of its hash. */
export interface SourceCheck {
  source_file: string;
  line_offset: number;
  locator: string | null;
  expected: string;
  actual: string | null;
  ok: boolean;
  detail: string;
}

/** One side of an export row (an SFT row has one; a pair has chosen and rejected). */
export interface TraceSide {
  label: string;
  hops: TraceHop[];
  check: SourceCheck;
}

/** The whole walk for one export row. */
export interface TraceReport {
  id: string;
  at: string;
  sides: TraceSide[];
  ok: boolean;
}

/** Which export families (`[folder, family]`, one file per day shard) can hold an id, by its prefix. */
function familiesFor(id: string): [string, string][] {
  if (id.startsWith('sft_'))
    return [
      [EXPORT_DIRS.sft, SFT_FAMILY],
      [EXPORT_DIRS.sftPartial, SFT_FAMILY],
    ];
  if (id.startsWith('pref_')) return [[EXPORT_DIRS.preference, PAIR_FAMILY]];
  if (id.startsWith('kto_')) return [[EXPORT_DIRS.preference, KTO_FAMILY]];
  if (id.startsWith('rag_')) return [[EXPORT_DIRS.rag, RAG_FAMILY]];
  throw new UserError(
    'USAGE',
    `"${id}" is not an export row id: expected one starting with sft_, pref_, kto_ or rag_`,
  );
}

type Row = Record<string, unknown>;

/** The shard files of the families that can hold an id, as their folders' manifests list them. */
async function filesFor(root: string, id: string): Promise<string[]> {
  const out: string[] = [];
  for (const [dir, family] of familiesFor(id)) {
    try {
      const m = await readManifest(root, dir, 'npm run export-all');
      out.push(...familyFiles(m.files, dir, family).map((f) => f.path));
    } catch {
      // not built
    }
  }
  return out;
}

async function findRow(root: string, id: string): Promise<{ row: Row; at: string } | null> {
  const files = (await filesFor(root, id)).filter((f) => existsSync(join(root, f)));
  for await (const r of readLocated(root, files)) {
    if ((r.value as Row)['id'] === id) return { row: r.value as Row, at: `${r.file}:${r.line + 1}` };
  }
  return null;
}

/** Data files of an upstream folder, or none when it has not been built. */
async function dataFiles(root: string, dir: string): Promise<string[]> {
  try {
    return (await readManifest(root, dir, 'npm run export-all')).files
      .filter((f) => !f.path.includes('/_'))
      .map((f) => f.path);
  } catch {
    return [];
  }
}

async function findBy(
  root: string,
  dir: string,
  key: string,
  value: string,
): Promise<{ row: Row; at: string } | null> {
  for await (const r of readLocated(root, await dataFiles(root, dir))) {
    if ((r.value as Row)[key] === value) return { row: r.value as Row, at: `${r.file}:${r.line + 1}` };
  }
  return null;
}

/** What to follow for one side: a run id (→ scored run → evidence) or an evidence id. */
interface SideSpec {
  label: string;
  runId: string | null;
  evidenceId: string | null;
  provenance: Provenance;
}

function sidesOf(id: string, row: Row): SideSpec[] {
  const prov = (k: string): Provenance => row[k] as Provenance;
  if (id.startsWith('sft_') || id.startsWith('kto_'))
    return [
      {
        label: `run ${String(row['run_id'])}`,
        runId: row['run_id'] as string,
        evidenceId: null,
        provenance: prov('provenance'),
      },
    ];
  if (id.startsWith('rag_')) {
    const md = row['metadata'] as Record<string, string | number>;
    const isRun = md['kind'] === 'run';
    return [
      {
        label: isRun ? `run ${String(md['trace_id'])}` : `document ${String(md['evidence_id'])}`,
        runId: isRun ? String(md['trace_id']) : null,
        evidenceId:
          typeof md['evidence_id'] === 'string' && md['evidence_id'] !== '' ? md['evidence_id'] : null,
        provenance: prov('provenance'),
      },
    ];
  }
  const type = row['pair_type'];
  const side = (s: 'chosen' | 'rejected'): SideSpec => {
    const sid = row[`${s}_id`] as string;
    const base = sid.split('#')[0] as string;
    // a correction's chosen side is the human-review signal row; a judgment's sides are its own row
    const isEvidence =
      type === 'judgment' || (type === 'correction' && s === 'chosen' && base.startsWith('ev_'));
    const runId = isEvidence ? null : base;
    return {
      label: `${s} ${sid}`,
      runId,
      evidenceId: isEvidence ? base : null,
      provenance: prov(`${s}_provenance`),
    };
  };
  return [side('chosen'), side('rejected')];
}

/** Re-reads the source row a provenance points at and returns its sig_hash, or why it cannot. */
export async function rehashSource(
  root: string,
  p: Provenance,
  limits: { maxLineBytes: number; maxDepth: number },
): Promise<{ actual: string | null; detail: string }> {
  let opened: Awaited<ReturnType<typeof openSource>>;
  try {
    opened = await openSource(join(root, p.source_file));
  } catch (e) {
    return {
      actual: null,
      detail: `cannot open ${p.source_file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    };
  }
  if (!opened.ok) return { actual: null, detail: `${opened.refusal.reason}: ${opened.refusal.detail}` };
  const src = opened.src;
  try {
    const reader: AsyncGenerator<SourceUnit | FileRefusal> =
      p.locator === undefined
        ? readLines(src, limits.maxLineBytes)
        : /^\$\[\d+\]$/.test(p.locator)
          ? readArrayElements(src, limits.maxLineBytes)
          : readDocument(src, 256 * 1024 * 1024);
    for await (const item of reader) {
      if (!('index' in item)) return { actual: null, detail: `${item.reason}: ${item.detail}` };
      if (item.index !== p.line_offset) continue;
      if (item.issue || item.text === null)
        return {
          actual: null,
          detail: `the row no longer reads: ${item.issue?.reason ?? 'unreadable'}${item.issue ? `: ${item.issue.detail}` : ''}`,
        };
      const parsed = parseRow(item.text, { maxDepth: limits.maxDepth });
      if (!parsed.ok)
        return {
          actual: null,
          detail: `the row no longer parses: ${parsed.drop.reason}: ${parsed.drop.detail}`,
        };
      return { actual: sigHash(parsed.value), detail: '' };
    }
    return {
      actual: null,
      detail: `${p.source_file} has no ${p.locator === undefined ? 'line' : 'element'} ${p.line_offset} (0-based) any more`,
    };
  } finally {
    await src.fh.close();
  }
}

function limitsOf(root: string): { maxLineBytes: number; maxDepth: number } {
  try {
    const c = loadConfig(root);
    return { maxLineBytes: c.limits.max_line_bytes, maxDepth: c.limits.max_depth };
  } catch {
    return { maxLineBytes: 16 * 1024 * 1024, maxDepth: 64 };
  }
}

/**
 * Walks an export row back to its source: export file → scored run → evidence → source file and
 * line, then re-reads that source row and re-hashes it. `ok` only when every hop was found, the
 * evidence agrees with the export's provenance, and every source row still has its sig_hash.
 */
export async function traceRow(root: string, id: string): Promise<TraceReport> {
  const found = await findRow(root, id);
  if (!found)
    throw new UserError(
      'NOT_FOUND',
      `${id} not found in ${familiesFor(id)
        .map(([d, f]) => `${d}/${f}/*.jsonl`)
        .join(' or ')}; is the export built (npm run export-all)?`,
    );
  const limits = limitsOf(root);
  const sides: TraceSide[] = [];
  for (const spec of sidesOf(id, found.row)) {
    const hops: TraceHop[] = [];
    let evidenceId = spec.evidenceId;
    let consistent = true;
    if (spec.runId !== null) {
      const run = await findBy(root, SCORED_DIR, 'run_id', spec.runId);
      hops.push({
        stage: 'scored run',
        id: spec.runId,
        at: run?.at ?? null,
        note: run
          ? `${String(run.row['category'])} by ${String(run.row['decided_by'])}`
          : `not found in ${SCORED_DIR}`,
      });
      if (run) evidenceId ??= run.row['evidence_id'] as string;
      else consistent = false;
    }
    if (evidenceId !== null) {
      const ev = await findBy(root, EVIDENCE_DIR, 'evidence_id', evidenceId);
      let note = ev
        ? `${String(ev.row['kind'])} from stream ${String(ev.row['stream'])}`
        : `not found in ${EVIDENCE_DIR}`;
      if (!ev) consistent = false;
      else {
        const ep = ev.row['provenance'] as Provenance;
        if (
          ep.source_file !== spec.provenance.source_file ||
          ep.line_offset !== spec.provenance.line_offset ||
          ep.sig_hash !== spec.provenance.sig_hash
        ) {
          consistent = false;
          note += `; its provenance (${ep.source_file} line_offset ${ep.line_offset}) differs from the export row's`;
        }
      }
      hops.push({ stage: 'evidence', id: evidenceId, at: ev?.at ?? null, note });
    }
    const p = spec.provenance;
    const { actual, detail } = await rehashSource(root, p, limits);
    const matches = actual === p.sig_hash;
    sides.push({
      label: spec.label,
      hops,
      check: {
        source_file: p.source_file,
        line_offset: p.line_offset,
        locator: p.locator ?? null,
        expected: p.sig_hash,
        actual,
        ok: matches && consistent,
        detail: actual === null ? detail : matches ? '' : 'the source row was modified after it was exported',
      },
    });
  }
  return { id, at: found.at, sides, ok: sides.every((s) => s.check.ok) };
}

/** The human-readable walk, for stdout. */
export function formatTrace(r: TraceReport): string {
  const lines = [`${r.id}  ${r.at}`];
  for (const s of r.sides) {
    lines.push(`  ${s.label}`);
    for (const h of s.hops)
      lines.push(`    ${h.stage.padEnd(10)}  ${h.at ?? '(missing)'}  ${h.id}  ${h.note}`);
    const c = s.check;
    const where =
      c.locator && c.locator !== '$'
        ? `${c.source_file} ${c.locator} (element ${c.line_offset})`
        : c.locator === '$'
          ? `${c.source_file} (whole document)`
          : `${c.source_file}:${c.line_offset + 1} (line_offset ${c.line_offset})`;
    lines.push(`    ${'source'.padEnd(10)}  ${where}`);
    if (c.actual === null) lines.push(`    ${'sig_hash'.padEnd(10)}  ✖ cannot check: ${c.detail}`);
    else if (c.actual !== c.expected)
      lines.push(
        `    ${'sig_hash'.padEnd(10)}  ✖ MISMATCH: recorded ${c.expected}, the row now hashes to ${c.actual} (${c.detail})`,
      );
    else
      lines.push(
        `    ${'sig_hash'.padEnd(10)}  ${c.ok ? '✔' : '✖'} matches ${c.expected}${c.ok ? '' : ' (but a hop above is missing or disagrees)'}`,
      );
  }
  const bad = r.sides.filter((s) => !s.check.ok).length;
  lines.push(
    bad === 0
      ? `✔ ${r.sides.length} of ${r.sides.length} source rows unchanged`
      : `✖ ${bad} of ${r.sides.length} source rows changed or untraceable: rebuild with \`npm run export-all\` to re-derive the exports from the current sources (a source edited in place or shortened stops that build with SOURCE_TRUNCATED: run \`npx distill build-evidence --accept-source-changes\` first if the edit was intended)`,
  );
  return lines.join('\n');
}
