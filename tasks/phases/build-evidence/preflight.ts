import { globby } from 'globby';
import type { DistillConfig, SourceConfig } from '../../../schemas/config.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { log } from '../../lib/log.ts';
import { UserError } from '../../lib/result.ts';
import { safeText } from '../../lib/terminal-text.ts';
import { previousInputs, sourceChange } from './source-history.ts';
import {
  atStake,
  findRotation,
  previousHealth,
  sourceProblemsError,
  vanishedSources,
} from './source-guard.ts';

export { previousInputs };

/**
 * The source checks that need no reading of the sources, run by `run-all --begin` (wireit's
 * `begin-run`) before wireit decides whether build-evidence is fresh or restores an older output
 * from its cache: under `npm run`, build-evidence itself may never run, so a vanished, shrunk or
 * edited source would otherwise leave the datasets without SOURCE_MISSING / SOURCE_TRUNCATED /
 * NO_SOURCES (docs/sources.md "When a source vanishes"). build-evidence runs the same checks again.
 */

/** Lists each source's files (sorted, relative, POSIX); a file claimed by two streams is an error. */
export async function listSources(
  root: string,
  config: DistillConfig,
): Promise<{ source: SourceConfig; files: string[] }[]> {
  const claimed = new Map<string, string>();
  const out: { source: SourceConfig; files: string[] }[] = [];
  const sources = [...config.sources].sort((a, b) =>
    a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0,
  );
  for (const source of sources) {
    for (const g of source.files) {
      if (g.startsWith('/') || g.split('/').includes('..'))
        throw new UserError(
          'CONFIG_INVALID',
          `source ${source.stream}: glob "${g}" leaves the project root; copy the files under data/ instead`,
        );
    }
    const found = await globby(source.files, {
      cwd: root,
      onlyFiles: false,
      followSymbolicLinks: false,
      dot: false,
      absolute: false,
    });
    const files = found.filter((f) => /\.(jsonl|json|ndjson|traj)$/i.test(f) || !f.endsWith('/')).sort();
    for (const f of files) {
      const prev = claimed.get(f);
      if (prev)
        throw new UserError(
          'CONFIG_INVALID',
          `${safeText(f)} is matched by both stream "${prev}" and stream "${source.stream}"; make the globs disjoint in distill.config.json`,
        );
      claimed.set(f, source.stream);
    }
    out.push({ source, files });
  }
  return out;
}

/** Nothing matches at all, and nothing was built before (or the operator accepts it): a fresh project. */
export function refuseFreshProject(
  listed: ReadonlyArray<{ files: string[] }>,
  prevInputs: ReadonlyMap<string, FileEntry>,
  accept: boolean,
): void {
  // after a build, vanishedSources names what vanished
  if (listed.every((l) => l.files.length === 0) && (prevInputs.size === 0 || accept))
    throw new UserError(
      'NO_SOURCES',
      'no source file matches any glob in distill.config.json; generate the sample with `npm run corpus` or point "sources" at your files',
    );
}

/** What the source index knows of a listed file now: its size, and the hash of its first `bytes` bytes the last build read. */
export interface CurrentSource {
  size: number;
  /** sha256 of its first `prev.bytes` bytes (null: shorter than that, or unreadable). */
  prefixSha256: string | null;
}

/**
 * Refuses (unless accepted) a build that would take rows out of the datasets: a source whose
 * globs match nothing, a file the last build read that is gone or no longer matched, or one that
 * shrank or whose bytes the last build read changed (`current`, from the source index), each
 * unless rotated to a listed name. Returns quietly when there is no problem or the operator
 * accepts (each accepted problem is logged).
 */
export async function checkSourcesBeforeBuild(
  root: string,
  listed: ReadonlyArray<{ source: SourceConfig; files: string[] }>,
  current: ReadonlyMap<string, CurrentSource>,
  accept: boolean,
): Promise<void> {
  const prevInputs = await previousInputs(root);
  refuseFreshProject(listed, prevInputs, accept);
  const prevHealth = await previousHealth(root);
  const { problems } = await vanishedSources(root, listed, prevInputs, prevHealth);
  const allListed = listed.flatMap((l) => l.files);
  for (const { source, files } of listed) {
    for (const file of files) {
      const prev = prevInputs.get(file);
      const now = current.get(file);
      if (!prev || !now) continue;
      const changed = sourceChange(prev, now.size, now.prefixSha256);
      if (!changed) continue;
      const target = await findRotation(
        root,
        prev,
        allListed.filter((f) => f !== file),
      );
      if (target) continue; // its old bytes are read under the new name
      problems.push({
        code: 'SOURCE_TRUNCATED',
        stream: source.stream,
        file,
        what: `${changed}; ${atStake(prevHealth.get(file))}, and they would be lost`,
      });
    }
  }
  if (problems.length === 0) return;
  if (!accept) throw sourceProblemsError(problems);
  for (const p of problems)
    log.warn(
      `accepted (--accept-source-changes): source ${p.stream}: ${p.file === null ? '' : `${safeText(p.file)}: `}${p.what}`,
    );
}
