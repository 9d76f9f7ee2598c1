import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { globby } from 'globby';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { sha256 } from '../hash.ts';
import { ProtectedIndex } from './decontaminate.ts';

/**
 * The protected sets that training data must not overlap, read from disk. Each set is a list of
 * globs relative to the project root; a set whose files do not exist yet protects nothing (the
 * acceptance fixture and the replay tasks may not have been written yet).
 */

/** One named set of protected files. */
export interface ProtectedSet {
  name: string;
  globs: readonly string[];
}

/** The acceptance gate's fixture (never training data). */
export const ACCEPTANCE_SET: ProtectedSet = {
  name: 'acceptance',
  globs: ['test/fixtures/acceptance/**/*.jsonl', 'test/fixtures/acceptance/**/*.json'],
};
/** The replay evaluation tasks (distill replay-eval). */
export const REPLAY_SET: ProtectedSet = {
  name: 'replay',
  globs: ['eval/replay/**/*.jsonl', 'eval/replay/**/*.json'],
};

/** The built-in sets plus the config's `eval_sets` globs (one set named `eval_sets`). */
export function protectedSets(evalSets: readonly string[]): ProtectedSet[] {
  const sets = [ACCEPTANCE_SET, REPLAY_SET];
  if (evalSets.length > 0) sets.push({ name: 'eval_sets', globs: evalSets });
  return sets;
}

/** The protected index and the files it was built from (for the manifest's inputs). */
export interface LoadedProtected {
  index: ProtectedIndex;
  files: FileEntry[];
  /** Lines / elements that were not JSON (protected as raw text). */
  unparsed: number;
}

/**
 * Reads every file of every set: a `.jsonl` file line by line, any other file as one JSON
 * document (an array's elements one by one). A line that is not JSON is protected as raw text.
 */
export async function loadProtected(root: string, sets: readonly ProtectedSet[]): Promise<LoadedProtected> {
  const index = new ProtectedIndex();
  const files: FileEntry[] = [];
  let unparsed = 0;
  const seen = new Set<string>();
  for (const set of sets) {
    const found = (
      await globby([...set.globs], { cwd: root, onlyFiles: true, followSymbolicLinks: false, dot: false })
    ).sort();
    for (const rel of found) {
      if (seen.has(rel)) continue;
      seen.add(rel);
      const buf = await fsp.readFile(join(root, rel));
      const text = buf.toString('utf8');
      let rows = 0; // JSONL rows (for the manifest entry)
      const addText = (t: string, at: string): void => {
        try {
          index.addValue(JSON.parse(t), { set: set.name, at });
        } catch {
          unparsed++;
          index.add(t, { set: set.name, at });
        }
      };
      if (rel.endsWith('.jsonl')) {
        text.split('\n').forEach((line, i) => {
          if (line.trim() === '') return;
          rows++;
          addText(line, `${rel}:${i + 1}`);
        });
      } else {
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch {
          doc = undefined;
        }
        if (Array.isArray(doc)) {
          doc.forEach((el, i) => index.addValue(el, { set: set.name, at: `${rel}[${i}]` }));
        } else addText(text, rel);
      }
      files.push({
        path: rel,
        sha256: sha256(buf),
        bytes: buf.length,
        rows: rel.endsWith('.jsonl') ? rows : null,
      });
    }
  }
  return { index, files, unparsed };
}
