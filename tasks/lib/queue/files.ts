import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Writes a job file in the shared folder: a temp file beside it, then a rename, so a reader on any
 * machine sees the whole file or none (a worker killed mid-write leaves only a temp file, and its
 * retry writes the same bytes). No fsync: the files live for one phase run, and a crash of the
 * machine that wrote one fails or retries the job. Not lib/fs-atomic's writeFileAtomic: its temp
 * name and stale-temp sweep go by pid, which is not unique across the machines sharing the folder
 * (a random temp name is), and its fsyncs buy nothing for a file the next attempt rewrites.
 */
export async function writeJobFile(path: string, data: Uint8Array): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
