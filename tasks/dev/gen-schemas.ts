/**
 * Generates JSON Schema (draft 2020-12) for every record type into docs/schemas/, plus a README
 * index. `npm run schemas` writes the files; test/schemas-docs.test.ts fails when they are stale.
 * The core (`renderSchemaDocs`) is pure and deterministic: keys sorted, 2-space indent, final newline.
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ChatMessage, SCHEMA_VERSION as CHAT_V } from '../../schemas/chat.ts';
import { DistillConfig, SCHEMA_VERSION as CONFIG_V } from '../../schemas/config.ts';
import { AuditBaselineEntry, SCHEMA_VERSION as AUDIT_ENTRY_V } from '../../schemas/audit-baseline-entry.ts';
import { DriftReport, SCHEMA_VERSION as DRIFT_V } from '../../schemas/drift-report.ts';
import { EvidenceRecord, SCHEMA_VERSION as EVIDENCE_V } from '../../schemas/evidence-record.ts';
import { KtoSample, SCHEMA_VERSION as KTO_V } from '../../schemas/kto-sample.ts';
import { PreferenceSample, SCHEMA_VERSION as PREFERENCE_V } from '../../schemas/preference-sample.ts';
import { Provenance, SCHEMA_VERSION as PROVENANCE_V } from '../../schemas/provenance.ts';
import { QuarantineRecord, SCHEMA_VERSION as QUARANTINE_V } from '../../schemas/quarantine-record.ts';
import { RagSample, SCHEMA_VERSION as RAG_V } from '../../schemas/rag-sample.ts';
import { ReleaseManifest, SCHEMA_VERSION as RELEASE_MANIFEST_V } from '../../schemas/release-manifest.ts';
import { ReplayCall, SCHEMA_VERSION as REPLAY_CALL_V } from '../../schemas/replay-call.ts';
import { RunSummary, SCHEMA_VERSION as SUMMARY_V } from '../../schemas/run-summary.ts';
import { ScoredRun, SCHEMA_VERSION as SCORED_V } from '../../schemas/scored-run.ts';
import { SftSample, SCHEMA_VERSION as SFT_V } from '../../schemas/sft-sample.ts';
import { StageReceipt, SCHEMA_VERSION as RECEIPT_V } from '../../schemas/stage-receipt.ts';
import { writeFileAtomic } from '../lib/fs-atomic.ts';

/** Where the generated files go, relative to the project root. */
export const SCHEMA_DOCS_DIR = 'docs/schemas';

/** One documented record type. */
interface RecordDoc {
  /** Type name, as exported by its schema file. */
  title: string;
  schema: z.ZodType;
  /** Schema file, relative to the project root. */
  source: string;
  version: number;
  /** `input` for files people write (defaults may be omitted), `output` for records we write. */
  io: 'input' | 'output';
  summary: string;
  /** Checks zod enforces that JSON Schema cannot express (refinements). */
  notes?: string;
}

/** The documented record types, in README order (sources first, exports last). */
export const RECORD_DOCS: readonly RecordDoc[] = [
  {
    title: 'DistillConfig',
    schema: DistillConfig,
    source: 'schemas/config.ts',
    version: CONFIG_V,
    io: 'input',
    summary: 'The project config, `distill.config.json` (defaults may be omitted)',
  },
  {
    title: 'Provenance',
    schema: Provenance,
    source: 'schemas/provenance.ts',
    version: PROVENANCE_V,
    io: 'output',
    summary: 'The join key from any derived row back to its source line',
    notes: '`source_file` must be a relative path without `..` segments, wherever a provenance is embedded',
  },
  {
    title: 'ChatMessage',
    schema: ChatMessage,
    source: 'schemas/chat.ts',
    version: CHAT_V,
    io: 'output',
    summary: 'A conversation turn in OpenAI chat shape',
  },
  {
    title: 'EvidenceRecord',
    schema: EvidenceRecord,
    source: 'schemas/evidence-record.ts',
    version: EVIDENCE_V,
    io: 'output',
    summary: 'One normalised source row (run, signal, document or judgment) with provenance',
  },
  {
    title: 'QuarantineRecord',
    schema: QuarantineRecord,
    source: 'schemas/quarantine-record.ts',
    version: QUARANTINE_V,
    io: 'output',
    summary: 'Every dropped row, with its reason code; raw content is never copied',
  },
  {
    title: 'ScoredRun',
    schema: ScoredRun,
    source: 'schemas/scored-run.ts',
    version: SCORED_V,
    io: 'output',
    summary: 'One run, its joined outcome signals and its category',
  },
  {
    title: 'RagSample',
    schema: RagSample,
    source: 'schemas/rag-sample.ts',
    version: RAG_V,
    io: 'output',
    summary: 'A grounded document (or chunk) for retrieval',
  },
  {
    title: 'SftSample',
    schema: SftSample,
    source: 'schemas/sft-sample.ts',
    version: SFT_V,
    io: 'output',
    summary: 'A training conversation; `quality_score` is only ever accepted or partially_accepted',
  },
  {
    title: 'PreferenceSample',
    schema: PreferenceSample,
    source: 'schemas/preference-sample.ts',
    version: PREFERENCE_V,
    io: 'output',
    summary: 'A DPO chosen / rejected pair with provenance for both sides',
    notes: '`chosen_id` ≠ `rejected_id` (no self-pairs), and the chosen and rejected texts differ',
  },
  {
    title: 'KtoSample',
    schema: KtoSample,
    source: 'schemas/kto-sample.ts',
    version: KTO_V,
    io: 'output',
    summary: 'An unpaired preference row labelled desirable or not',
  },
  {
    title: 'StageReceipt',
    schema: StageReceipt,
    source: 'schemas/stage-receipt.ts',
    version: RECEIPT_V,
    io: 'output',
    summary: 'What one phase read, wrote and counted in one run',
  },
  {
    title: 'RunSummary',
    schema: RunSummary,
    source: 'schemas/run-summary.ts',
    version: SUMMARY_V,
    io: 'output',
    summary: 'The outcome of one run-all: phases and the funnel',
  },
  {
    title: 'DriftReport',
    schema: DriftReport,
    source: 'schemas/drift-report.ts',
    version: DRIFT_V,
    io: 'output',
    summary: 'Metric changes between consecutive runs',
  },
  {
    title: 'AuditBaselineEntry',
    schema: AuditBaselineEntry,
    source: 'schemas/audit-baseline-entry.ts',
    version: AUDIT_ENTRY_V,
    io: 'output',
    summary:
      'The entry of one row of the append-only audit baseline `data/_kb/audit_baselines.jsonl` (`distill audit-full`)',
  },
  {
    title: 'ReleaseManifest',
    schema: ReleaseManifest,
    source: 'schemas/release-manifest.ts',
    version: RELEASE_MANIFEST_V,
    io: 'output',
    summary:
      'What `distill release-freeze` froze: the six gates, the phase → commit map, dataset counts, the exports hash',
  },
  {
    title: 'ReplayCall',
    schema: ReplayCall,
    source: 'schemas/replay-call.ts',
    version: REPLAY_CALL_V,
    io: 'output',
    summary: 'One logged model call of `distill replay` / `replay-eval` (reports/replay/calls.jsonl)',
  },
];

