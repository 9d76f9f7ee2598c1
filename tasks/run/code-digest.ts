import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { sha256 } from '../lib/hash.ts';
import { PIPELINE, readCodeInputs } from '../phases/registry.ts';

/**
 * The code fingerprints wireit reads instead of the modules themselves.
 *
 * wireit hashes every input file of every script on every build, with a read stream each and no
 * cache shared between scripts: the 54–121 modules a phase loads, eight phases, ~780 files per
 * no-op `npm run run-all`, about half of wireit's CPU there (docs/performance.md, "Issue #22: the
 * no-op"). `npm run wireit:inputs` derives the modules each phase can load (its folder, and the
 * import closure of the CLI and of its `run.ts`, dynamic imports and worker entry points included)
 * into `tasks/phases/code-inputs.json`; `run-all --begin` (wireit's `begin-run`, which runs before
 * any phase is fingerprinted) hashes each listed module once and writes, per phase,
 * `.distill/code/<phase>.json`: the sha256 of every module that phase loads. That file is the
 * phase's code input in package.json, so editing a module changes exactly the files of the phases
 * that load it, and wireit reruns exactly those; a file that did not change is not rewritten.
 */

/** What wireit hashes for a phase's code, relative to the project root. */
export const codeDigestPath = (phase: string): string => `.distill/code/${phase}.json`;

/** The checkout the code runs from (compiled code keeps the source file's URL). */
const CODE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The module lists of `code-inputs.json`: phase → root-relative paths. */
export type CodeInputs = Record<string, string[]>;

/** The text of a phase's code fingerprint: each module with the sha256 of its bytes ("missing" when it is gone). */
export function codeDigest(phase: string, files: readonly string[], hashOf: (f: string) => string): string {
  const entries = Object.fromEntries(files.map((f) => [f, hashOf(f)]));
  return `${JSON.stringify({ phase, files: entries }, null, 1)}\n`;
}

/**
 * Every `.ts` module now in `dir` (root-relative, at any depth): a phase's own folder, whose modules
 * its list holds all of when derived. A module added there since (no `npm run wireit:inputs` run
 * yet) is fingerprinted too, as the folder glob of the wireit `files` did before the lists.
 */
function modulesUnder(codeRoot: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let ents;
    try {
      ents = readdirSync(join(codeRoot, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(r);
    }
  };
  walk(dir);
  return out;
}

/**
 * Brings `.distill/code/<phase>.json` of every phase up to date with the modules in `codeRoot`;
 * returns the phases whose file changed. Each module is read once, however many phases load it.
 */
export async function updateCodeDigests(root: string, codeRoot: string = CODE_ROOT): Promise<string[]> {
  const lists: CodeInputs = readCodeInputs(codeRoot);
  const hashes = new Map<string, string>();
  const hashOf = (f: string): string => {
    let h = hashes.get(f);
    if (h === undefined) {
      const path = join(codeRoot, f);
      h = existsSync(path) ? sha256(readFileSync(path)) : 'missing';
      hashes.set(f, h);
    }
    return h;
  };
  await mkdir(join(root, '.distill/code'), { recursive: true });
  const changed: string[] = [];
  for (const [phase, listed] of Object.entries(lists)) {
    const folder = PIPELINE.find((p) => p.phase === phase)?.folder;
    const files =
      folder === undefined
        ? listed
        : [...new Set([...listed, ...modulesUnder(codeRoot, `tasks/phases/${folder}`)])].sort();
    const path = join(root, codeDigestPath(phase));
    const text = codeDigest(phase, files, hashOf);
    const before = await readFile(path, 'utf8').catch(() => null);
    if (before === text) continue;
    await writeFileAtomic(path, text);
    changed.push(phase);
  }
  return changed;
}
