import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { dirname, join } from 'node:path';
import { sha256 } from '../../lib/hash.ts';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import { UserError } from '../../lib/result.ts';
import { committedFile } from '../release/git.ts';

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
  /** Rows committed at git HEAD that the file still starts with (0 outside git or when not committed). */
  committedRows: number;
  /** True when there are no rows (no file, or an empty one) and git HEAD holds none: the next append starts row 1. */
  fresh: boolean;
}

const HeadSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** An AUDIT_CHAIN_BROKEN error that already says where the damage is (audit-full adds no `Where:`). */
export class ChainBroken extends UserError {
  constructor(
    message: string,
    readonly located: boolean,
  ) {
    super('AUDIT_CHAIN_BROKEN', message);
  }
}

/** The bytes git HEAD holds for `rel` (relative to root), or null outside git / when not committed or empty. */
function committed(root: string, rel: string): Buffer | null {
  const b = committedFile(root, rel);
  return b !== null && b.length > 0 ? b : null;
}

/** A file's bytes, null when it does not exist; any other read error is a broken chain. */
async function readOrNull(path: string, rel: string, committedAtHead: boolean): Promise<Buffer | null> {
  try {
    return await fsp.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw broken(`${rel} cannot be read (${code ?? (e as Error).message})`, committedAtHead);
  }
}

/** Counts the committed rows and names the first one the file no longer starts with. */
function committedMismatch(data: Buffer, head: Buffer): string | null {
  if (data.length >= head.length && data.subarray(0, head.length).equals(head)) return null;
  const was = head.toString('utf8').split('\n');
  if (was.at(-1) === '') was.pop();
  const now = data.toString('utf8').split('\n');
  if (now.at(-1) === '') now.pop();
  const i = was.findIndex((line, k) => now[k] !== line);
  const at = i < 0 ? was.length : i + 1;
  return now.length < at
    ? `${BASELINE_FILE} has ${now.length} rows but ${was.length} are committed at git HEAD: rows ${now.length + 1}–${was.length} were removed`
    : `row ${at} of ${BASELINE_FILE} differs from the row ${at} committed at git HEAD (git show HEAD:${BASELINE_FILE}): it was edited after it was committed, and the head file rewritten to match`;
}

/**
 * Reads and verifies the baseline: the file only grew since the head was written (its first
 * head.bytes bytes still hash to head.sha256), every row chains to the one before, and, in a git
 * checkout, the file still starts with the baseline committed at HEAD (the anchor that a writer
 * of data/ alone cannot rewrite). The only damage it repairs is a torn partial last line (a crash
 * during append), which it cuts off. Anything else is AUDIT_CHAIN_BROKEN with the recovery
 * command: a hard stop that never recreates the file. Both files absent is a new baseline only
 * when git HEAD holds none either (`fresh`: audit-full says so).
 */
