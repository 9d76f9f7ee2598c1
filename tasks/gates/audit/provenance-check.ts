import { join } from 'node:path';
import type { Provenance } from '../../../schemas/provenance.ts';
import { sigHash } from '../../lib/hash.ts';
import { parseRow } from '../../lib/json-check.ts';
import { EVIDENCE_DIR } from '../../phases/registry.ts';
import { n } from '../../lib/log.ts';
import {
  openSource,
  readArrayElements,
  readDocument,
  readLines,
  type FileRefusal,
  type SourceUnit,
} from '../../lib/source-reader.ts';
import type { AuditContext, CheckFn } from './check-list.ts';
import { Findings, plural } from './findings.ts';
import { dataFilesOf, familyPaths, phaseManifest, readRows } from './rows.ts';
import { CANONICAL } from './schema-checks.ts';

/**
 * provenance: every export row's provenance (both sides of a pair) must name an evidence record
 * (same source file, line offset and sig_hash), and the source row it points at must still hash
 * to its sig_hash. Each source file is read once, whatever the number of rows pointing into it.
 * Memory: one small reference per export row side, plus the evidence provenance keys.
 */

/** One export row side pointing at a source unit. */
interface Ref {
  label: string;
  p: Provenance;
}

const key = (p: Provenance): string => `${p.source_file}\u0000${p.line_offset}\u0000${p.sig_hash}`;

/** The provenance fields of a canonical export row: `provenance`, or a pair's two sides. */
function sidesOf(row: Record<string, unknown>): [string, Provenance][] {
  if (row['provenance']) return [['', row['provenance'] as Provenance]];
  return [
    [' chosen', row['chosen_provenance'] as Provenance],
    [' rejected', row['rejected_provenance'] as Provenance],
  ].filter(([, p]) => p !== undefined) as [string, Provenance][];
}

async function exportRefs(ctx: AuditContext, f: Findings): Promise<Ref[]> {
  const refs: Ref[] = [];
  for (const phase of ctx.phases.filter((x) => CANONICAL[x.outDir])) {
    for (const c of CANONICAL[phase.outDir] ?? []) {
      let rel = `${phase.outDir}/${c.file}`;
      try {
        for (const shard of await familyPaths(ctx.root, phase.outDir, c.file)) {
          rel = shard;
          for await (const r of readRows(ctx.root, rel)) {
            if (!r.ok) continue; // export-schema reports it
            const row = r.value as Record<string, unknown>;
            for (const [side, p] of sidesOf(row)) {
              if (!p || typeof p.source_file !== 'string')
                f.add(`${rel}:${r.line} (${String(row['id'])}${side}): no provenance`);
              else refs.push({ label: `${rel}:${r.line} (${String(row['id'])}${side})`, p });
            }
          }
        }
      } catch (e) {
        f.add(
          `${rel}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); build it with \`npm run ${phase.script}\``,
        );
      }
    }
  }
  return refs;
}

/** The provenance keys of every evidence record, or null when data/evidence is not built. */
async function evidenceKeys(ctx: AuditContext): Promise<Set<string> | null> {
  const m = await phaseManifest(ctx.root, EVIDENCE_DIR);
  if (!m.ok) return null;
  const keys = new Set<string>();
  for (const rel of dataFilesOf(m.value)) {
    for await (const r of readRows(ctx.root, rel))
      if (r.ok) keys.add(key((r.value as { provenance: Provenance }).provenance));
  }
  return keys;
}

/** sig_hash of the wanted units of one source file (index → hash or why it cannot be hashed), reading it once. */
async function hashUnits(
  ctx: AuditContext,
  file: string,
  locator: string | undefined,
  wanted: ReadonlySet<number>,
): Promise<{ hashes: Map<number, string | { error: string }> } | { error: string }> {
  let opened: Awaited<ReturnType<typeof openSource>>;
  try {
    opened = await openSource(join(ctx.root, file));
  } catch (e) {
    return { error: `cannot open ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (!opened.ok) return { error: `${file} is refused: ${opened.refusal.reason}: ${opened.refusal.detail}` };
  const src = opened.src;
  const { max_line_bytes: maxLineBytes, max_depth: maxDepth } = ctx.config.limits;
  const hashes = new Map<number, string | { error: string }>();
  try {
    const reader: AsyncGenerator<SourceUnit | FileRefusal> =
      locator === undefined
        ? readLines(src, maxLineBytes)
        : /^\$\[\d+\]$/.test(locator)
          ? readArrayElements(src, maxLineBytes)
          : readDocument(src, 256 * 1024 * 1024);
    for await (const u of reader) {
      if (!('index' in u)) return { error: `${file}: ${u.reason}: ${u.detail}` };
      if (!wanted.has(u.index)) continue;
      if (u.issue || u.text === null) {
        hashes.set(u.index, { error: `the row no longer reads (${u.issue?.reason ?? 'unreadable'})` });
        continue;
      }
      const parsed = parseRow(u.text, { maxDepth });
      hashes.set(
        u.index,
        parsed.ok ? sigHash(parsed.value) : { error: `the row no longer parses (${parsed.drop.reason})` },
      );
    }
  } finally {
    await src.fh.close();
  }
  return { hashes };
}

/** provenance: export rows resolve to evidence and their source rows re-hash. */
export const provenance: CheckFn = async (ctx) => {
  const f = new Findings();
  const refs = await exportRefs(ctx, f);
  const evidence = await evidenceKeys(ctx);
  if (evidence === null)
    f.add(
      `${EVIDENCE_DIR}/_manifest.json is missing or invalid, so export rows cannot be resolved; build it with \`npm run build-evidence\``,
    );
  const byFile = new Map<string, Ref[]>();
  for (const r of refs) {
    if (evidence && !evidence.has(key(r.p)))
      f.add(
        `${r.label}: provenance ${r.p.source_file} line_offset ${r.p.line_offset} sig_hash ${r.p.sig_hash.slice(0, 12)}… matches no evidence record; the export is stale or was edited: rebuild with \`npm run run-all\``,
      );
    let list = byFile.get(r.p.source_file);
    if (!list) byFile.set(r.p.source_file, (list = []));
    list.push(r);
  }
  for (const file of [...byFile.keys()].sort()) {
    const list = byFile.get(file) as Ref[];
    const res = await hashUnits(ctx, file, list[0]?.p.locator, new Set(list.map((r) => r.p.line_offset)));
    if ('error' in res) {
      f.add(
        `${res.error}; ${n(list.length)} export row sides point into it (first: ${list[0]?.label}); restore the source or rebuild with \`npm run run-all\``,
      );
      continue;
    }
    for (const r of list) {
      const got = res.hashes.get(r.p.line_offset);
      const where = r.p.locator === undefined ? `${file}:${r.p.line_offset + 1}` : `${file} ${r.p.locator}`;
      if (got === undefined)
        f.add(
          `${r.label}: ${where} does not exist any more (the source shrank); restore it or rebuild with \`npm run run-all\``,
        );
      else if (typeof got !== 'string')
        f.add(`${r.label}: ${where}: ${got.error}; restore the source or rebuild with \`npm run run-all\``);
      else if (got !== r.p.sig_hash)
        f.add(
          `${r.label}: ${where} now hashes to ${got.slice(0, 12)}…, provenance says ${r.p.sig_hash.slice(0, 12)}…: the source row was edited after export; restore it or rebuild with \`npm run run-all\``,
        );
    }
  }
  return f.outcome(
    `${plural(refs.length, 'export row side')} resolve to evidence and re-hash (${plural(byFile.size, 'source file')} read once each)`,
  );
};
