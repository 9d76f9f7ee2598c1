import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sigHash } from '../tasks/lib/hash.ts';
import { parseRow } from '../tasks/lib/json-check.ts';
import {
  openSource,
  readArrayElements,
  readDocument,
  readLines,
  type FileRefusal,
  type SourceUnit,
} from '../tasks/lib/source-reader.ts';
import { builtProject } from './helpers/built.ts';

interface Prov {
  source_file: string;
  line_offset: number;
  locator?: string;
  sig_hash: string;
}

/** sig_hash of every unit of a source file, by index; read once per file. */
async function sourceHashes(
  root: string,
  file: string,
  locator: string | undefined,
): Promise<Map<number, string>> {
  const opened = await openSource(join(root, file));
  assert.ok(opened.ok, file);
  const src = opened.src;
  const out = new Map<number, string>();
  try {
    const reader: AsyncGenerator<SourceUnit | FileRefusal> =
      locator === undefined
        ? readLines(src, 1 << 24)
        : locator.startsWith('$[')
          ? readArrayElements(src, 1 << 24)
          : readDocument(src, 1 << 28);
    for await (const u of reader) {
      if (!('index' in u) || u.text === null) continue;
      const p = parseRow(u.text, { maxDepth: 64 });
      if (p.ok) out.set(u.index, sigHash(p.value));
    }
  } finally {
    await src.fh.close();
  }
  return out;
}

test('every row of every export of the bundled corpus walks back to a real source line whose hash matches', async () => {
  // every phase run once, one command each (a copy of the suite's template, test/helpers/built.ts)
  const dir = await builtProject('all');
  // every day shard of an export family, `<family>/<shard>.jsonl`
  const read = (family: string) =>
    readdirSync(join(dir, family))
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(dir, family, f), 'utf8').split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const provs: { id: string; p: Prov }[] = [];
  for (const r of read('exports/sft/instruction_response')) provs.push({ id: r.id, p: r.provenance });
  for (const r of read('exports/rag/documents')) provs.push({ id: r.id, p: r.provenance });
  for (const r of read('exports/preference/unpaired_kto')) provs.push({ id: r.id, p: r.provenance });
  for (const r of read('exports/preference/chosen_rejected')) {
    provs.push({ id: `${r.id} chosen`, p: r.chosen_provenance });
    provs.push({ id: `${r.id} rejected`, p: r.rejected_provenance });
  }
  assert.ok(provs.length > 500, `only ${provs.length} export rows`);
  const cache = new Map<string, Map<number, string>>();
  let checked = 0;
  for (const { id, p } of provs) {
    assert.ok(
      !p.source_file.startsWith('/') && !p.source_file.includes('..'),
      `${id}: ${p.source_file} is not a relative project path`,
    );
    let hashes = cache.get(p.source_file);
    if (!hashes) cache.set(p.source_file, (hashes = await sourceHashes(dir, p.source_file, p.locator)));
    assert.equal(
      hashes.get(p.line_offset),
      p.sig_hash,
      `${id}: ${p.source_file}:${p.line_offset} does not hash to ${p.sig_hash}`,
    );
    checked++;
  }
  assert.equal(checked, provs.length);
});
