import type { z } from 'zod';
import { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { KtoSample } from '../../../schemas/kto-sample.ts';
import { PreferenceSample } from '../../../schemas/preference-sample.ts';
import { QuarantineRecord } from '../../../schemas/quarantine-record.ts';
import { RagSample } from '../../../schemas/rag-sample.ts';
import { ScoredRun } from '../../../schemas/scored-run.ts';
import { SftSample } from '../../../schemas/sft-sample.ts';
import { KTO_FAMILY, PAIR_FAMILY } from '../../phases/export-preference/contract.ts';
import { familyFiles, shardOfFile } from '../../lib/export/shards.ts';
import { RAG_FAMILY } from '../../phases/export-rag/contract.ts';
import { SFT_FAMILY } from '../../phases/export-sft/contract.ts';
import { EVIDENCE_DIR, EXPORT_DIRS, SCORED_DIR, SCREENED_DIR } from '../../phases/registry.ts';
import { n } from '../../lib/log.ts';
import { SPLITS } from '../../lib/export/split.ts';
import { openaiDpoRow } from '../../lib/export/formats/openai.ts';
import type { AuditContext, CheckFn } from './check-list.ts';
import { Findings, plural, zodIssue, type CheckOutcome } from './findings.ts';
import { phaseManifest, readRows } from './rows.ts';

/**
 * The schema checks: every row of every file a phase published is parsed again and validated
 * against its record schema (or, for the OpenAI / TRL / HF format files, checked to be a JSON
 * object whose row counts and ids match the canonical export file).
 */

/** A row validator: null when valid, else the problem (without the location). */
type Validate = (value: unknown) => string | null;

const bySchema =
  (schema: z.ZodType, what: string): Validate =>
  (value) => {
    const res = schema.safeParse(value);
    return res.success ? null : `not a valid ${what} (${zodIssue(res.error)})`;
  };
const isObject: Validate = (v) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? null : 'not a JSON object';

/** Where each id was first seen, to report duplicates. */
type IdIndex = Map<string, string>;

interface FileSpec {
  validate: Validate;
  /** Key of the row's unique id, checked against `ids`. */
  idKey?: string;
  ids?: IdIndex;
  /** Called with each valid row. */
  onRow?: (value: Record<string, unknown>) => void;
}

/** Validates every row of one file; returns the number of rows read. */
async function checkFile(ctx: AuditContext, rel: string, spec: FileSpec, f: Findings): Promise<number> {
  let rows = 0;
  try {
    for await (const r of readRows(ctx.root, rel)) {
      rows++;
      if (!r.ok) {
        f.add(`${rel}:${r.line}: ${r.error}`);
        continue;
      }
      const bad = spec.validate(r.value);
      if (bad) {
        f.add(`${rel}:${r.line}: ${bad}`);
        continue;
      }
      const row = r.value as Record<string, unknown>;
      if (spec.idKey && spec.ids) {
        const id = String(row[spec.idKey]);
        const first = spec.ids.get(id);
        if (first !== undefined)
          f.add(`${rel}:${r.line}: ${spec.idKey} ${id} appears twice (first at ${first})`);
        else spec.ids.set(id, `${rel}:${r.line}`);
      }
      spec.onRow?.(row);
    }
  } catch (e) {
    f.add(
      `${rel}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); rebuild the phase`,
    );
  }
  return rows;
}

/** Records that a phase folder is not built (or its manifest is unusable) and returns the failed outcome. */
function notBuilt(f: Findings, error: string, command: string): CheckOutcome {
  f.add(`${error}; build it with \`${command}\``);
  return f.outcome('');
}

const Q: FileSpec = { validate: bySchema(QuarantineRecord, 'QuarantineRecord') };

/** evidence-schema: data/evidence rows are EvidenceRecords with unique ids; its quarantine rows QuarantineRecords. */
export const evidenceSchema: CheckFn = async (ctx) => {
  const f = new Findings();
  const m = await phaseManifest(ctx.root, EVIDENCE_DIR);
  if (!m.ok) return notBuilt(f, m.error, 'npm run build-evidence');
  const ids: IdIndex = new Map();
  let rows = 0;
  let quarantined = 0;
  let files = 0;
  for (const file of m.value.files) {
    if (!file.path.endsWith('.jsonl')) continue; // _health.json: evidence-accounting
    files++;
    if (file.path.startsWith(`${EVIDENCE_DIR}/_quarantine/`))
      quarantined += await checkFile(ctx, file.path, Q, f);
    else
      rows += await checkFile(
        ctx,
        file.path,
        { validate: bySchema(EvidenceRecord, 'EvidenceRecord'), idKey: 'evidence_id', ids },
        f,
      );
  }
  return f.outcome(
    `${plural(rows, 'evidence row')} and ${plural(quarantined, 'quarantine row')} in ${n(files)} files valid`,
  );
};

/** scored-schema: data/scored-runs rows are ScoredRuns with unique run ids; quarantine rows QuarantineRecords. */
export const scoredSchema: CheckFn = async (ctx) => {
  const f = new Findings();
  const m = await phaseManifest(ctx.root, SCORED_DIR);
  if (!m.ok) return notBuilt(f, m.error, 'npm run score');
  const ids: IdIndex = new Map();
  let rows = 0;
  let quarantined = 0;
  for (const file of m.value.files) {
    if (!file.path.endsWith('.jsonl')) continue;
    if (file.path === `${SCORED_DIR}/_quarantine.jsonl`) quarantined += await checkFile(ctx, file.path, Q, f);
    else
      rows += await checkFile(
        ctx,
        file.path,
        { validate: bySchema(ScoredRun, 'ScoredRun'), idKey: 'run_id', ids },
        f,
      );
  }
  return f.outcome(`${plural(rows, 'scored run')} and ${plural(quarantined, 'quarantine row')} valid`);
};

/** screened-schema: data/screened runs are ScoredRuns, documents / judgments EvidenceRecords, plus quarantine rows. */
export const screenedSchema: CheckFn = async (ctx) => {
  const f = new Findings();
  const m = await phaseManifest(ctx.root, SCREENED_DIR);
  if (!m.ok) return notBuilt(f, m.error, 'npm run screen');
  const runIds: IdIndex = new Map();
  const evIds: IdIndex = new Map();
  const counts = { runs: 0, evidence: 0, quarantined: 0 };
  for (const file of m.value.files) {
    if (!file.path.endsWith('.jsonl')) continue;
    if (file.path === `${SCREENED_DIR}/_quarantine.jsonl`)
      counts.quarantined += await checkFile(ctx, file.path, Q, f);
    else if (file.path.startsWith(`${SCREENED_DIR}/runs/`))
      counts.runs += await checkFile(
        ctx,
        file.path,
        { validate: bySchema(ScoredRun, 'ScoredRun'), idKey: 'run_id', ids: runIds },
        f,
      );
    else if (file.path.startsWith(`${SCREENED_DIR}/evidence/`))
      counts.evidence += await checkFile(
        ctx,
        file.path,
        { validate: bySchema(EvidenceRecord, 'EvidenceRecord'), idKey: 'evidence_id', ids: evIds },
        f,
      );
    else
      f.add(
        `${file.path}: unexpected file in ${SCREENED_DIR}/ (expected runs/, evidence/ or _quarantine.jsonl)`,
      );
  }
  return f.outcome(
    `${plural(counts.runs, 'run')}, ${plural(counts.evidence, 'document / judgment row')} and ${plural(counts.quarantined, 'quarantine row')} valid`,
  );
};

/** A canonical export family (`<family>/<shard>.jsonl`) and the format files derived from it (`<prefix>/<split>/<shard>.jsonl`). */
interface Canonical {
  file: string;
  schema: z.ZodType;
  what: string;
  formats: readonly string[];
  /** Format folders that hold only some rows (OpenAI DPO: one-text-turn pairs); the rest hold all. */
  holds?: Readonly<Record<string, (row: Record<string, unknown>) => boolean>>;
}

/** The canonical files of each export folder. */
export const CANONICAL: Readonly<Record<string, readonly Canonical[]>> = {
  [EXPORT_DIRS.rag]: [{ file: RAG_FAMILY, schema: RagSample, what: 'RagSample', formats: [] }],
  [EXPORT_DIRS.sft]: [
    { file: SFT_FAMILY, schema: SftSample, what: 'SftSample', formats: ['openai', 'trl', 'hf/data'] },
  ],
  [EXPORT_DIRS.sftPartial]: [
    { file: SFT_FAMILY, schema: SftSample, what: 'SftSample', formats: ['openai', 'trl', 'hf/data'] },
  ],
  [EXPORT_DIRS.preference]: [
    {
      file: PAIR_FAMILY,
      schema: PreferenceSample,
      what: 'PreferenceSample',
      formats: ['openai', 'trl/preference', 'hf/preference'],
      holds: { openai: (r) => openaiDpoRow(r as unknown as PreferenceSample) !== null },
    },
    { file: KTO_FAMILY, schema: KtoSample, what: 'KtoSample', formats: ['trl/kto', 'hf/kto'] },
  ],
};

/** export-schema: canonical rows valid with unique ids; quarantine rows valid; format files are objects matching the canonical split counts and ids. */
export const exportSchema: CheckFn = async (ctx) => {
  const f = new Findings();
  let canonicalRows = 0;
  let formatRows = 0;
  let folders = 0;
  for (const p of ctx.phases.filter((x) => CANONICAL[x.outDir])) {
    const dir = p.outDir;
    const m = await phaseManifest(ctx.root, dir);
    if (!m.ok) {
      notBuilt(f, m.error, `npm run ${p.script}`);
      continue;
    }
    folders++;
    const listed = new Set(m.value.files.map((x) => x.path));
    const covered = new Set<string>();
    for (const c of CANONICAL[dir] as readonly Canonical[]) {
      // one canonical file per shard; each format holds the shard's rows of each split
      const shards = familyFiles(m.value.files, dir, c.file).map((x) => shardOfFile(x.path) as string);
      const ids = new Map(); // ids are unique across the shards of a family
      for (const shard of shards) {
        const rel = `${dir}/${c.file}/${shard}.jsonl`;
        covered.add(rel);
        const bySplit = new Map<string, Set<string>>(SPLITS.map((s) => [s, new Set<string>()]));
        const held = new Map<string, Map<string, Set<string>>>(
          Object.keys(c.holds ?? {}).map((k) => [k, new Map(SPLITS.map((s) => [s, new Set<string>()]))]),
        );
        canonicalRows += await checkFile(
          ctx,
          rel,
          {
            validate: bySchema(c.schema, c.what),
            idKey: 'id',
            ids,
            onRow: (r) => {
              bySplit.get(String(r['split']))?.add(String(r['id']));
              for (const [k, fits] of Object.entries(c.holds ?? {}))
                if (fits(r)) held.get(k)?.get(String(r['split']))?.add(String(r['id']));
            },
          },
          f,
        );
        for (const prefix of c.formats) {
          for (const split of SPLITS) {
            const frel = `${dir}/${prefix}/${split}/${shard}.jsonl`;
            covered.add(frel);
            const want = (held.get(prefix)?.get(split) ?? bySplit.get(split)) as Set<string>;
            if (!listed.has(frel)) {
              f.add(
                `${frel}: missing from ${dir}/_manifest.json (expected the ${n(want.size)} ${split} rows of ${rel}); rebuild with \`npm run ${p.script}\``,
              );
              continue;
            }
            const rows = await checkFile(
              ctx,
              frel,
              {
                validate: (v) =>
                  isObject(v) ??
                  (typeof (v as { id?: unknown }).id === 'string' && !want.has((v as { id: string }).id)
                    ? `id ${(v as { id: string }).id} is not a ${split} row of ${rel}`
                    : null),
              },
              f,
            );
            formatRows += rows;
            if (rows !== want.size)
              f.add(
                `${frel}: ${n(rows)} rows, expected ${n(want.size)} (the ${split} rows of ${rel}); rebuild with \`npm run ${p.script}\``,
              );
          }
        }
      }
    }
    for (const file of m.value.files) {
      if (covered.has(file.path) || !file.path.endsWith('.jsonl')) continue;
      if (file.path.startsWith(`${dir}/_quarantine/`)) await checkFile(ctx, file.path, Q, f);
      else formatRows += await checkFile(ctx, file.path, { validate: isObject }, f);
    }
  }
  return f.outcome(
    `${plural(canonicalRows, 'canonical row')} and ${plural(formatRows, 'format row')} in ${n(folders)} export folders valid`,
  );
};