/** `EvidenceRecord` → `evidence-record`. */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** A deep copy with every object's keys in code-unit order (arrays keep their order). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** JSON Schema text per record type: kebab-case name → file content. Sorted by name. */
export function jsonSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const doc of [...RECORD_DOCS].sort((a, b) => (kebab(a.title) < kebab(b.title) ? -1 : 1))) {
    const generated = z.toJSONSchema(doc.schema, {
      target: 'draft-2020-12',
      io: doc.io,
      unrepresentable: 'throw',
    });
    const schema = {
      ...generated,
      title: doc.title,
      $comment: `Generated from ${doc.source} (SCHEMA_VERSION ${doc.version}) by \`npm run schemas\`; do not edit.`,
    };
    out.set(kebab(doc.title), `${JSON.stringify(sortKeys(schema), null, 2)}\n`);
  }
  return out;
}

/** The README that indexes the generated schemas. */
export function schemaReadme(): string {
  const rows = RECORD_DOCS.map((d) => {
    const file = `${kebab(d.title)}.schema.json`;
    return `| ${d.title} | [${file}](${file}) | \`${d.source}\` | ${d.version} | ${d.summary} |`;
  });
  const notes = RECORD_DOCS.filter((d) => d.notes).map((d) => `- **${d.title}**: ${d.notes}.`);
  return [
    '# Record schemas',
    '',
    'JSON Schema (draft 2020-12) for every record type distill reads or writes, generated from the zod',
    'schemas in `schemas/` by `npm run schemas` (`tasks/dev/gen-schemas.ts`). Do not edit these files by',
    'hand: change the zod schema, run `npm run schemas`, and commit both. `test/schemas-docs.test.ts`',
    'fails when they are stale.',
    '',
    '`DistillConfig` describes the file you write, so fields with defaults are optional; every other',
    'schema describes records as distill writes them. Our records are strict: unknown fields are errors.',
    '',
    '| Record | JSON Schema | Source | Version | What it is |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    '## Checks JSON Schema cannot express',
    '',
    'zod also enforces these refinements, which the generated files do not carry:',
    '',
    ...notes,
    '',
  ].join('\n');
}

/** Every file of docs/schemas/: file name → content, sorted by file name. */
export function renderSchemaDocs(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, text] of jsonSchemas()) files.set(`${name}.schema.json`, text);
  files.set('README.md', schemaReadme());
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Writes docs/schemas/ under `root` and removes generated files that no longer have a record type. */
export async function writeSchemaDocs(root: string): Promise<{ written: number; removed: string[] }> {
  const dir = join(root, SCHEMA_DOCS_DIR);
  const files = renderSchemaDocs();
  for (const [name, text] of files) await writeFileAtomic(join(dir, name), text);
  const removed: string[] = [];
  for (const name of (await fsp.readdir(dir)).sort()) {
    if (name.endsWith('.schema.json') && !files.has(name)) {
      await fsp.rm(join(dir, name));
      removed.push(name);
    }
  }
  return { written: files.size, removed };
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const { written, removed } = await writeSchemaDocs(root);
  const gone = removed.length > 0 ? `, removed ${removed.join(', ')}` : '';
  process.stderr.write(`✔ schemas: ${written - 1} JSON Schemas + README → ${SCHEMA_DOCS_DIR}/${gone}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`✖ schemas: internal error\n${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 70;
  });
}
