import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FileEntry } from '../../schemas/stage-receipt.ts';
import { jsonlLines } from './jsonl-read.ts';

/**
 * Reading back what the last build published, for incremental phases (score, screen): a file that
 * no longer matches its manifest entry means the last build cannot be trusted, and the phase falls
 * back to a cold build instead of failing.
 */

/** The last build's outputs are not what its manifest says: build cold. */
export class StalePrevious extends Error {}

/** The lines of a previously published file, checked against its manifest entry (`manifest` names it) once read to the end. */
export async function* previousLines(
  root: string,
  entry: FileEntry,
  manifest: string,
): AsyncGenerator<string> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const { text } of jsonlLines(join(root, entry.path))) {
    h.update(text);
    h.update('\n');
    bytes += Buffer.byteLength(text) + 1;
    yield text;
  }
  if (bytes !== entry.bytes || h.digest('hex') !== entry.sha256)
    throw new StalePrevious(`${entry.path} does not match ${manifest}`);
}
