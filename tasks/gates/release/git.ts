import { spawnSync } from 'node:child_process';
import { posix } from 'node:path';
import { mayBeInGitRepo } from '../../lib/git-repo.ts';

/**
 * The git facts release-freeze needs, read with plain `git` commands in the project root. Each
 * function returns a value or null; none of them changes the repository (no tag is ever created).
 */

/**
 * Runs git in `root`; stdout as a Buffer (paths and blobs are bytes). Where no repository can hold
 * `root` (mayBeInGitRepo), it answers as git would there (exit 128), without starting git.
 */
function git(
  root: string,
  args: readonly string[],
  input?: string,
): { code: number; stdout: Buffer; stderr: string } {
  if (!mayBeInGitRepo(root))
    return {
      code: 128,
      stdout: Buffer.alloc(0),
      stderr: 'fatal: not a git repository (or any of the parent directories): .git',
    };
  const r = spawnSync('git', args, { cwd: root, maxBuffer: 1024 * 1024 * 1024, input });
  return {
    code: r.status ?? 1,
    stdout: r.stdout ?? Buffer.alloc(0),
    stderr: r.stderr?.toString('utf8') ?? (r.error ? r.error.message : ''),
  };
}

const text = (b: Buffer): string => b.toString('utf8').trim();

/** True when `root` is inside a git work tree. */
export function isRepo(root: string): boolean {
  const r = git(root, ['rev-parse', '--is-inside-work-tree']);
  return r.code === 0 && text(r.stdout) === 'true';
}

/** The commit HEAD points at, or null (no repository, or no commit yet). */
export function headCommit(root: string): string | null {
  const r = git(root, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']);
  return r.code === 0 ? text(r.stdout) : null;
}

/** The checked-out branch, or `(detached)` / null. */
export function currentBranch(root: string): string | null {
  const r = git(root, ['symbolic-ref', '--short', '-q', 'HEAD']);
  if (r.code === 0) return text(r.stdout);
  return headCommit(root) ? '(detached)' : null;
}

/** The project root's path inside the repository (`''` at the top, else `sub/dir/`), to match status paths. */
export function repoPrefix(root: string): string {
  const r = git(root, ['rev-parse', '--show-prefix']);
  return r.code === 0 ? text(r.stdout) : '';
}

/** One entry of `git status --porcelain`: the two status letters and the path (relative to the repository top). */
export interface StatusEntry {
  status: string;
  path: string;
}

/** Every uncommitted change, untracked files included (ignored files excluded), or null outside a repository. */
export function statusEntries(root: string): StatusEntry[] | null {
  const r = git(root, ['status', '--porcelain=v1', '-z', '--untracked-files=all']);
  if (r.code !== 0) return null;
  const parts = r.stdout.toString('utf8').split('\0');
  const out: StatusEntry[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p.length < 4) continue;
    const status = p.slice(0, 2);
    out.push({ status, path: p.slice(3) });
    if (status[0] === 'R' || status[0] === 'C') i++; // the next field is the rename's source
  }
  return out;
}

/** True when `sha` names a commit of this repository (`git cat-file -e <sha>^{commit}`). */
export function commitResolves(root: string, sha: string): boolean {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) return false;
  return git(root, ['cat-file', '-e', `${sha}^{commit}`]).code === 0;
}

