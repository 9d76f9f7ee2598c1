/** A value or a typed failure. Exceptions are for bugs; expected failures are values. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** Exhaustiveness check for switch statements over unions. */
export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

/** A reason a row was dropped, with a human-readable detail. */
export interface Drop {
  reason: string;
  detail: string;
  ref?: string | null;
}

/** An error a user can act on: printed without a stack, exits with `exitCode`. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
    readonly code = 'USER_ERROR',
  ) {
    super(message);
    this.name = 'UserError';
  }
}
