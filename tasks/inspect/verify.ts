import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Manifest, MANIFEST } from '../lib/manifest.ts';
import { n } from '../lib/log.ts';
import { UserError } from '../lib/result.ts';
import { posix } from '../lib/staged-dir.ts';

/**
 * `distill verify`: re-hashes every published file of every phase folder against the folder's
 * `_manifest.json` (path, sha256, bytes, rows), so a truncated, bit-flipped, missing or stray
 * file is found (RELIABILITY.md T7, §5 #62). Read-only.
 */

/** Top-level folders searched for phase folders (a folder holding a _manifest.json). */
const SEARCH = ['data', 'exports'];
/** Never phase folders: the sources. */
const SKIP = new Set(['data/_kb']);

/** One file that does not match its manifest. */
export interface VerifyProblem {
  file: string;
  problem: string;
}

/** The result for one phase folder. */
export interface FolderReport {
  dir: string;
  files: number;
  problems: VerifyProblem[];
}

/** The whole verify result; ok when no folder has a problem. */
export interface VerifyReport {
  ok: boolean;
  folders: FolderReport[];
}

/** Phase folders (relative, POSIX, sorted): every folder under data/ and exports/ with a _manifest.json. */
export async function phaseFolders(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    if (SKIP.has(rel)) return;
    let ents;
    try {
      ents = await fsp.readdir(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    if (ents.some((e) => e.isFile() && e.name === MANIFEST)) {
      out.push(rel);
      return; // a phase folder holds no other phase folder
    }
    for (const e of ents.filter((x) => x.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1)))
      await walk(`${rel}/${e.name}`);
  };
  for (const top of SEARCH) await walk(top);
  return out.sort();
}

/** sha256, size and newline count of a file, streamed. */
async function measure(abs: string): Promise<{ sha256: string; bytes: number; rows: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let rows = 0;
  for await (const chunk of createReadStream(abs)) {
    const b = chunk as Buffer;
    hash.update(b);
    bytes += b.length;
    for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) rows++;
  }
  return { sha256: hash.digest('hex'), bytes, rows };
}

/** Every file under `rel` (relative to root, POSIX, sorted). */
async function listFiles(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (r: string): Promise<void> => {
    for (const e of await fsp.readdir(join(root, r), { withFileTypes: true })) {
      const p = `${r}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  };
  await walk(rel);
  return out.sort();
}

const short = (h: string): string => `${h.slice(0, 12)}…`;

/** Checks one phase folder against its manifest. */
export async function verifyFolder(root: string, dir: string): Promise<FolderReport> {
  const manifestPath = `${dir}/${MANIFEST}`;
  let manifest: Manifest;
  try {
    manifest = Manifest.parse(JSON.parse(await fsp.readFile(join(root, manifestPath), 'utf8')));
  } catch (e) {
    const msg =
      e instanceof SyntaxError
        ? e.message
        : ((e as { issues?: { message: string }[] }).issues?.[0]?.message ?? (e as Error).message);
    return {
      dir,
      files: 0,
      problems: [
        { file: manifestPath, problem: `the manifest is unreadable or invalid (${msg}); rebuild this phase` },
      ],
    };
  }
  const problems: VerifyProblem[] = [];
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    if (!f.path.startsWith(`${dir}/`)) {
      problems.push({ file: f.path, problem: `listed in ${manifestPath} but outside ${dir}/` });
      continue;
    }
    let got: { sha256: string; bytes: number; rows: number };
    try {
      got = await measure(join(root, f.path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push({
        file: f.path,
        problem:
          code === 'ENOENT'
            ? 'missing: listed in the manifest but not on disk'
            : `unreadable (${code ?? (e as Error).message})`,
      });
      continue;
    }
    const diffs: string[] = [];
    if (got.bytes !== f.bytes)
      diffs.push(
        `size ${n(got.bytes)} bytes, manifest says ${n(f.bytes)}${got.bytes < f.bytes ? ' (truncated)' : ''}`,
      );
    if (got.sha256 !== f.sha256) diffs.push(`sha256 ${short(got.sha256)}, manifest says ${short(f.sha256)}`);
    if (f.rows !== null && got.rows !== f.rows) diffs.push(`${n(got.rows)} rows, manifest says ${n(f.rows)}`);
    if (diffs.length > 0) problems.push({ file: f.path, problem: `content differs: ${diffs.join('; ')}` });
  }
  for (const p of await listFiles(root, dir)) {
    if (p !== manifestPath && !listed.has(p))
      problems.push({ file: p, problem: 'extra file: on disk but not in the manifest' });
  }
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { dir, files: manifest.files.length, problems };
}

/** Verifies every phase folder of the project. */
export async function verifyProject(root: string): Promise<VerifyReport> {
  const dirs = await phaseFolders(root);
  if (dirs.length === 0)
    throw new UserError(
      'NOTHING_BUILT',
      'nothing to verify: no phase folder with a _manifest.json under data/ or exports/; build first with `npm run export-all`',
    );
  const folders: FolderReport[] = [];
  for (const d of dirs) folders.push(await verifyFolder(root, posix(d)));
  return { ok: folders.every((f) => f.problems.length === 0), folders };
}

/** The human-readable report: one line per folder, one indented line per problem. */
export function formatVerify(r: VerifyReport): string {
  const lines: string[] = [];
  for (const f of r.folders) {
    if (f.problems.length === 0) lines.push(`✔ ${f.dir}: ${n(f.files)} files match ${MANIFEST}`);
    else {
      lines.push(
        `✖ ${f.dir}: ${n(f.problems.length)} problem${f.problems.length === 1 ? '' : 's'} against ${MANIFEST}`,
      );
      for (const p of f.problems) lines.push(`    ${p.file}: ${p.problem}`);
    }
  }
  const bad = r.folders.filter((f) => f.problems.length > 0).length;
  lines.push(
    bad === 0
      ? `✔ verify: ${r.folders.length} phase folders intact`
      : `✖ verify: ${bad} of ${r.folders.length} phase folders changed after they were published; rebuild them (e.g. \`npm run export-all\`) or restore the files`,
  );
  return lines.join('\n');
}
