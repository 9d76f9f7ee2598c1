import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { sha256 } from '../../lib/hash.ts';
import { Manifest, MANIFEST } from '../../lib/manifest.ts';
import { sameStat, StalePrevious, statOf, type OutputStat } from '../../lib/previous-output.ts';
import type { StagedDir } from '../../lib/staged-dir.ts';
import { EVIDENCE_DIR } from './contract.ts';
import { ID_PARTS, IdTable, type IdPart } from './id-table.ts';

/**
 * What build-evidence keeps between builds (`.distill/cache/build-evidence-state/`, never an
 * output, safe to delete: the next build is then a full one), so that a build after a new day
 * does work in proportion to what changed:
 *
 * - `state.json`: the key it was built under (code fingerprint and parameters), the sha256 of the
 *   manifest it published, every source file in build order with its cache key and health, the
 *   stat of every published file just after the publish, and per output file (day partition or
 *   quarantine file) the rows each source file contributed, in order (`parts`);
 * - `ids-<manifest>.bin`: the global duplicate-id table (id → the file and line of the row kept
 *   with it), the typed arrays of each of `IdTable`'s parts as they are, in part order (their
 *   slot counts and the file's sha256 in state.json: a table damaged at its right size, zeroed
 *   say, would read as valid and miss the duplicates of every id it lost);
 * - `drops`: the rows dropped as DUPLICATE_RECORD, with their ids and the files their ids' keepers
 *   are in.
 *
 * A file whose cache key (its path, bytes, sha256, stream, adapter, parameters, code) is the one
 * recorded is not read again: its health and counts come from the state, and its rows stay where
 * they are in the published files. Only new or changed files are read; their ids are checked
 * against the persisted table (an id kept in an unchanged earlier file makes the row a
 * DUPLICATE_RECORD naming that file and line, as a full build does). An output file that no new
 * or removed file contributes to is linked from the published folder (trusted by the stat
 * recorded after the publish, else by its sha256); any other is assembled from the unchanged
 * files' row ranges of the published file and the new rows, in build order. Whenever a change
 * could alter the verdict of a row in an unchanged file (a new row keeping an id that a later
 * unchanged file kept or dropped, a removed file that kept the id of a later dropped row, files in
 * another order), the build starts over as a full one (`StalePrevious`).
 */

export const STATE_FORMAT = 3;
export const stateDir = (root: string): string => join(root, '.distill', 'cache', 'build-evidence-state');
const statePath = (root: string): string => join(stateDir(root), 'state.json');

/** The health counts of a file that do not depend on when it was read. */
export interface FileCounts {
  units: number;
  evidence_units: number;
  quarantined_units: number;
  records: number;
  by_reason: Record<string, number>;
  flags: string[];
  kinds: Record<string, number>;
}

export interface StateFile extends FileCounts {
  path: string;
  /** Its cache key; null when it could not be reused (not cacheable, refused, a session file). */
  key: string | null;
  /** Its size when listed (to tell, before reading, how much of the sources is new). */
  bytes: number | null;
}

/** A row dropped as DUPLICATE_RECORD: its file (index into `files`), line and ids. */
export interface StateDrop {
  file: number;
  line: number;
  ids: string[];
}

export interface EvidenceState {
  format: number;
  key: string;
  manifest_sha256: string;
  files: StateFile[];
  /** Output file (relative to data/evidence) → [file index, rows] in the order the rows are in it. */
  parts: Record<string, [number, number][]>;
  drops: StateDrop[];
  ids: { file: string; slots: number[]; sha256: string };
  outputs: OutputStat[];
}

/** The last build, as far as it can be trusted. */
export interface Previous {
  state: EvidenceState;
  manifest: Manifest;
  /** Its id table, read from disk (file numbers as the last build had them). */
  ids: IdTable;
}

