import { promises as fsp } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { crashPoint, maybeFault, pausePoint } from './fault.ts';
import { fsyncDir, pidAlive, writeFileAtomic } from './fs-atomic.ts';
import { enterCritical, trackTemp, untrackTemp } from './stop.ts';
import { JsonlWriter, WriteBudget, type WrittenFile } from './jsonl-writer.ts';
import { sha256 } from './hash.ts';
import type { FileEntry } from '../../schemas/stage-receipt.ts';

/**
 * A phase's whole output folder, built aside and swapped in at the end (write-audit-publish).
 * Readers only ever see the previous complete folder or the new complete one: a crash at any point
 * leaves the previous outputs in place, and `recoverPublish` finishes or undoes a half-done swap.
 *
 * Layout: <root>/.distill/staging/<name>.tmp-<pid>/ is built, then
 *   rename(final → .distill/trash/<name>.tmp-<pid>), rename(staging → final), fsync, rm trash.
 */
export class StagedDir {
  private readonly writers = new Map<string, JsonlWriter>();
  private readonly written = new Map<string, WrittenFile>();
  /** Rows buffered across all open writers stay under this many characters. */
  private readonly budget = new WriteBudget(16 * 1024 * 1024);

  private constructor(
    readonly root: string,
    readonly finalRel: string,
    readonly stagingAbs: string,
  ) {}

  /** Starts a new staging folder for `finalRel` (relative to root), after recovering old crashes. */
  static async begin(root: string, finalRel: string): Promise<StagedDir> {
    await recoverPublish(root, finalRel);
    const staging = join(root, '.distill', 'staging', `${slug(finalRel)}.tmp-${process.pid}`);
    await fsp.rm(staging, { recursive: true, force: true });
    trackTemp(staging);
    await fsp.mkdir(staging, { recursive: true });
    return new StagedDir(root, finalRel, staging);
  }

  /** The JSONL writer for a path relative to the output folder (created on first use). */
  writer(rel: string): JsonlWriter {
    let w = this.writers.get(rel);
    if (!w) {
      w = new JsonlWriter(join(this.stagingAbs, rel), this.budget);
      this.writers.set(rel, w);
    }
    return w;
  }

  /** A writer for a plain text file built in pieces (`writeText`); its manifest entry has no row count, like writeFile's. */
  textWriter(rel: string): JsonlWriter {
    if (this.writers.has(rel)) throw new Error(`a writer for ${rel} is already open`);
    const w = new JsonlWriter(join(this.stagingAbs, rel), this.budget, true);
    this.writers.set(rel, w);
    return w;
  }

  /** Number of writers currently open. */
  get openWriters(): number {
    return this.writers.size;
  }

  /** Closes (flush + fsync) one writer early, e.g. to bound open file handles. */
  async closeWriter(rel: string): Promise<WrittenFile> {
    const w = this.writers.get(rel);
    if (!w) throw new Error(`no open writer for ${rel}`);
    const res = await w.close();
    this.writers.delete(rel);
    this.written.set(rel, res);
    return res;
  }

  /**
   * Closes several writers at once: their fsyncs overlap (an export closes a file per format and
   * split of each day; one after another, the phase waited on each fsync in turn). Every close is
   * waited for before the first failure, if any, is thrown, so none is left running.
   */
  async closeWriters(rels: readonly string[]): Promise<void> {
    const done = await Promise.allSettled(rels.map((rel) => this.closeWriter(rel)));
    for (const d of done) if (d.status === 'rejected') throw d.reason;
  }

  /**
   * Puts an unchanged file of the published folder into the staging folder as a hard link (no
   * copy): `written` is its known hash, size and rows. Files here are never modified in place (every
   * writer creates a new file), so sharing the inode with the folder being replaced is safe.
   */
  async linkFile(rel: string, sourceAbs: string, written: WrittenFile): Promise<void> {
    const dest = join(this.stagingAbs, rel);
    await fsp.mkdir(dirname(dest), { recursive: true });
    try {
      await fsp.link(sourceAbs, dest);
    } catch (e) {
      // another file system, or one without hard links: a copy is as good, only slower
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      await fsp.copyFile(sourceAbs, dest);
    }
    this.written.set(rel, written);
  }

