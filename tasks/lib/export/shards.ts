import { promises as fsp } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { createRequire } from 'node:module';
import { codeFingerprint } from '../code-fingerprint.ts';
import { sha256, sha256File } from '../hash.ts';
import { log } from '../log.ts';
import { statOf, stillPublished, type OutputStat } from '../previous-output.ts';
import { Manifest, MANIFEST } from '../manifest.ts';
import type { StagedDir } from '../staged-dir.ts';
import type { Split } from './split.ts';

/**
 * The day-sharded export layout (docs/exports.md, "Layout"). Every export folder holds one file per
 * shard in each of its file families, the Hugging Face convention of many data files behind one
 * config (`data_files` globs in the dataset card):
 *
 *   <family>/<shard>.jsonl                  canonical rows (instruction_response, chosen_rejected, unpaired_kto, documents)
 *   <format>/<split>/<shard>.jsonl          format rows (openai, trl, hf/data, trl/preference, ...)
 *   openai/ids/<split>/<shard>.jsonl        the OpenAI id sidecar of `openai/<split>/<shard>.jsonl` (line n ↔ line n)
 *   _quarantine/<shard>.jsonl               the rows of that shard the export did not use
 *
 * A shard is a day partition of the screened runs (`YYYY-MM-DD` from data/screened/runs/YYYY/MM/DD/runs.jsonl,
 * `undated` for runs without a time) or `evidence` (rows from data/screened/evidence/: knowledge documents,
 * judgments). Every shard has every file of its export, even an empty one.
 */

/** The layout version recorded in each export manifest's parameters (`export_layout`). */
export const EXPORT_LAYOUT = 2;

/** The shard of rows that come from screened evidence (documents, judgments), not from a day of runs. */
export const EVIDENCE_SHARD = 'evidence';
export const UNDATED_SHARD = 'undated';

/** The shard of a screened input file: `data/screened/runs/2025/01/02/runs.jsonl` → `2025-01-02`. */
export function shardOfInput(path: string): string {
  const m = /\/runs\/(\d{4})\/(\d{2})\/(\d{2})\/runs\.jsonl$/.exec(path);
  if (m) return `${m[1]}-${m[2]}-${m[3]}`;
  if (/\/runs\/undated\/runs\.jsonl$/.test(path)) return UNDATED_SHARD;
  // any other file of runs (screen writes none; hand-made fixtures do): its path under runs/
  const other = /^data\/screened\/runs\/(.+)\.jsonl$/.exec(path);
  if (other) return (other[1] as string).replace(/[^A-Za-z0-9_.-]+/g, '_');
  return EVIDENCE_SHARD;
}

/** The shard of a run by its recorded_at (the day screen filed it under). */
export function shardOfRecordedAt(recordedAt: string | null | undefined): string {
  return recordedAt
    ? `${recordedAt.slice(0, 4)}-${recordedAt.slice(5, 7)}-${recordedAt.slice(8, 10)}`
    : UNDATED_SHARD;
}

/** `<family>/<shard>.jsonl` */
export const familyShard = (family: string, shard: string): string => `${family}/${shard}.jsonl`;
/** `<prefix>/<split>/<shard>.jsonl` */
export const splitShard = (prefix: string, split: Split, shard: string): string =>
  `${prefix}/${split}/${shard}.jsonl`;
/** The OpenAI id sidecar of `<prefix>/<split>/<shard>.jsonl`: `<prefix>/ids/<split>/<shard>.jsonl`. */
export const sidecarShard = (prefix: string, split: Split, shard: string): string =>
  `${prefix}/ids/${split}/${shard}.jsonl`;
/** The quarantine folder of every export, and one shard's file in it. */
export const QUARANTINE_DIR = '_quarantine';
export const quarantineShard = (shard: string): string => `${QUARANTINE_DIR}/${shard}.jsonl`;

/** The shard a file of an export folder belongs to (relative path), or null (card, manifest). */
export function shardOfFile(rel: string): string | null {
  const m = /\/([^/]+)\.jsonl$/.exec(rel);
  return m ? (m[1] as string) : null;
}

