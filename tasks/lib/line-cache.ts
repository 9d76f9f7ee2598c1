import { createWriteStream, existsSync, promises as fsp, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { jsonlLines } from './jsonl-read.ts';
import { Utf8Chunks } from './utf8-chunks.ts';

/**
 * A phase's cache of per-input-file results, one text file of lines per key under
 * `.distill/cache/<phase>/` (never an output: wireit does not track it, `distill verify` does not
 * read it). The key must hash everything the lines depend on. An entry is written to a temp file
 * and renamed into place, so a crash leaves no half entry; entries that the last successful run
 * neither read nor wrote are removed by `prune`.
 */
export interface LineCacheWriter {
  add(line: string): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export class LineCache {
  private readonly used = new Set<string>();

  private constructor(readonly dir: string) {}

  /** The cache folder of `phase` (created if missing). */
  static async open(root: string, phase: string): Promise<LineCache> {
    const dir = join(root, '.distill', 'cache', phase);
    await fsp.mkdir(dir, { recursive: true });
    return new LineCache(dir);
  }

  private path(key: string): string {
    return join(this.dir, `${key}.lines`);
  }

  /** True when `key` is cached (and marks the entry as used). */
  has(key: string): boolean {
    if (!existsSync(this.path(key))) return false;
    this.used.add(key);
    return true;
  }

  /** The lines of `key`, in order. */
  async *read(key: string): AsyncGenerator<string> {
    for await (const { text } of jsonlLines(this.path(key))) yield text;
  }

  /** A writer for `key` (lines must not contain a newline). */
  writer(key: string): LineCacheWriter {
    const tmp = `${this.path(key)}.tmp-${process.pid}`;
    let ws: WriteStream | null = null;
    const write = async (data: Buffer): Promise<void> => {
      ws ??= createWriteStream(tmp);
      if (!ws.write(data)) await once(ws, 'drain');
    };
    const out = new Utf8Chunks(write);
    return {
      add: (line) => out.line(line),
      commit: async () => {
        await out.flush();
        ws ??= createWriteStream(tmp);
        ws.end();
        await once(ws, 'finish');
        await fsp.rename(tmp, this.path(key));
        this.used.add(key);
      },
      discard: async () => {
        ws?.destroy();
        await fsp.rm(tmp, { force: true });
      },
    };
  }

  /** Removes every entry this run neither read nor wrote, and temp files of earlier runs. */
  async prune(): Promise<void> {
    for (const name of await fsp.readdir(this.dir)) {
      const m = /^([0-9a-f]{64})\.lines$/.exec(name);
      if (m && this.used.has(m[1] as string)) continue;
      if (!m && name.endsWith(`.tmp-${process.pid}`)) continue;
      await fsp.rm(join(this.dir, name), { force: true });
    }
  }
}
