import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The floor of the bench: the least any pipeline must do with the corpus, i.e. read every source
 * file once and JSON.parse every line (a JSON array file: parse it whole), nothing else. Run as its
 * own process, like every phase, so it pays the same start-up.
 *
 *   tsx tasks/dev/bench/floor.ts <dir>   → prints {"rows":…,"bytes":…,"files":…,"seconds":…} on stdout
 *
 * `seconds` is the pass alone, without process start-up: the floor is what reading and parsing
 * cost, the strictest yardstick for the pipeline (whose phases each pay their start-up).
 */

/** Every file under `dir`, sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** Reads and parses every row under `dir`; returns what it saw. */
export async function floorPass(
  dir: string,
): Promise<{ files: number; rows: number; bytes: number; unparsed: number; seconds: number }> {
  const t0 = performance.now();
  const files = listFiles(dir);
  let rows = 0;
  let bytes = 0;
  let unparsed = 0;
  const parse = (text: string): void => {
    rows++;
    try {
      JSON.parse(text);
    } catch {
      unparsed++; // the corpus holds deliberately bad rows
    }
  };
  for (const f of files) {
    if (f.endsWith('.json')) {
      const text = readFileSync(f, 'utf8');
      bytes += Buffer.byteLength(text);
      try {
        const v: unknown = JSON.parse(text);
        rows += Array.isArray(v) ? v.length : 1;
      } catch {
        unparsed++;
      }
      continue;
    }
    bytes += statSync(f).size;
    let carry = '';
    for await (const chunk of createReadStream(f, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const text = carry + (chunk as string);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        if (nl > start) parse(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
    }
    if (carry !== '') parse(carry);
  }
  return { files: files.length, rows, bytes, unparsed, seconds: (performance.now() - t0) / 1000 };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx tasks/dev/bench/floor.ts <dir>');
  process.stdout.write(`${JSON.stringify(await floorPass(dir))}\n`);
}