/** The sidecar path of an OpenAI shard file, or null when `rel` is not one (`openai/train/2025-01-02.jsonl`). */
export function sidecarOf(rel: string): string | null {
  const m = /^(.*\/)?openai\/(train|test)\/([^/]+)\.jsonl$/.exec(rel);
  if (!m) return null;
  return `${m[1] ?? ''}openai/ids/${m[2]}/${m[3]}.jsonl`;
}

/** Sorted unique shard names. */
export function sortedShards(shards: Iterable<string>): string[] {
  return [...new Set(shards)].sort();
}

/** The greatest shard name of a row built from several units (a pair belongs to the latest day of its runs). */
export function latestShard(shards: readonly (string | undefined)[], fallback: string): string {
  let best: string | null = null;
  for (const s of shards) if (s !== undefined && (best === null || s > best)) best = s;
  return best ?? fallback;
}

/** Files of the canonical family of an export: every `<family>/*.jsonl` in a manifest, in shard order. */
export function familyFiles(files: readonly FileEntry[], dir: string, family: string): FileEntry[] {
  const prefix = `${dir}/${family}/`;
  return files
    .filter((f) => f.path.startsWith(prefix) && !f.path.slice(prefix.length).includes('/'))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Incremental builds: the state each export keeps between builds.

/** What an export remembers of one shard it published. */
export interface ShardRecord<D> {
  /** sha256 of the shard's input file (the screened day file, or the evidence file). */
  input: string;
  data: D;
}

interface StateFile<D, E> {
  format: number;
  code: string;
  parameters: string;
  manifest_sha256: string;
  shards: Record<string, ShardRecord<D>>;
  /** What an export keeps beside its shards (export-preference: its task groups). */
  extra?: E;
  /** Each published file as stat saw it after the publish: size, inode, change time. */
  files?: Record<string, [number, number, number]>;
}

const STATE_FORMAT = 1;

/**
 * The code a build's state belongs to: this checkout's code fingerprint plus the installed versions
 * of the second engine (secretlint's core and rule preset). A reused shard is never rescanned and a
 * rewritten one skips the lines its published version held, so both are only as current as the
 * rules that scanned them: another secretlint version makes the next build cold (every shard
 * written and rescanned).
 */
let stateCode: string | null = null;
function buildCode(): string {
  if (stateCode === null) {
    const req = createRequire(import.meta.url);
    const versions = ['@secretlint/core', '@secretlint/secretlint-rule-preset-recommend'].map(
      (p) => `${p}@${(req(`${p}/package.json`) as { version: string }).version}`,
    );
    stateCode = `${codeFingerprint()} ${versions.join(' ')}`;
  }
  return stateCode;
}

const statePath = (root: string, phase: string): string =>
  join(root, '.distill', 'cache', 'exports', `${phase}.json`);

/** Which manifest parameter names a folder's layout, and the layout this code writes (a build of another is rebuilt whole, with a message). */
export interface FolderLayout {
  key: string;
  version: number;
  /** For the message: `day-sharded layout`. */
  name: string;
  /** Where the migration is documented. */
  doc: string;
}

/** The exports' layout. */
export const EXPORT_FOLDER_LAYOUT: FolderLayout = {
  key: 'export_layout',
  version: EXPORT_LAYOUT,
  name: 'day-sharded layout',
  doc: 'docs/exports.md#migration',
};

/** The previous build of an export, when it can be reused shard by shard. */
export interface PreviousBuild<D, E = undefined> {
  manifest: Manifest;
  shards: Map<string, ShardRecord<D>>;
  extra: E | undefined;
  /** Each published file as stat saw it just after the publish (a file still so needs no re-hash). */
  stats: Map<string, OutputStat>;
}

/**
 * The previous build's state, or null (a cold build): no state, other code or parameters, a
 * published manifest other than the one the state was written with, or an older layout (then a
 * one-line message says the folder is rebuilt once in the day-sharded layout).
 */
export async function previousBuild<D, E = undefined>(
  root: string,
  phase: string,
  dir: string,
  parameters: Record<string, unknown>,
): Promise<PreviousBuild<D, E> | null> {
  return (await loadBuild<D, E>(root, phase, dir, parameters)).prev;
}

/** `previousBuild`, with why the build is cold when it is (one line, for the summary). */
export async function loadBuild<D, E = undefined>(
  root: string,
  phase: string,
  dir: string,
  parameters: Record<string, unknown>,
  layout: FolderLayout = EXPORT_FOLDER_LAYOUT,
): Promise<{ prev: PreviousBuild<D, E>; why: null } | { prev: null; why: string }> {
  const cold = (why: string): { prev: null; why: string } => ({ prev: null, why });
  let manifestText: string;
  try {
    manifestText = await fsp.readFile(join(root, dir, MANIFEST), 'utf8');
  } catch {
    return cold('no earlier build');
  }
  let manifest: Manifest;
  try {
    manifest = Manifest.parse(JSON.parse(manifestText));
  } catch {
    return cold(`${dir}/${MANIFEST} is not a manifest`);
  }
  if (manifest.parameters[layout.key] !== layout.version) {
    log.info(
      `${dir}: the previous build has the single-file layout (${layout.key} ${String(manifest.parameters[layout.key] ?? 1)}); rebuilding it once, cleanly, in the ${layout.name} ${layout.version} (${layout.doc})`,
    );
    return cold('the previous build has the single-file layout');
  }
  if (process.env['DISTILL_EXPORT_INCREMENTAL'] === '0') return cold('DISTILL_EXPORT_INCREMENTAL=0');
  let state: StateFile<D, E>;
  try {
    state = JSON.parse(await fsp.readFile(statePath(root, phase), 'utf8')) as StateFile<D, E>;
  } catch {
    return cold(`no state of the last build (.distill/cache/exports/${phase}.json)`);
  }
  if (state.format !== STATE_FORMAT || state.code !== buildCode())
    return cold('the state of the last build comes from other code');
  if (state.parameters !== JSON.stringify(parameters)) {
    let was: Record<string, unknown> = {};
    try {
      was = JSON.parse(state.parameters) as Record<string, unknown>;
    } catch {
      // named below as every parameter
    }
    const changed = [...new Set([...Object.keys(was), ...Object.keys(parameters)])]
      .filter((k) => JSON.stringify(was[k]) !== JSON.stringify(parameters[k]))
      .sort();
    return cold(`the parameters changed (${changed.join(', ')})`);
  }
  if (state.manifest_sha256 !== sha256(Buffer.from(manifestText, 'utf8')))
    return cold(`${dir}/${MANIFEST} is not the one the last build published`);
  return {
    prev: {
      manifest,
      shards: new Map(Object.entries(state.shards)),
      extra: state.extra,
      stats: new Map(
        Object.entries(state.files ?? {}).map(([path, [size, ino, ctimeMs]]) => [
          path,
          { path, size, ino, ctimeMs },
        ]),
      ),
    },
    why: null,
  };
}

/** Saves the state of a build just published (after the publish: a lost state only means a cold build next time). */
export async function saveBuild<D, E = undefined>(
  root: string,
  phase: string,
  parameters: Record<string, unknown>,
  manifestText: string,
  shards: ReadonlyMap<string, ShardRecord<D>>,
  extra?: E,
): Promise<void> {
  const state: StateFile<D, E> = {
    format: STATE_FORMAT,
    code: buildCode(),
    parameters: JSON.stringify(parameters),
    manifest_sha256: sha256(Buffer.from(manifestText, 'utf8')),
    shards: Object.fromEntries([...shards.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    ...(extra === undefined ? {} : { extra }),
    files: await publishedStats(root, manifestText),
  };
  // written by rename, not fsynced (like the score cache): a lost or stale state only means a cold
  // build (it names the manifest it goes with); a failure here never fails the published build
  const path = statePath(root, phase);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await fsp.mkdir(join(path, '..'), { recursive: true });
    await writeState(tmp, state);
    await fsp.rename(tmp, path);
  } catch {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    await fsp.rm(path, { force: true }).catch(() => undefined);
  }
}

/**
 * A value of a build's state kept on disk while the build runs (a file holding exactly its JSON
 * text, as `JSON.stringify` writes it): `saveBuild` copies it into the state file in its place, so
 * the state of every shard need not be held in memory until the end of the build (export-preference
 * spills each day's outcome sides).
 */
export class SpilledJson {
  constructor(readonly path: string) {}
}

/**
 * Writes `JSON.stringify(state)` to `path`, each `SpilledJson` in it replaced by its file's text
 * (the same bytes as stringifying the value held in memory), one spilled file at a time.
 */
async function writeState(path: string, state: unknown): Promise<void> {
  const spilled: SpilledJson[] = [];
  const token = `\u0000spilled-${randomUUID()}:`;
  const text = JSON.stringify(state, (_key, value: unknown) => {
    if (!(value instanceof SpilledJson)) return value;
    spilled.push(value);
    return `${token}${spilled.length - 1}`;
  });
  const out = await fsp.open(path, 'w');
  try {
    // JSON.stringify writes the token's NUL as \u0000, inside the quotes of a string
    const quoted = JSON.stringify(token)
      .slice(1, -1)
      .replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    let last = 0;
    for (const m of text.matchAll(new RegExp(`"${quoted}(\\d+)"`, 'g'))) {
      await out.writeFile(text.slice(last, m.index));
      await out.writeFile(await fsp.readFile((spilled[Number(m[1])] as SpilledJson).path));
      last = (m.index as number) + m[0].length;
    }
    await out.writeFile(text.slice(last));
  } finally {
    await out.close();
  }
}

/**
 * The stat of every file a manifest lists, taken after the publish: the folder it replaced is gone
 * by then (a hard-linked file's change time moves when a link to it is made or removed).
 */
async function publishedStats(
  root: string,
  manifestText: string,
): Promise<Record<string, [number, number, number]>> {
  const out: Record<string, [number, number, number]> = {};
  let files: readonly FileEntry[] = [];
  try {
    files = Manifest.parse(JSON.parse(manifestText)).files;
  } catch {
    return out;
  }
  for (const f of files) {
    const st = await statOf(root, f.path);
    if (st) out[f.path] = [st.size, st.ino, st.ctimeMs];
  }
  return out;
}

/** True when a file of the previous build is still what its manifest entry says: unchanged since the publish (stat), else by its sha256. */
export function stillAsPublished(
  root: string,
  prev: PreviousBuild<unknown, unknown>,
  entry: FileEntry,
): Promise<boolean> {
  return stillPublished(root, entry, prev.stats.get(entry.path)).catch(() => false);
}

/** The previous build's files of one shard (relative to the export folder), from its manifest. */
export function shardEntries(prev: PreviousBuild<unknown, unknown>, dir: string, shard: string): FileEntry[] {
  return prev.manifest.files.filter(
    (f) => f.path.startsWith(`${dir}/`) && shardOfFile(f.path.slice(dir.length + 1)) === shard,
  );
}

/**
 * Puts a shard of the published folder into the staged one unchanged (hard links), after checking
 * each file against the previous manifest: by stat when it is as the publish left it, else by its
 * sha256. Returns the relative paths linked, or null when a file no longer matches (then the shard
 * is built again).
 */
export async function reuseShard(
  root: string,
  staged: StagedDir,
  dir: string,
  entries: readonly FileEntry[],
  prev?: PreviousBuild<unknown, unknown>,
): Promise<string[] | null> {
  if (entries.length === 0) return null;
  for (const e of entries) {
    if (prev) {
      if (!(await stillAsPublished(root, prev, e))) return null;
      continue;
    }
    try {
      if ((await sha256File(join(root, e.path))) !== e.sha256) return null;
    } catch {
      return null;
    }
  }
  const rels: string[] = [];
  for (const e of entries) {
    const rel = e.path.slice(dir.length + 1);
    await staged.linkFile(rel, join(root, e.path), { sha256: e.sha256, bytes: e.bytes, rows: e.rows });
    rels.push(rel);
  }
  return rels;
}