  /** Writes a whole small file (JSON, Markdown) into the staging folder. */
  async writeFile(rel: string, data: string): Promise<void> {
    await writeFileAtomic(join(this.stagingAbs, rel), data);
    const buf = Buffer.from(data, 'utf8');
    this.written.set(rel, { sha256: sha256(buf), bytes: buf.length, rows: null });
  }

  /** Closes all writers and returns every file in the staging folder with hash, size and rows. */
  async closeAll(): Promise<Map<string, WrittenFile>> {
    for (const rel of [...this.writers.keys()].sort()) await this.closeWriter(rel);
    return this.written;
  }

  /** Absolute path of a file inside the staging folder (for re-reading before publish). */
  stagedPath(rel: string): string {
    return join(this.stagingAbs, rel);
  }

  /** Swaps the staging folder in as the final folder, durably. */
  async publish(): Promise<void> {
    await this.closeAll();
    await fsyncTree(this.stagingAbs);
    await pausePoint('publish:staged');
    // from here a stop (signal, build gone) waits for the swap and the receipt (lib/stop.ts);
    // a build already gone publishes nothing
    enterCritical();
    untrackTemp(this.stagingAbs);
    crashPoint('publish:staged');
    const finalAbs = join(this.root, this.finalRel);
    const trash = join(this.root, '.distill', 'trash', `${slug(this.finalRel)}.tmp-${process.pid}`);
    await fsp.mkdir(dirname(trash), { recursive: true });
    await fsp.mkdir(dirname(finalAbs), { recursive: true });
    await fsp.rm(trash, { recursive: true, force: true });
    let hadPrevious = true;
    try {
      maybeFault('rename');
      await fsp.rename(finalAbs, trash);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      hadPrevious = false;
    }
    crashPoint('publish:moved-previous');
    try {
      maybeFault('rename');
      await fsp.rename(this.stagingAbs, finalAbs);
    } catch (e) {
      if (hadPrevious) await fsp.rename(trash, finalAbs);
      throw e;
    }
    crashPoint('publish:renamed');
    await fsyncDir(dirname(finalAbs));
    await fsp.rm(trash, { recursive: true, force: true });
  }

  /** Drops the staging folder (error path); the previous outputs stay as they were. */
  async abort(): Promise<void> {
    for (const w of this.writers.values()) await w.abandon();
    await fsp.rm(this.stagingAbs, { recursive: true, force: true });
    untrackTemp(this.stagingAbs);
  }
}

function slug(rel: string): string {
  return rel
    .split(sep)
    .join('/')
    .replace(/[^A-Za-z0-9_-]+/g, '_');
}

async function fsyncTree(dir: string): Promise<void> {
  for (const ent of await fsp.readdir(dir, { withFileTypes: true })) {
    if (ent.isDirectory()) await fsyncTree(join(dir, ent.name));
  }
  await fsyncDir(dir);
}

/**
 * Finishes or undoes a publish that a crash interrupted, and removes staging folders of dead
 * processes. If the final folder is missing but a trash copy of it exists, the trash copy (the
 * previous good output) is put back.
 */
export async function recoverPublish(root: string, finalRel: string): Promise<void> {
  const name = slug(finalRel);
  const finalAbs = join(root, finalRel);
  for (const area of ['trash', 'staging'] as const) {
    const dir = join(root, '.distill', area);
    let names: string[] = [];
    try {
      names = await fsp.readdir(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      const m = new RegExp(`^${name}\\.tmp-(\\d+)$`).exec(n);
      if (!m || pidAlive(Number(m[1]))) continue;
      const p = join(dir, n);
      if (area === 'trash' && !(await exists(finalAbs))) {
        await fsp.mkdir(dirname(finalAbs), { recursive: true });
        await fsp.rename(p, finalAbs);
        await fsyncDir(dirname(finalAbs));
      } else {
        await fsp.rm(p, { recursive: true, force: true });
      }
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Builds sorted manifest entries (paths relative to root, POSIX) from a staged folder's files. */
export function manifestEntries(finalRel: string, files: Map<string, WrittenFile>): FileEntry[] {
  return [...files.entries()]
    .map(([rel, f]) => ({ path: posix(join(finalRel, rel)), sha256: f.sha256, bytes: f.bytes, rows: f.rows }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A path with forward slashes. */
export function posix(p: string): string {
  return p.split(sep).join('/');
}

/** A path relative to root, with forward slashes. */
export function relPosix(root: string, abs: string): string {
  return posix(relative(root, abs));
}
