import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const kind = (p: string): 'file' | 'dir' | null => {
  try {
    const s = statSync(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
};

/**
 * False when no git repository can hold the folder `dir`: neither it nor any folder above it has a
 * `.git` (the folder of a clone, or the file of a worktree or submodule) or is a bare repository
 * (`HEAD`, `objects/`, `refs/`), and GIT_DIR is not set. Every git command run there would then
 * fail with "not a git repository", so the callers (the release gates' git facts, the audit
 * baseline's committed anchor, the code version of the receipts) give their "outside git" answer
 * without starting a git process (each one ~10-20 ms of CPU when forked from a large process: a
 * few hundred per test suite). True only means git may find one: git is run and decides.
 */
export function mayBeInGitRepo(dir: string): boolean {
  if (process.env['GIT_DIR']) return true;
  for (let d = resolve(dir); ;) {
    if (kind(join(d, '.git')) !== null) return true;
    if (
      kind(join(d, 'HEAD')) === 'file' &&
      kind(join(d, 'objects')) === 'dir' &&
      kind(join(d, 'refs')) === 'dir'
    )
      return true;
    const up = dirname(d);
    if (up === d) return false;
    d = up;
  }
}
