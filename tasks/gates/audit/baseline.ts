import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256 } from '../../lib/hash.ts';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import { UserError } from '../../lib/result.ts';

/** The append-only audit baseline and its head, relative to the project root. */
export const BASELINE_FILE = 'data/_kb/audit_baselines.jsonl';
export const BASELINE_HEAD = 'data/_kb/audit_baselines.head.json';
const GENESIS = '0'.repeat(64);

/** One chained row: `prev` is the sha256 of the previous row's line (without its newline). */
export interface BaselineRow<E = Record<string, unknown>> {
  seq: number;
  prev: string;
  entry: E;
}

/** The head: how long the file was and what it hashed to after the last append. */
export interface BaselineHead {
  seq: number;
  bytes: number;
  sha256: string;
}

/** What verification found. `recoveredTail` is set when a torn partial last line was cut off. */
export interface BaselineState<E> {
  rows: BaselineRow<E>[];
  bytes: number;
  recoveredTail: number | null;
  /** The last row's exact line, which the next row's `prev` hashes. */
  lastLine: string | null;
}

/**
 * Reads and verifies the baseline: the file only grew since the head was written (its first
 * head.bytes bytes still hash to head.sha256), and every row chains to the one before. The only
 * damage it repairs is a torn partial last line (a crash during append), which it cuts off.
 * Anything else is AUDIT_CHAIN_BROKEN: a hard stop that never recreates the file.
 */
export async function readBaseline<E>(root: string): Promise<BaselineState<E>> {
  const path = join(root, BASELINE_FILE);
  const headPath = join(root, BASELINE_HEAD);
  const buf = await fsp.readFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  const headText = await fsp.readFile(headPath, 'utf8').catch(() => null);
  const head = headText === null ? null : (JSON.parse(headText) as BaselineHead);
  if (buf === null) {
    if (head && head.seq > 0)
      throw broken(
        `${BASELINE_FILE} is missing but ${BASELINE_HEAD} records ${head.seq} rows: the baseline was deleted`,
      );
    return { rows: [], bytes: 0, recoveredTail: null, lastLine: null };
  }
  let data = buf;
  let recoveredTail: number | null = null;
  if (data.length > 0 && data[data.length - 1] !== 0x0a) {
    const lastNl = data.lastIndexOf(0x0a);
    const keep = lastNl + 1;
    if (head && keep < head.bytes)
      throw broken(`${BASELINE_FILE} ends in a partial row inside the recorded length: it was truncated`);
    recoveredTail = data.length - keep;
    data = data.subarray(0, keep);
  }
  if (head) {
    if (data.length < head.bytes)
      throw broken(
        `${BASELINE_FILE} is ${data.length} bytes but ${head.bytes} were recorded after row ${head.seq}: it was truncated`,
      );
    if (sha256(data.subarray(0, head.bytes)) !== head.sha256)
      throw broken(
        `the first ${head.bytes} bytes of ${BASELINE_FILE} (rows 1–${head.seq}) no longer hash to the recorded value: a row was edited`,
      );
  }
  const lines = data.toString('utf8').split('\n');
  lines.pop();
  const rows: BaselineRow<E>[] = [];
  let prev = GENESIS;
  lines.forEach((line, i) => {
    let row: BaselineRow<E>;
    try {
      row = JSON.parse(line) as BaselineRow<E>;
    } catch {
      throw broken(`row ${i + 1} of ${BASELINE_FILE} is not JSON: it was edited`);
    }
    if (row.seq !== i + 1)
      throw broken(`row ${i + 1} of ${BASELINE_FILE} has seq ${row.seq}: a row was removed or reordered`);
    if (row.prev !== prev)
      throw broken(
        `row ${i + 1} of ${BASELINE_FILE} does not chain to row ${i}: row ${i} was edited or removed`,
      );
    prev = sha256(line);
    rows.push(row);
  });
  if (head && rows.length < head.seq)
    throw broken(`${BASELINE_FILE} has ${rows.length} rows but ${head.seq} were recorded`);
  if (recoveredTail !== null) await fsp.truncate(path, data.length);
  return { rows, bytes: data.length, recoveredTail, lastLine: lines.at(-1) ?? null };
}

function broken(msg: string): UserError {
  return new UserError(
    'AUDIT_CHAIN_BROKEN',
    `AUDIT_CHAIN_BROKEN: ${msg}. Restore data/_kb/audit_baselines.jsonl and its head from git (git checkout -- data/_kb/audit_baselines.jsonl data/_kb/audit_baselines.head.json) — never recreate it.`,
  );
}

/** Appends one chained row (O_APPEND + datasync), then records the new head atomically. */
export async function appendBaseline<E>(root: string, entry: E): Promise<BaselineRow<E>> {
  const state = await readBaseline<E>(root);
  const path = join(root, BASELINE_FILE);
  const row: BaselineRow<E> = {
    seq: state.rows.length + 1,
    prev: state.lastLine !== null ? sha256(state.lastLine) : GENESIS,
    entry,
  };
  const line = JSON.stringify(row);
  await fsp.mkdir(dirname(path), { recursive: true });
  const fh = await fsp.open(path, 'a');
  try {
    await fh.write(`${line}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  const all = await fsp.readFile(path);
  await writeFileAtomic(
    join(root, BASELINE_HEAD),
    `${JSON.stringify({ seq: row.seq, bytes: all.length, sha256: sha256(all) } satisfies BaselineHead)}\n`,
  );
  return row;
}