/** The last build's state, or why there is none to build on. */
export async function previousBuild(root: string, key: string): Promise<Previous | string> {
  if (process.env['DISTILL_EVIDENCE_INCREMENTAL'] === '0')
    return 'incremental build-evidence turned off (DISTILL_EVIDENCE_INCREMENTAL=0)';
  let state: EvidenceState;
  try {
    state = JSON.parse(await fsp.readFile(statePath(root), 'utf8')) as EvidenceState;
  } catch {
    return 'no state of an earlier build';
  }
  if (typeof state !== 'object' || state === null) return 'the state of the last build is damaged';
  if (state.format !== STATE_FORMAT) return 'the state of the last build has another format';
  if (state.key !== key) return 'the code or a parameter changed since the last build';
  let text: string;
  try {
    text = await fsp.readFile(join(root, EVIDENCE_DIR, MANIFEST), 'utf8');
  } catch {
    return `${EVIDENCE_DIR}/${MANIFEST} is missing`;
  }
  if (sha256(Buffer.from(text, 'utf8')) !== state.manifest_sha256)
    return `${EVIDENCE_DIR} is not what the last build with this state published`;
  const parsed = Manifest.safeParse(JSON.parse(text));
  if (!parsed.success) return `${EVIDENCE_DIR}/${MANIFEST} is invalid`;
  let ids: IdTable;
  try {
    ids = await readIdTable(join(stateDir(root), state.ids.file), state.ids.slots, state.ids.sha256);
  } catch {
    return 'the id table of the last build is missing or damaged';
  }
  return { state, manifest: parsed.data, ids };
}

/**
 * Writes the state (after the publish: until it names the manifest just published, the next build
 * is a full one). Written by rename, not fsynced (like score's and the exports' state): a lost or
 * stale state only means a full build, and a failure here never fails the published build.
 */
export async function writeState(
  root: string,
  state: Omit<EvidenceState, 'ids'>,
  ids: IdTable,
): Promise<void> {
  const dir = stateDir(root);
  const parts = ids.arrays();
  const file = `ids-${state.manifest_sha256.slice(0, 16)}.bin`;
  try {
    await fsp.mkdir(dir, { recursive: true });
    const tmp = join(dir, `${file}.tmp-${process.pid}`);
    // part by part, straight from the arrays (a concatenated copy would double the table's memory at the end of the build)
    const fh = await fsp.open(tmp, 'w');
    const digest = createHash('sha256');
    try {
      for (const { keys, vals, used } of parts)
        for (const a of [keys, vals, used]) {
          const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
          digest.update(view);
          await fh.write(view);
        }
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, join(dir, file));
    const slots = parts.map((p) => p.used.length);
    const stateTmp = join(dir, `state.json.tmp-${process.pid}`);
    await fsp.writeFile(
      stateTmp,
      `${JSON.stringify({ ...state, ids: { file, slots, sha256: digest.digest('hex') } })}\n`,
    );
    await fsp.rename(stateTmp, join(dir, 'state.json'));
    for (const name of await fsp.readdir(dir))
      if (name !== file && name !== 'state.json') await fsp.rm(join(dir, name), { force: true });
  } catch {
    await dropState(root).catch(() => undefined);
  }
}

/** The id table `writeState` wrote: each part's arrays read straight into aligned typed arrays. */
async function readIdTable(path: string, slots: unknown, sha256: unknown): Promise<IdTable> {
  if (
    !Array.isArray(slots) ||
    slots.length !== ID_PARTS ||
    !slots.every((n) => Number.isSafeInteger(n) && n > 0)
  )
    throw new Error('bad slot counts');
  const fh = await fsp.open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size !== 21 * (slots as number[]).reduce((a, n) => a + n, 0)) throw new Error('wrong size');
    const parts: IdPart[] = [];
    const digest = createHash('sha256');
    let pos = 0;
    const fill = async (a: Uint32Array | Uint8Array): Promise<void> => {
      const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      for (let done = 0; done < view.length;) {
        const { bytesRead } = await fh.read(view, done, view.length - done, pos + done);
        if (bytesRead === 0) throw new Error('short read');
        done += bytesRead;
      }
      digest.update(view);
      pos += view.length;
    };
    for (const n of slots as number[]) {
      const part = { keys: new Uint32Array(3 * n), vals: new Uint32Array(2 * n), used: new Uint8Array(n) };
      await fill(part.keys);
      await fill(part.vals);
      await fill(part.used);
      parts.push(part);
    }
    if (digest.digest('hex') !== sha256) throw new Error('not the bytes written');
    return IdTable.fromParts(parts);
  } finally {
    await fh.close();
  }
}

/** Removes the state (a build that cannot record one: the next build is a full one). */
export async function dropState(root: string): Promise<void> {
  await fsp.rm(stateDir(root), { recursive: true, force: true });
}

