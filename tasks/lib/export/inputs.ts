import { join } from 'node:path';
import { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { jsonlLines } from '../jsonl-read.ts';

/** A document or judgment evidence row (read by screen from data/evidence, by the exporters from data/screened). */
export type DocumentEvidence = Extract<EvidenceRecord, { kind: 'document' }>;
export type JudgmentEvidence = Extract<EvidenceRecord, { kind: 'judgment' }>;

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