/** The commit a tag points at, or null when the tag does not exist. */
export function tagTarget(root: string, tag: string): string | null {
  const r = git(root, ['rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`]);
  return r.code === 0 ? text(r.stdout) : null;
}

/** A commit: full sha and subject line. */
export interface CommitRef {
  sha: string;
  subject: string;
}

/** The last commit that touched any of the globs (git `:(glob)` pathspecs, relative to the project root), or null. */
export function lastCommitTouching(root: string, globs: readonly string[]): CommitRef | null {
  if (globs.length === 0) return null;
  const r = git(root, ['log', '-1', '--format=%H%x00%s', '--', ...globs.map((g) => `:(glob)${g}`)]);
  if (r.code !== 0) return null;
  const [sha, subject] = text(r.stdout).split('\0');
  return sha ? { sha, subject: subject ?? '' } : null;
}

/** The bytes of a file as committed at HEAD (path relative to the project root), or null when it is not committed. */
export function committedFile(root: string, rel: string): Buffer | null {
  const r = git(root, ['show', `HEAD:./${rel}`]);
  return r.code === 0 ? r.stdout : null;
}

/** The bytes of a file at a commit (path relative to the project root), or null when the commit does not hold it. */
export function fileAt(root: string, sha: string, rel: string): Buffer | null {
  const r = git(root, ['show', `${sha}:./${rel}`]);
  return r.code === 0 ? r.stdout : null;
}

/**
 * The bytes of a file at each of the commits `shas` (path relative to the project root), null where
 * a commit does not hold it: one `git cat-file --batch` for all of them, not a `git show` each (a
 * history of 500 commits was 500 git processes).
 */
export function filesAt(root: string, shas: readonly string[], rel: string): (Buffer | null)[] {
  if (shas.length === 0) return [];
  const path = posix.normalize(`${repoPrefix(root)}${rel.split('\\').join('/')}`);
  const r = git(root, ['cat-file', '--batch'], shas.map((sha) => `${sha}:${path}\n`).join(''));
  if (r.code !== 0) return shas.map((sha) => fileAt(root, sha, rel));
  const out: (Buffer | null)[] = [];
  let at = 0;
  for (let i = 0; i < shas.length; i++) {
    const eol = r.stdout.indexOf(0x0a, at);
    if (eol < 0) return shas.map((sha) => fileAt(root, sha, rel)); // cut short: ask one by one
    // `<oid> <type> <size>`, or `<object> missing` / `ambiguous`
    const head = r.stdout.subarray(at, eol).toString('utf8').split(' ');
    const size = Number(head[2]);
    if (head.length !== 3 || !Number.isInteger(size)) {
      out.push(null);
      at = eol + 1;
      continue;
    }
    out.push(head[1] === 'blob' ? Buffer.from(r.stdout.subarray(eol + 1, eol + 1 + size)) : null);
    at = eol + 1 + size + 1; // the content and its newline
  }
  return out;
}

/** The commits reachable from HEAD that changed a file (path relative to the project root), newest first, at most `limit`. */
export function commitsTouching(root: string, rel: string, limit = 500): string[] {
  const r = git(root, ['log', `-n${limit}`, '--first-parent', '--format=%H', '--', `./${rel}`]);
  return r.code === 0 ? text(r.stdout).split('\n').filter(Boolean) : [];
}

/** A commit that rewrote an append-only file instead of appending to it. */
export interface HistoryRewrite {
  sha: string;
  problem: string;
}

/** A rewrite that a later commit undid (its content extends the last good version again). */
export interface RevertedRewrite extends HistoryRewrite {
  /** The commit that restored the last good version. */
  restoredIn: string;
}

/** The committed history of an append-only file: the rewrite still in force, and rewrites restored since. */
export interface AppendOnlyHistory {
  /** The first commit of a rewrite no later commit restored (null: the history only appended, or was restored). */
  rewrite: HistoryRewrite | null;
  /** Rewrites a later commit restored (the documented recovery), oldest first: information, not a failure. */
  reverted: RevertedRewrite[];
}

/**
 * Whether the committed history of an append-only file only ever appended. Walking its commits
 * from the oldest, the last good version is kept: a version that extends it (a byte prefix, or
 * equal) becomes the new good version; one that does not (an edit, a truncation, or a commit that
 * deletes the file) is a rewrite, and the versions after it are compared with the last good
 * version, not with the rewrite. A later commit whose content extends the last good version again
 * (the recovery in docs/recovery-runbook.md: `git checkout <bad>~1 -- …` and commit) restores it:
 * the rewrite is then reported under `reverted`, not as `rewrite`. Outside git: nothing found.
 */
export function appendOnlyHistory(root: string, rel: string): AppendOnlyHistory {
  const shas = commitsTouching(root, rel).reverse();
  const versions = filesAt(root, shas, rel);
  const reverted: RevertedRewrite[] = [];
  let good: Buffer | null = null;
  let goodSha = '';
  let pending: HistoryRewrite | null = null;
  for (const [i, sha] of shas.entries()) {
    const now = versions[i] ?? null;
    if (good === null || good.length === 0) {
      good = now;
      goodSha = sha;
      continue;
    }
    const extendsGood =
      now !== null && now.length >= good.length && now.subarray(0, good.length).equals(good);
    if (extendsGood) {
      if (pending !== null) reverted.push({ ...pending, restoredIn: sha });
      pending = null;
      good = now;
      goodSha = sha;
    } else if (pending === null)
      pending = {
        sha,
        problem:
          now === null
            ? `commit ${sha.slice(0, 12)} deleted it (committed before in ${goodSha.slice(0, 12)})`
            : `commit ${sha.slice(0, 12)} changed rows committed before in ${goodSha.slice(0, 12)} (not only appended)`,
      };
  }
  return { rewrite: pending, reverted };
}
