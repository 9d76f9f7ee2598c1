import type { FileSample } from './detect.ts';
import { parseRow } from '../lib/json-check.ts';
import {
  openSource,
  readArrayElements,
  readDocument,
  readHead,
  readLines,
  sniffRefusal,
  type OpenedSource,
} from '../lib/source-reader.ts';
import { UserError } from '../lib/result.ts';

/** How many rows (lines / elements) detection looks at. */
export const SAMPLE_ROWS = 20;
/** A one-document file larger than this is not read whole for detection. */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

/** The first non-whitespace byte after an optional BOM, or null for a blank file. */
async function firstByte(src: OpenedSource): Promise<number | null> {
  const head = await readHead(src, 64 * 1024);
  const n = head.length;
  let i = n >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < n && [0x20, 0x09, 0x0a, 0x0d].includes(head[i] as number)) i++;
  return i < n ? (head[i] as number) : null;
}

/**
 * Reads the start of a file for format detection: the first SAMPLE_ROWS lines of a JSONL file or
 * elements of a JSON array, or the whole of a one-document file. Rows that do not parse are left
 * out (the note says how many); nothing is written anywhere.
 */
export async function sampleFile(
  abs: string,
  limits: { maxLineBytes: number; maxDepth: number },
): Promise<FileSample> {
  const none = (kind: FileSample['kind'], note: string): FileSample => ({
    kind,
    rows: [],
    oneDocument: false,
    note,
  });
  let opened: Awaited<ReturnType<typeof openSource>>;
  try {
    opened = await openSource(abs);
  } catch (e) {
    return none('unreadable', `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!opened.ok) return none('unreadable', `${opened.refusal.reason}: ${opened.refusal.detail}`);
  const src = opened.src;
  try {
    return await sampleOpened(src, limits, none);
  } catch (e) {
    // damaged gzip data, or a file that changed while it was sampled
    if (e instanceof UserError) return none('unreadable', e.message);
    throw e;
  } finally {
    await src.fh.close();
  }
}

async function sampleOpened(
  src: OpenedSource,
  limits: { maxLineBytes: number; maxDepth: number },
  none: (kind: FileSample['kind'], note: string) => FileSample,
): Promise<FileSample> {
  {
    const refusal = await sniffRefusal(src);
    if (refusal) return none('unreadable', `${refusal.reason}: ${refusal.detail}`);
    const first = await firstByte(src);
    if (first === null)
      return none('empty', src.size === 0 ? 'the file is empty' : 'the file holds only whitespace');
    const parse = (text: string | null): Record<string, unknown> | null => {
      if (text === null) return null;
      const p = parseRow(text, { maxDepth: limits.maxDepth });
      return p.ok ? p.value : null;
    };
    if (first === 0x5b) {
      const rows: Record<string, unknown>[] = [];
      let seen = 0;
      for await (const item of readArrayElements(src, limits.maxLineBytes)) {
        if (!('index' in item)) return none('not-json', `${item.reason}: ${item.detail}`);
        seen++;
        const row = parse(item.text);
        if (row) rows.push(row);
        if (seen >= SAMPLE_ROWS) break;
      }
      return {
        kind: 'array',
        rows,
        oneDocument: false,
        note: `${rows.length} of the first ${seen} array elements parse as JSON objects`,
      };
    }
    if (first !== 0x7b) {
      return none(
        'not-json',
        `starts with ${JSON.stringify(String.fromCharCode(first))}, not "{" or "[": not JSON lines, a JSON array or a JSON document`,
      );
    }
    const rows: Record<string, unknown>[] = [];
    let lines = 0;
    let firstParses = false;
    let firstIssue = '';
    let done = true;
    for await (const unit of readLines(src, limits.maxLineBytes)) {
      if (unit.issue?.reason === 'BLANK_LINE') continue;
      lines++;
      if (lines > SAMPLE_ROWS) {
        done = false;
        break;
      }
      const p = unit.text === null ? null : parseRow(unit.text, { maxDepth: limits.maxDepth });
      if (lines === 1) {
        firstParses = p?.ok === true;
        firstIssue = unit.issue
          ? `${unit.issue.reason}: ${unit.issue.detail}`
          : p && !p.ok
            ? `${p.drop.reason}: ${p.drop.detail}`
            : '';
      }
      if (p?.ok) rows.push(p.value);
    }
    if (firstParses)
      return {
        kind: 'lines',
        rows,
        oneDocument: done && lines === 1,
        note: `${rows.length} of the first ${Math.min(lines, SAMPLE_ROWS)} lines parse as JSON objects`,
      };
    // the first line is not a whole JSON value: a pretty-printed document?
    for await (const unit of readDocument(src, MAX_DOCUMENT_BYTES)) {
      const row = parse(unit.text);
      if (row) return { kind: 'document', rows: [row], oneDocument: true, note: 'one JSON document' };
      // JSONL whose first line is torn: the rows after it decide (one bad row never stops a build)
      if (rows.length > 0)
        return {
          kind: 'lines',
          rows,
          oneDocument: false,
          note: `${rows.length} of the first ${Math.min(lines, SAMPLE_ROWS)} lines parse as JSON objects (the first does not: ${firstIssue})`,
        };
      return none(
        'not-json',
        `the first line does not parse (${firstIssue}) and the whole file is not one JSON object either`,
      );
    }
    return none('not-json', 'no content');
  }
}
