import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from './fs-atomic.ts';
import { trackTemp, untrackTemp } from './stop.ts';

/**
 * A phase's scratch folder for spill files (hash partitions, external-sort runs):
 * `<root>/.distill/scratch/<phase>.tmp-<pid>/`. Never an output: it is removed when the phase
 * ends, and a dead process's leftovers are removed when the next one starts.
 */
export class Scratch {
  private constructor(readonly dir: string) {}

  /** Creates a fresh scratch folder for `phase`, removing those of dead processes. */
  static async create(root: string, phase: string): Promise<Scratch> {
    const base = join(root, '.distill', 'scratch');
    await fsp.mkdir(base, { recursive: true });
    for (const name of await fsp.readdir(base)) {
      const m = /\.tmp-(\d+)$/.exec(name);
      if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1])))
        await fsp.rm(join(base, name), { recursive: true, force: true });
    }
    const dir = join(base, `${phase}.tmp-${process.pid}`);
    await fsp.rm(dir, { recursive: true, force: true });
    trackTemp(dir);
    await fsp.mkdir(dir, { recursive: true });
    return new Scratch(dir);
  }

  /** Absolute path of a file in the scratch folder. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Removes the folder and everything in it. */
  async remove(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
    untrackTemp(this.dir);
  }
}