/**
 * True when a published file still is what its manifest entry says: as stat saw it after the
 * publish, or else by its sha256 (hashed on this thread: hasha's hashing thread would load the
 * loader hooks relative to the working directory, which need not be the project's).
 */
async function unchangedSincePublish(
  root: string,
  entry: FileEntry,
  was: OutputStat | undefined,
): Promise<boolean> {
  const now = await statOf(root, entry.path);
  if (now === null || now.size !== entry.bytes) return false;
  if (sameStat(now, was, entry)) return true;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(join(root, entry.path))) h.update(chunk as Buffer);
  return h.digest('hex') === entry.sha256;
}

/** Reads a published JSONL file row by row in order, handing on or skipping runs of rows as bytes. */
class RowCursor {
  private buf = Buffer.alloc(0);
  private off = 0;
  private pos = 0;

  private constructor(
    private readonly fh: fsp.FileHandle,
    private readonly size: number,
    private readonly label: string,
  ) {}

  static async open(path: string, size: number, label: string): Promise<RowCursor> {
    return new RowCursor(await fsp.open(path, 'r'), size, label);
  }

  /** Takes the next `rows` rows: `sink` gets them as bytes (in pieces), or they are skipped (`sink` null). */
  async take(rows: number, sink: ((b: Buffer, rows: number) => Promise<void>) | null): Promise<void> {
    let left = rows;
    while (left > 0) {
      if (this.off >= this.buf.length) {
        if (this.pos >= this.size)
          throw new StalePrevious(`${this.label} has fewer rows than the last build recorded`);
        const len = Math.min(1 << 20, this.size - this.pos);
        const b = Buffer.allocUnsafe(len);
        const { bytesRead } = await this.fh.read(b, 0, len, this.pos);
        if (bytesRead <= 0) throw new StalePrevious(`${this.label} is shorter than its manifest entry`);
        this.buf = b.subarray(0, bytesRead);
        this.pos += bytesRead;
        this.off = 0;
      }
      const start = this.off;
      let n = 0;
      while (left > 0) {
        const nl = this.buf.indexOf(0x0a, this.off);
        if (nl < 0) {
          this.off = this.buf.length;
          break;
        }
        this.off = nl + 1;
        left--;
        n++;
      }
      if (sink && this.off > start) await sink(this.buf.subarray(start, this.off), n);
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Where the output files' rows come from in this build, and how each is made. */
interface PrevPart {
  /** The last build's [current file seq (-1: no longer listed), rows] in order. */
  segs: [number, number][];
  /** Segments taken so far (copied or skipped). */
  at: number;
  cursor: RowCursor | null;
}

/**
 * The output files of build-evidence (day partitions and quarantine files), written in build
 * order. In a full build every row is written as it comes. In an incremental one (`prev`), a file
 * is only written once a new row lands in it or at the end when its rows changed: before a new row
 * of source file `seq`, the rows the unchanged files before it contributed are copied from the
 * published file; an output file whose rows all come from unchanged files is linked.
 */
export class Parts {
  /** Per output file, [file seq, rows] of this build, in order (the next state's `parts`). */
  readonly segs = new Map<string, [number, number][]>();
  private readonly dirty = new Set<string>();
  private readonly touched = new Set<string>();
  private readonly prevParts = new Map<string, PrevPart>();
  private readonly outStats = new Map<string, OutputStat>();
  private readonly prevEntries = new Map<string, FileEntry>();
  written = 0;
  linked = 0;

  constructor(
    private readonly staged: StagedDir,
    private readonly inc: {
      root: string;
      previous: Previous;
      /** Current seq of the last build's file i (-1: not listed now). */
      seqOf: (prevFile: number) => number;
      /** True when the file at current seq `s` was reused (its rows unchanged). */
      reused: (s: number) => boolean;
    } | null,
  ) {
    for (const o of inc?.previous.state.outputs ?? []) this.outStats.set(o.path, o);
    for (const f of inc?.previous.manifest.files ?? []) this.prevEntries.set(f.path, f);
    if (inc)
      for (const [part, segs] of Object.entries(inc.previous.state.parts))
        this.prevParts.set(part, {
          segs: segs.map(([f, rows]) => [inc.seqOf(f), rows]),
          at: 0,
          cursor: null,
        });
  }

  /** An output file that must exist even with no rows (each stream's quarantine file). */
  touch(part: string): void {
    if (!this.inc) this.staged.writer(part);
    else this.touched.add(part);
  }

  /** Writes one row of the file at `seq` to `part`. */
  async row(part: string, seq: number, line: string): Promise<void> {
    if (this.inc && !this.dirty.has(part)) await this.open(part);
    await this.catchUp(part, seq);
    await this.staged.writer(part).writeLine(line);
    this.count(part, seq, 1);
  }

  private count(part: string, seq: number, rows: number): void {
    let s = this.segs.get(part);
    if (!s) this.segs.set(part, (s = []));
    const last = s[s.length - 1];
    if (last && last[0] === seq) last[1] += rows;
    else s.push([seq, rows]);
  }

  private async open(part: string): Promise<void> {
    this.dirty.add(part);
    this.written++;
    const p = this.prevParts.get(part);
    // rows of files still listed may have to be copied (whether they are reused is known once they are read)
    if (!this.inc || !p || p.segs.every(([s]) => s < 0)) return;
    const entry = this.entry(part);
    const was = this.outStats.get(entry.path);
    if (!(await unchangedSincePublish(this.inc.root, entry, was)))
      throw new StalePrevious(`${entry.path} does not match ${EVIDENCE_DIR}/${MANIFEST}`);
    p.cursor = await RowCursor.open(join(this.inc.root, entry.path), entry.bytes, entry.path);
  }

  private entry(part: string): FileEntry {
    const path = `${EVIDENCE_DIR}/${part}`;
    const e = this.prevEntries.get(path);
    if (!e) throw new StalePrevious(`${EVIDENCE_DIR}/${MANIFEST} lists no ${part}`);
    return e;
  }

  /** Copies the rows the unchanged files before `seq` contributed to `part` (skipping the others' old rows). */
  private async catchUp(part: string, seq: number): Promise<void> {
    const p = this.prevParts.get(part);
    if (!p || !this.inc) return;
    const w = this.staged.writer(part);
    while (p.at < p.segs.length) {
      const [s, rows] = p.segs[p.at] as [number, number];
      if (s >= seq) break; // a later file (or this one: its old rows are replaced)
      p.at++;
      if (!this.inc.reused(s)) {
        await p.cursor?.take(rows, null);
        continue;
      }
      if (!p.cursor) throw new Error(`build-evidence: no cursor for ${part}`);
      await p.cursor.take(rows, (b, n) => w.writeRows(b, n));
      this.count(part, s, rows);
    }
  }

  /** Ends every output file: the rest of the unchanged files' rows, or a link when nothing in it changed. */
  async finish(): Promise<void> {
    if (!this.inc) return;
    const { root, reused } = this.inc;
    const all = new Set([...this.prevParts.keys(), ...this.dirty, ...this.touched]);
    for (const part of [...all].sort()) {
      const p = this.prevParts.get(part);
      if (!this.dirty.has(part)) {
        const kept = p?.segs.filter(([s]) => reused(s)) ?? [];
        if (p && kept.length === p.segs.length && (kept.length > 0 || this.touched.has(part))) {
          const entry = this.entry(part);
          const was = this.outStats.get(entry.path);
          if (!(await unchangedSincePublish(root, entry, was)))
            throw new StalePrevious(`${entry.path} does not match ${EVIDENCE_DIR}/${MANIFEST}`);
          await this.staged.linkFile(part, join(root, entry.path), {
            sha256: entry.sha256,
            bytes: entry.bytes,
            rows: entry.rows,
          });
          if (kept.length > 0)
            this.segs.set(
              part,
              kept.map(([s, r]) => [s, r]),
            );
          this.linked++;
          continue;
        }
        if (kept.length === 0 && !this.touched.has(part)) continue; // every row it had is gone
        await this.open(part);
        this.staged.writer(part); // an empty quarantine file is still written
      }
      await this.catchUp(part, Number.MAX_SAFE_INTEGER);
      if (p?.cursor) await p.cursor.close();
    }
  }

  /** Closes what is still open (error path). */
  async abandon(): Promise<void> {
    for (const p of this.prevParts.values()) await p.cursor?.close().catch(() => undefined);
  }
}
