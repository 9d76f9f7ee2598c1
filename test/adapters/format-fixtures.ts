import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Adapter, AdapterOutput, SessionGroup } from '../../tasks/adapters/adapter.ts';

/** The folder of real-world format fixtures (built from each format's documented examples). */
export const FORMATS_DIR = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));

/** The parsed lines of a JSONL fixture (every line of a fixture parses; adapters decide the rest). */
export function fixtureRows(name: string): Record<string, unknown>[] {
  return readFileSync(`${FORMATS_DIR}${name}`, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Each line of a fixture through a row adapter, as build-evidence calls it. */
export function rowOutputs(adapter: Adapter, name: string, stream = 'in'): AdapterOutput[] {
  return fixtureRows(name).map((row, index) =>
    adapter.toEvidence(row, { stream, sourceFile: `data/in/${name}`, index }),
  );
}

/** A whole fixture through a session adapter's `toEvidenceFile`. */
export function sessionGroups(adapter: Adapter, name: string, skip: readonly number[] = []): SessionGroup[] {
  const units = fixtureRows(name)
    .map((row, index) => ({ index, row }))
    .filter((u) => !skip.includes(u.index));
  if (!adapter.toEvidenceFile) throw new Error(`${adapter.name} is not a session adapter`);
  return adapter.toEvidenceFile(units, { stream: 'in', sourceFile: `data/in/${name}` });
}

/** The drop of an output (fails the test when it kept). */
export function dropOf(out: AdapterOutput | undefined): { reason: string; detail: string } {
  if (!out || out.type !== 'drop')
    throw new Error(`expected a drop, got ${JSON.stringify(out)?.slice(0, 300)}`);
  return { reason: out.reason, detail: out.detail };
}

/** The drafts of an output (fails the test when it dropped). */
export function keptOf(out: AdapterOutput | undefined): Extract<AdapterOutput, { type: 'keep' }>['records'] {
  if (!out || out.type !== 'keep')
    throw new Error(`expected records, got ${JSON.stringify(out)?.slice(0, 300)}`);
  return out.records;
}
