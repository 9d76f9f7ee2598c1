import {
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
/**
 * Test hooks for crash and I/O-fault injection (RELIABILITY.md T4, T6). Both are inert unless
 * their environment variable is set, and cost one Map lookup per durability point.
 *
 * DISTILL_CRASH_AT=<point>:<n>  SIGKILL this process at the n-th time `point` is reached
 *                               (`any` counts every point; `queue:<phase>:job` is a `distill
 *                               worker` in the middle of a job, its result computed, not written).
 * DISTILL_FAULT=<op>:<n>:<code> make the n-th `op` (write | fsync | rename | read) of a command
 *                               fail with errno `code` (ENOSPC, EIO, EACCES, ...); `read` is the
 *                               opening of a source file for reading. Read at each call.
 * DISTILL_PAUSE_AT=<point>:<ms>  sleep `ms` milliseconds the first time `point` is reached (only the
 *                               points that call `pausePoint`: `publish:staged`, a phase's whole
 *                               output staged, just before its publish; `queue:<phase>:job`, a
 *                               worker's job computed, its result not written), so a test can stop a
 *                               run while a phase is surely running.
 */
const crashSpec = parse(process.env['DISTILL_CRASH_AT']);
const pauseSpec = parse(process.env['DISTILL_PAUSE_AT']);
let paused = false;
const counts = new Map<string, number>();

function parse(v: string | undefined): { point: string; n: number } | null {
  if (!v) return null;
  const i = v.lastIndexOf(':');
  const n = Number(v.slice(i + 1));
  return i > 0 && Number.isInteger(n) && n > 0 ? { point: v.slice(0, i), n } : null;
}

function parseFault(v: string | undefined): { op: string; n: number; code: string } | null {
  if (!v) return null;
  const [op, n, code] = v.split(':');
  return op && n && code ? { op, n: Number(n), code } : null;
}

function bump(key: string): number {
  const c = (counts.get(key) ?? 0) + 1;
  counts.set(key, c);
  return c;
}

/** A durability point: where a crash must leave the previous good outputs in place. */
export function crashPoint(point: string): void {
  if (!crashSpec) return;
  const c = bump(`crash:${crashSpec.point === 'any' ? 'any' : point}`);
  if ((crashSpec.point === 'any' || crashSpec.point === point) && c === crashSpec.n) {
    process.stderr.write(`DISTILL_CRASH_AT: killing at ${point} #${c}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

/** The DISTILL_FAULT setting the fault count belongs to (read at each call, so a test can set it in-process). */
let faultSeen: string | null = null;

/** Called before each write / fsync / rename / source read; throws an injected errno error when configured. */
export function maybeFault(op: 'write' | 'fsync' | 'rename' | 'read'): void {
  const spec = process.env['DISTILL_FAULT'];
  if (!spec) return;
  const faultSpec = parseFault(spec);
  if (!faultSpec || faultSpec.op !== op) return;
  if (faultSeen !== spec) {
    // another setting: count from zero
    faultSeen = spec;
    counts.delete(`fault:${op}`);
  }
  if (bump(`fault:${op}`) === faultSpec.n) {
    const e = new Error(
      `${faultSpec.code}: injected fault on ${op} (DISTILL_FAULT)`,
    ) as NodeJS.ErrnoException;
    e.code = faultSpec.code;
    throw e;
  }
}

/**
 * Starts the DISTILL_FAULT and DISTILL_SOURCE_CHANGE counts from zero, as a new process does: the
 * CLI's `main` calls it before each command, so a command run in-process (the tests) counts its
 * own operations only.
 */
export function resetFaultCounts(): void {
  faultSeen = null;
  for (const k of [...counts.keys()]) if (k.startsWith('fault:')) counts.delete(k);
  sourceChangeSeen = null;
}

/** A pause point (DISTILL_PAUSE_AT): sleeps there once when configured, announcing it on stderr. */
export async function pausePoint(point: string): Promise<void> {
  if (!pauseSpec || paused || pauseSpec.point !== point) return;
  paused = true;
  process.stderr.write(`DISTILL_PAUSE_AT: pausing at ${point} for ${pauseSpec.n} ms (pid ${process.pid})\n`);
  await new Promise((resolve) => setTimeout(resolve, pauseSpec.n));
}

/**
 * DISTILL_SOURCE_CHANGE=<action>:<n>  test hook: right after the n-th chunk a source reader took
 * from a file (counted per setting, in this process), change that file under the reader:
 * `truncate` cuts it to half its size, `replace` renames a copy of it over its path, `rewrite`
 * overwrites its first byte in place (same size). Read at each call, so a test can set it in-process.
 */
let sourceChangeSeen: { spec: string; count: number } | null = null;
export function sourceReadHook(path: string, _chunk: number): void {
  const spec = process.env['DISTILL_SOURCE_CHANGE'];
  if (!spec) {
    sourceChangeSeen = null;
    return;
  }
  if (sourceChangeSeen?.spec !== spec) sourceChangeSeen = { spec, count: 0 };
  const [action, n] = spec.split(':');
  if (++sourceChangeSeen.count !== Number(n)) return;
  const size = statSync(path).size;
  if (action === 'truncate') truncateSync(path, Math.floor(size / 2));
  else if (action === 'replace') {
    writeFileSync(`${path}.distill-replace`, readFileSync(path));
    renameSync(`${path}.distill-replace`, path);
  } else if (action === 'rewrite') {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from(' '), 0, 1, 0);
    closeSync(fd);
  }
}
