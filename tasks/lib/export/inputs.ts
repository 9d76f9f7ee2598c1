import { join } from 'node:path';
import { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { ScoredRun } from '../../../schemas/scored-run.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { jsonlLines } from '../jsonl-read.ts';
import { EVIDENCE_DIR, SCORED_DIR, SCREENED_DIR } from '../layout.ts';
import { Progress } from '../log.ts';
import { readManifest } from '../manifest.ts';
import { UserError } from '../result.ts';

/** A document or judgment evidence row (read by screen from data/evidence, by the exporters from data/screened). */
export type DocumentEvidence = Extract<EvidenceRecord, { kind: 'document' }>;
export type JudgmentEvidence = Extract<EvidenceRecord, { kind: 'judgment' }>;

const byPath = (a: FileEntry, b: FileEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The data files of an upstream manifest (no `_` files such as quarantine), sorted by path. */
async function dataFiles(root: string, dir: string, command: string): Promise<FileEntry[]> {
  const m = await readManifest(root, dir, command);
  return m.files.filter((f) => !f.path.includes('/_')).sort(byPath);
}

/** The scored-run files listed by data/scored-runs/_manifest.json. */
export function scoredRunFiles(root: string): Promise<FileEntry[]> {
  return dataFiles(root, SCORED_DIR, 'npm run score');
}

/** The evidence files listed by data/evidence/_manifest.json. */
export function evidenceFiles(root: string): Promise<FileEntry[]> {
  return dataFiles(root, EVIDENCE_DIR, 'npm run build-evidence');
}

/** Where a set of rows was read from, for error messages: the folder and the command that rebuilds it. */
export interface RowsFrom {
  dir: string;
  command: string;
}
export const SCORED_FROM: RowsFrom = { dir: SCORED_DIR, command: 'npm run score' };
export const EVIDENCE_FROM: RowsFrom = { dir: EVIDENCE_DIR, command: 'npm run build-evidence' };
export const SCREENED_FROM: RowsFrom = { dir: SCREENED_DIR, command: 'npm run screen' };

/** Sub-folders of data/screened: scored runs by day, and the documents and judgments. */
export const SCREENED_RUNS = `${SCREENED_DIR}/runs/`;
export const SCREENED_EVIDENCE = `${SCREENED_DIR}/evidence/`;

/**
 * The inputs of the exports: the screened runs and the screened document / judgment evidence
 * listed by data/screened/_manifest.json, each sorted by path.
 */
export async function screenedFiles(root: string): Promise<{ runs: FileEntry[]; evidence: FileEntry[] }> {
  const files = await dataFiles(root, SCREENED_DIR, SCREENED_FROM.command);
  return {
    runs: files.filter((f) => f.path.startsWith(SCREENED_RUNS)),
    evidence: files.filter((f) => f.path.startsWith(SCREENED_EVIDENCE)),
  };
}

/** One JSONL row of a file this project wrote, with its 0-based line number. */
export interface LocatedRow {
  file: string;
  line: number;
  value: unknown;
}

/** Streams the rows of project-written JSONL files with their file and 0-based line. */
export async function* readLocated(root: string, files: readonly string[]): AsyncGenerator<LocatedRow> {
  for (const file of files)
    for await (const { text, line } of jsonlLines(join(root, file)))
      yield { file, line, value: JSON.parse(text) };
}

/**
 * Reads and validates every scored run, sorted by run_id (the exports need a global view to pair
 * and sort; memory is bounded by the number of runs). A row that fails the schema, or a run_id seen
 * twice, means data/scored-runs is damaged: that is the user's to fix, not a row to drop.
 */
export async function readScoredRuns(
  root: string,
  files: readonly FileEntry[],
  from: RowsFrom = SCORED_FROM,
): Promise<ScoredRun[]> {
  const runs = new Map<string, ScoredRun>();
  const progress = new Progress(
    'reading scored runs',
    files.reduce((s, f) => s + (f.rows ?? 0), 0),
  );
  for await (const row of readLocated(
    root,
    files.map((f) => f.path),
  )) {
    progress.tick();
    const res = ScoredRun.safeParse(row.value);
    if (!res.success) {
      const is = res.error.issues[0];
      throw new UserError(
        `${row.file}:${row.line + 1}: not a valid ScoredRun ($.${is?.path.join('.')}: ${is?.message}); rebuild with \`${from.command}\``,
      );
    }
    if (runs.has(res.data.run_id))
      throw new UserError(
        `${row.file}:${row.line + 1}: run_id ${res.data.run_id} appears twice in ${from.dir}; rebuild with \`${from.command}\``,
      );
    runs.set(res.data.run_id, res.data);
  }
  progress.end();
  return [...runs.keys()].sort().map((k) => runs.get(k) as ScoredRun);
}

/** Reads the document and judgment evidence rows (validated), each list sorted by evidence_id. */
export async function readPassthroughEvidence(
  root: string,
  files: readonly FileEntry[],
  from: RowsFrom = EVIDENCE_FROM,
): Promise<{ documents: DocumentEvidence[]; judgments: JudgmentEvidence[] }> {
  const documents: DocumentEvidence[] = [];
  const judgments: JudgmentEvidence[] = [];
  const progress = new Progress(
    'reading evidence',
    files.reduce((s, f) => s + (f.rows ?? 0), 0),
  );
  for await (const row of readLocated(
    root,
    files.map((f) => f.path),
  )) {
    progress.tick();
    const kind = (row.value as { kind?: unknown }).kind;
    if (kind !== 'document' && kind !== 'judgment') continue;
    const res = EvidenceRecord.safeParse(row.value);
    if (!res.success) {
      const is = res.error.issues[0];
      throw new UserError(
        `${row.file}:${row.line + 1}: not a valid EvidenceRecord ($.${is?.path.join('.')}: ${is?.message}); rebuild with \`${from.command}\``,
      );
    }
    if (res.data.kind === 'document') documents.push(res.data);
    else if (res.data.kind === 'judgment') judgments.push(res.data);
  }
  progress.end();
  const byId = (a: { evidence_id: string }, b: { evidence_id: string }): number =>
    a.evidence_id < b.evidence_id ? -1 : a.evidence_id > b.evidence_id ? 1 : 0;
  return { documents: documents.sort(byId), judgments: judgments.sort(byId) };
}
