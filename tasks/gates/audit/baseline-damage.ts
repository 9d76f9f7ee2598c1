import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { BASELINE_FILE, BASELINE_HEAD, type BaselineHead } from './baseline.ts';
import { sha256 } from '../../lib/hash.ts';

const GENESIS = '0'.repeat(64);

/**
 * Pure core: which row of a damaged baseline to look at. readBaseline (tasks/gates/audit/baseline.ts)
 * says that the recorded bytes no longer match; this walks the chain to name the row: the first
 * row whose `seq` or `prev` is wrong follows the row that was edited or removed; with an intact
 * chain, rows missing against the head were cut off, and otherwise the edit is in the last
 * recorded row (editing any earlier row would break the next row's `prev`).
 */
export function locateDamage(text: string, head: BaselineHead | null): string | null {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let prev = GENESIS;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    let row: { seq?: unknown; prev?: unknown };
    try {
      row = JSON.parse(line) as typeof row;
    } catch {
      return `row ${i + 1} is not JSON: it was edited`;
    }
    if (row.seq !== i + 1)
      return `row ${i + 1} has seq ${String(row.seq)}: a row before it was removed, or rows were reordered`;
    if (row.prev !== prev)
      return i === 0
        ? 'row 1 does not start the chain: it was edited'
        : `row ${i} was edited or removed (row ${i + 1} no longer chains to it)`;
    prev = sha256(line);
  }
  if (head && lines.length < head.seq)
    return `${lines.length + 1 === head.seq ? `row ${head.seq} is` : `rows ${lines.length + 1}–${head.seq} are`} missing: the file was truncated`;
  if (head && lines.length >= head.seq && head.seq > 0)
    return `row ${head.seq} was edited (the chain before it is intact)`;
  return null;
}

/** The damage diagnosis for the baseline on disk, or null when it cannot say more. */
export async function diagnoseBaseline(root: string): Promise<string | null> {
  const text = await fsp.readFile(join(root, BASELINE_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  const headText = await fsp.readFile(join(root, BASELINE_HEAD), 'utf8').catch(() => null);
  let head: BaselineHead | null = null;
  try {
    head = headText === null ? null : (JSON.parse(headText) as BaselineHead);
  } catch {
    head = null;
  }
  return locateDamage(text, head);
}
