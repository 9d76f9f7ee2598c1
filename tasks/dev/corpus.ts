import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCorpus, type CorpusOptions } from './corpus/generate.ts';
import { STREAMS, type Stream } from './corpus/streams.ts';
import { UserError } from '../lib/result.ts';

/**
 * Shell of the sample-corpus generator: parses arguments, streams the seeded core's rows to one
 * file per stream and day under the output dir, prints one summary line.
 *
 *   npm run corpus -- --records 1200 --out data/_kb [--seed 7] [--start-date 2026-10-01] [--days 30] [--force]
 */

const USAGE =
  'usage: npm run corpus -- [--records N] [--out DIR] [--seed S] [--start-date YYYY-MM-DD] [--days D] [--force] [--json]';
const FLUSH_AT = 1 << 18;

/** What the generator wrote. */
export interface CorpusSummary {
  out: string;
  rows: Record<Stream, number>;
  files: number;
  bytes: number;
}

/** Appends text to one file through a buffer, honouring stream back-pressure. */
class BufferedFile {
  private parts: string[] = [];
  private size = 0;
  private readonly ws: WriteStream;

  constructor(path: string) {
    this.ws = createWriteStream(path, { flags: 'wx' });
  }

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const data = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.ws.write(data)) await once(this.ws, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.ws.end();
    await once(this.ws, 'finish');
  }
}

/** Removes the generator's stream folders, after checking that --force allows it. */
async function prepareOut(out: string, force: boolean): Promise<void> {
  for (const s of STREAMS) {
    const dir = join(out, s);
    const entries = await readdir(dir).catch(() => [] as string[]);
    if (entries.length === 0) continue;
    if (!force)
      throw new UserError(
        'OUTPUT_EXISTS',
        `corpus: ${dir} already has ${entries.length} file(s); pass --force to replace the generated stream folders (other files in ${out} are left alone)`,
      );
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Generates the corpus into `out`, streaming; never holds more than a buffer per open file.
 * `only` writes just those streams (the others are generated, so the kept rows are the same as in
 * a full corpus, but not written or counted): the bench uses it for one big file of one stream.
 */
export async function writeCorpus(
  out: string,
  options: CorpusOptions,
  force = false,
  only: readonly Stream[] | null = null,
): Promise<CorpusSummary> {
  await prepareOut(out, force);
  const rows = Object.fromEntries(STREAMS.map((s) => [s, 0])) as Record<Stream, number>;
  const open = new Map<string, BufferedFile>();
  let files = 0;
  let bytes = 0;
  const closeAll = async (): Promise<void> => {
    for (const f of open.values()) await f.close();
    open.clear();
  };
  for (const chunk of generateCorpus(options)) {
    if (chunk.type === 'end-of-day') {
      await closeAll(); // one file per stream and day: a finished day's files are done
      continue;
    }
    if (only && !only.includes(chunk.stream)) continue;
    let f = open.get(chunk.path);
    if (!f) {
      const path = join(out, chunk.path);
      await mkdir(dirname(path), { recursive: true });
      f = new BufferedFile(path);
      open.set(chunk.path, f);
      files++;
    }
    await f.write(chunk.text);
    rows[chunk.stream] += chunk.rows;
    bytes += Buffer.byteLength(chunk.text);
  }
  await closeAll();
  return { out, rows, files, bytes };
}

function parseOptions(argv: string[]): {
  out: string;
  options: CorpusOptions;
  force: boolean;
  json: boolean;
} {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        records: { type: 'string', default: '1200' },
        out: { type: 'string', default: 'data/_kb' },
        seed: { type: 'string', default: '7' },
        'start-date': { type: 'string', default: '2026-10-01' },
        days: { type: 'string', default: '30' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UserError('USAGE', `corpus: ${(e as Error).message}\n${USAGE}`);
  }
  const int = (name: string, v: string, min: number): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v)))
      throw new UserError('USAGE', `corpus: --${name} expects an integer >= ${min}, got "${v}"\n${USAGE}`);
    return Number(v);
  };
  const start = values['start-date'];
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(start);
  if (!m || new Date(`${start}T00:00:00Z`).toISOString().slice(0, 10) !== start) {
    throw new UserError(
      'USAGE',
      `corpus: --start-date expects a real date as YYYY-MM-DD, got "${start}"\n${USAGE}`,
    );
  }
  return {
    out: values.out,
    options: {
      records: int('records', values.records, 1),
      seed: int('seed', values.seed, 0),
      startDate: start,
      days: int('days', values.days, 1),
    },
    force: values.force,
    json: values.json,
  };
}

/** CLI entry: returns the process exit code. */
export async function runCorpusCli(argv: string[]): Promise<number> {
  try {
    const { out, options, force, json } = parseOptions(argv);
    const summary = await writeCorpus(resolve(out), options, force);
    const total = Object.values(summary.rows).reduce((a, b) => a + b, 0);
    const per = STREAMS.map((s) => `${s} ${summary.rows[s].toLocaleString('en-US')}`).join(', ');
    process.stderr.write(
      `✔ corpus: ${total.toLocaleString('en-US')} rows in ${summary.files} files → ${relative(process.cwd(), summary.out) || '.'} (seed ${options.seed}, ${options.days} days from ${options.startDate}): ${per}\n`,
    );
    if (json)
      process.stdout.write(`${JSON.stringify({ ...summary, out: relative(process.cwd(), summary.out) })}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`✖ ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await runCorpusCli(process.argv.slice(2));
}
