/** A value or a typed failure. Exceptions are for bugs; expected failures are values. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** Exhaustiveness check for switch statements over unions. */
export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

/** A reason a row was dropped (a member of its phase's closed reason list), with a human-readable detail. */
export interface Drop<R extends string = string> {
  reason: R;
  detail: string;
  ref?: string | null;
}

/**
 * Every code a user-facing error can carry, with its exit code and what it means. `distill --help`
 * and docs/recovery-runbook.md print this table; an error outside it does not compile.
 * Exit codes: 1 a check found a problem, 2 the input or the invocation is wrong (fix and rerun),
 * 3 the audit baseline is damaged, 74 an I/O error (disk full, device), 75 another run holds the lock,
 * 130 stopped (a signal, or the build that started it is gone).
 */
export const ERROR_CODES = {
  USAGE: { exit: 2, meaning: 'bad command-line arguments' },
  NO_PROJECT: { exit: 2, meaning: 'no distill.config.json here or above (pass --root DIR)' },
  CONFIG_INVALID: { exit: 2, meaning: 'distill.config.json, package.json or a setting is invalid' },
  NO_SOURCES: { exit: 2, meaning: 'a configured source (or every one) matches no file' },
  FORMAT_UNKNOWN: { exit: 2, meaning: 'no adapter recognises a source file ("adapter": "auto")' },
  SOURCE_UNREADABLE: { exit: 2, meaning: 'a source file cannot be read' },
  SOURCE_TRUNCATED: { exit: 2, meaning: 'a source shrank or changed since the last build' },
  SOURCE_CHANGED: { exit: 2, meaning: 'a source file changed while it was read' },
  SOURCE_MISSING: { exit: 2, meaning: 'a source file the last build read is gone or no longer matched' },
  SOURCE_REFUSED: { exit: 2, meaning: 'a source file is refused whole (binary, encoding, not JSON, ...)' },
  INPUT_UNREADABLE: { exit: 2, meaning: 'a file named on the command line cannot be read' },
  UPSTREAM_MISSING: { exit: 2, meaning: 'an upstream phase has not been built' },
  UPSTREAM_DAMAGED: { exit: 2, meaning: "an upstream phase's output does not match its manifest or schema" },
  UPSTREAM_EMPTY: { exit: 2, meaning: 'an upstream output holds nothing to work on' },
  LIMIT_EXCEEDED: { exit: 2, meaning: 'an input is beyond a built-in limit' },
  FIXTURE_INVALID: { exit: 2, meaning: 'the acceptance fixture is missing or invalid' },
  OUTPUT_EXISTS: { exit: 2, meaning: 'the output folder already holds files (pass --force)' },
  NOTHING_BUILT: { exit: 2, meaning: 'nothing has been built yet to check or show' },
  NO_SUCH_RUN: { exit: 2, meaning: 'the run id asked for does not exist' },
  NOT_FOUND: { exit: 1, meaning: 'the export row asked for does not exist' },
  SECRET_IN_EXPORT: {
    exit: 1,
    meaning: "the exports' second secret engine found a secret: nothing was published",
  },
  QUEUE_JOB_FAILED: {
    exit: 1,
    meaning: 'a queue job failed its attempts (DISTILL_QUEUE): nothing was published',
  },
  AUDIT_CHAIN_BROKEN: { exit: 3, meaning: 'the audit baseline was truncated, edited or lost its head' },
  IO_ERROR: { exit: 74, meaning: 'the disk or device failed (ENOSPC, EIO, ...): nothing was published' },
  QUEUE_UNREACHABLE: {
    exit: 74,
    meaning: "the job queue's Redis (DISTILL_QUEUE) is unreachable: nothing was published",
  },
  LOCKED: { exit: 75, meaning: 'another run holds the phase lock, or another build is running' },
  STOPPED: {
    exit: 130,
    meaning: 'stopped by a signal, or the build that started it is gone: nothing was published',
  },
} as const satisfies Record<string, { exit: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error a user can act on: printed without a stack, exits with its code's exit code. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
    this.exitCode = ERROR_CODES[code].exit;
  }
}

/** A UserError as printed: its message, then its code unless the message already names it (`CODE: …`). */
export function describeUserError(e: UserError): string {
  return e.message.includes(`${e.code}:`) ? e.message : `${e.message} [${e.code}]`;
}

/** Exit code of a run stopped by an I/O error such as ENOSPC or EIO (EX_IOERR). */
export const IO_ERROR_EXIT = ERROR_CODES.IO_ERROR.exit;

/** errno codes that mean the environment failed (disk full, device error, permissions), not the code. */
const IO_ERRORS = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'EFBIG',
  'EMFILE',
  'ENFILE',
  'EACCES',
  'EPERM',
]);

/** True for an error of the environment (disk full, device error, permissions), not of the code. */
export function isIoError(e: unknown): e is NodeJS.ErrnoException {
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  return typeof errno === 'string' && IO_ERRORS.has(errno);
}
