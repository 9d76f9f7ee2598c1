import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { UserError } from '../lib/result.ts';
import { sidecarOf } from '../lib/export/shards.ts';

/**
 * `distill trace` accepts a row by where it sits as well as by its id: `<export file>:<line>`
 * (1-based). A row that carries an `id` (canonical files, TRL and HF rows) names itself; a format
 * that allows no extra key (OpenAI) has an id sidecar beside its split file,
 * `<split>.ids.jsonl`, whose line n is `{"line": n, "id": ...}`. Reads one small file; the
 * export files are bounded by what an export writes.
 */

/** True when the argument looks like `<file>.jsonl:<line>` rather than a row id. */
export function isRowLocator(arg: string): boolean {
  return /\.jsonl:\d+$/.test(arg);
}

function lineOf(path: string, n: number, label: string): string {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const text = lines[n - 1];
  if (text === undefined) throw new UserError('NOT_FOUND', `${label} has ${lines.length} rows, no line ${n}`);
  return text;
}

/** One export row: a line that is not a JSON object is a damaged export (coded error, no stack). */
function parseRow(text: string, at: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${at} is not valid JSON (${(e as Error).message}); rebuild the export (npm run export-all)`,
    );
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${at} is not a JSON object; rebuild the export (npm run export-all)`,
    );
  return v;
}

/** The id of the row at `<file>:<line>` (file relative to the project root, or absolute). */
export function idAt(root: string, locator: string): string {
  const m = /^(.*\.jsonl):(\d+)$/.exec(locator);
  if (!m) throw new UserError('USAGE', `"${locator}" is not <file>.jsonl:<line>`);
  const file = m[1] as string;
  const n = Number(m[2]);
  if (n < 1) throw new UserError('USAGE', `${locator}: lines are numbered from 1`);
  const abs = isAbsolute(file) ? file : join(root, file);
  const rel = relative(root, abs).split('\\').join('/');
  if (!existsSync(abs))
    throw new UserError('NOTHING_BUILT', `${rel} does not exist; is the export built (npm run export-all)?`);
  const row = parseRow(lineOf(abs, n, rel), `${rel}:${n}`) as { id?: unknown };
  if (typeof row.id === 'string') return row.id;
  // openai/<split>/<shard>.jsonl → openai/ids/<split>/<shard>.jsonl (lib/export/shards.ts)
  const side = sidecarOf(rel);
  const sidecar = side === null ? abs.replace(/\.jsonl$/, '.ids.jsonl') : join(root, side);
  if (!existsSync(sidecar))
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${rel}:${n} has no id field and ${relative(root, sidecar)} (its id sidecar) does not exist`,
    );
  const entry = parseRow(lineOf(sidecar, n, relative(root, sidecar)), `${relative(root, sidecar)}:${n}`) as {
    line?: unknown;
    id?: unknown;
  };
  if (entry.line !== n || typeof entry.id !== 'string')
    throw new UserError(
      'UPSTREAM_DAMAGED',
      `${relative(root, sidecar)}:${n} does not map line ${n} to an id; rebuild the export`,
    );
  return entry.id;
}