export async function readBaseline<E>(root: string): Promise<BaselineState<E>> {
  const path = join(root, BASELINE_FILE);
  const headPath = join(root, BASELINE_HEAD);
  const anchor = committed(root, BASELINE_FILE);
  const anchored = anchor !== null;
  const headAnchored = (): boolean => anchored && committed(root, BASELINE_HEAD) !== null;
  const buf = await readOrNull(path, BASELINE_FILE, anchored);
  const headBuf = await readOrNull(headPath, BASELINE_HEAD, anchored);
  let head: BaselineHead | null = null;
  if (headBuf !== null) {
    let raw: unknown;
    try {
      raw = JSON.parse(headBuf.toString('utf8'));
    } catch (e) {
      throw broken(
        `${BASELINE_HEAD} is not valid JSON (${(e as Error).message}): it was damaged or edited`,
        headAnchored(),
        true,
      );
    }
    const res = HeadSchema.safeParse(raw);
    if (!res.success)
      throw broken(
        `${BASELINE_HEAD} does not hold {"seq", "bytes", "sha256"} (at $.${res.error.issues[0]?.path.join('.') ?? ''}): it was damaged or edited`,
        headAnchored(),
        true,
      );
    head = res.data;
  }
  if (buf === null) {
    if (head && head.seq > 0)
      throw broken(
        `${BASELINE_FILE} is missing but ${BASELINE_HEAD} records ${head.seq} rows: the baseline was deleted`,
        anchored,
      );
    if (anchor !== null)
      throw broken(
        `${BASELINE_FILE} is missing${head ? '' : ` and so is ${BASELINE_HEAD}`}, but git HEAD holds ${lineCount(anchor)} committed rows of it: the baseline was deleted`,
        anchored,
      );
    return { rows: [], bytes: 0, recoveredTail: null, lastLine: null, committedRows: 0, fresh: true };
  }
  let data = buf;
  let recoveredTail: number | null = null;
  if (data.length > 0 && data[data.length - 1] !== 0x0a) {
    const lastNl = data.lastIndexOf(0x0a);
    const keep = lastNl + 1;
    if (head && keep < head.bytes)
      throw broken(
        `${BASELINE_FILE} ends in a partial row inside the recorded length: it was truncated`,
        anchored,
      );
    recoveredTail = data.length - keep;
    data = data.subarray(0, keep);
  }
  if (head) {
    if (data.length < head.bytes)
      throw broken(
        `${BASELINE_FILE} is ${data.length} bytes but ${head.bytes} were recorded after row ${head.seq}: it was truncated`,
        anchored,
      );
    if (sha256(data.subarray(0, head.bytes)) !== head.sha256)
      throw broken(
        `the first ${head.bytes} bytes of ${BASELINE_FILE} (rows 1–${head.seq}) no longer hash to the recorded value: a row was edited`,
        anchored,
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
      throw broken(`row ${i + 1} of ${BASELINE_FILE} is not JSON: it was edited`, anchored);
    }
    if (row === null || typeof row !== 'object' || row.seq !== i + 1)
      throw broken(
        `row ${i + 1} of ${BASELINE_FILE} has seq ${String((row as { seq?: unknown } | null)?.seq)}: a row was removed or reordered`,
        anchored,
      );
    if (row.prev !== prev)
      throw broken(
        `row ${i + 1} of ${BASELINE_FILE} does not chain to row ${i}: row ${i} was edited or removed`,
        anchored,
      );
    prev = sha256(line);
    rows.push(row);
  });
  if (head && rows.length < head.seq)
    throw broken(`${BASELINE_FILE} has ${rows.length} rows but ${head.seq} were recorded`, anchored);
  if (!head && rows.length > 0)
    throw broken(
      `${BASELINE_HEAD} is missing while ${BASELINE_FILE} holds ${rows.length} rows: nothing vouches for the last rows`,
      headAnchored(),
      true,
    );
  let committedRows = 0;
  if (anchor !== null) {
    const mismatch = committedMismatch(data, anchor);
    if (mismatch !== null) throw broken(mismatch, anchored, false, true);
    committedRows = lineCount(anchor);
  }
  if (recoveredTail !== null) await fsp.truncate(path, data.length);
  return {
    rows,
    bytes: data.length,
    recoveredTail,
    lastLine: lines.at(-1) ?? null,
    committedRows,
    fresh: rows.length === 0,
  };
}

const lineCount = (b: Buffer): number =>
  b
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '').length;

/** The recovery command for a broken baseline (docs/recovery-runbook.md, "AUDIT_CHAIN_BROKEN"). */
export function recoveryCommand(anchored: boolean, headOnly = false): string {
  if (anchored && headOnly)
    return `Recover: restore the head from git with \`git checkout -- ${BASELINE_HEAD}\` (the committed head still vouches for the committed rows; rows appended since are kept), then rerun \`npm run audit-full\``;
  if (anchored)
    return `Recover: restore both files from git with \`git checkout -- ${BASELINE_FILE} ${BASELINE_HEAD}\` (rows appended since the last commit are lost; the next audit appends a new one), then rerun \`npm run audit-full\`; never delete or recreate the baseline. If nobody here changed it, treat it as tampering (docs/recovery-runbook.md, "AUDIT_CHAIN_BROKEN")`;
  return `Recover: no committed copy exists (the baseline is not in git at HEAD, or this is not a git checkout), so nothing can vouch for it: move both files aside for investigation with \`mv ${BASELINE_FILE} ${BASELINE_FILE}.damaged; mv ${BASELINE_HEAD} ${BASELINE_HEAD}.damaged\`, rerun \`npm run audit-full\` to start a new baseline at row 1, and commit it (\`git add ${BASELINE_FILE} ${BASELINE_HEAD}\`) so that it is anchored (docs/recovery-runbook.md, "AUDIT_CHAIN_BROKEN")`;
}

function broken(msg: string, anchored: boolean, headOnly = false, located = false): ChainBroken {
  return new ChainBroken(`AUDIT_CHAIN_BROKEN: ${msg}. ${recoveryCommand(anchored, headOnly)}.`, located);
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
