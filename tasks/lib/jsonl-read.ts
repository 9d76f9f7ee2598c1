import { createReadStream } from 'node:fs';
import { join } from 'node:path';

/**
 * Streams the rows of JSONL files that this project wrote itself (already validated on the way
 * out), in the order given. Reads in chunks and splits on LF, so memory is bounded by one chunk
 * plus one row.
 */
export async function* readJsonlFiles<T>(root: string, files: readonly string[]): AsyncGenerator<T> {
  for (const f of files) {
    let carry = '';
    for await (const chunk of createReadStream(join(root, f), { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const text = carry + (chunk as string);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        if (nl > start) yield JSON.parse(text.slice(start, nl)) as T;
        start = nl + 1;
      }
      carry = text.slice(start);
    }
    if (carry) yield JSON.parse(carry) as T;
  }
}
