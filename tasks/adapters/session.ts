import type { AdapterContext, AdapterOutput, SessionGroup, SessionUnit } from './adapter.ts';

/**
 * Helpers for `jsonl-session` adapters: `toEvidence` as a one-line file, and grouping lines by a
 * key (a session id, a trace id) while keeping each group's lines in file order.
 */

type FileFn = (units: readonly SessionUnit[], ctx: Omit<AdapterContext, 'index'>) => SessionGroup[];

/** `toEvidence` of a session adapter: the row read as a file of one line. */
export function oneLineSession(
  fn: FileFn,
): (row: Record<string, unknown>, ctx: AdapterContext) => AdapterOutput {
  return (row, ctx) => {
    const groups = fn([{ index: ctx.index, row }], { stream: ctx.stream, sourceFile: ctx.sourceFile });
    const g = groups[0];
    if (groups.length !== 1 || !g)
      throw new Error(`a one-line session gave ${groups.length} groups; expected 1`);
    return g.output;
  };
}

/** A group of one line that drops with a reason. */
export function dropUnit(index: number, reason: string, detail: string): SessionGroup {
  return { units: [index], output: { type: 'drop', reason, detail } };
}

/** Lines grouped by key in order of first appearance; each group keeps its lines in file order. */
export function groupBy<T extends { index: number }>(
  items: readonly T[],
  key: (item: T) => string,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** `lines_missing` when the units are not consecutive: the shell quarantined lines in between. */
export function gapFlag(indices: readonly number[]): string[] {
  for (let i = 1; i < indices.length; i++)
    if ((indices[i] as number) !== (indices[i - 1] as number) + 1) return ['lines_missing'];
  return [];
}
