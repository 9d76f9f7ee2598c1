import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { globbySync } from 'globby';
import { DistillConfig } from '../schemas/config.ts';
import { getAdapter } from '../tasks/adapters/registry.ts';
import { STREAMS } from '../tasks/dev/corpus/streams.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const config = DistillConfig.parse(
  JSON.parse(readFileSync(resolve(repoRoot, 'distill.config.json'), 'utf8')),
);

test('config: distill.config.json is valid, dated before its sample, with no eval sets yet', () => {
  assert.equal(config.schema_version, 1);
  assert.equal(config.as_of, '2026-11-01T00:00:00.000Z');
  assert.deepEqual(config.eval_sets, []);
});

test('config: one source per generated stream, each naming a registered adapter', () => {
  assert.deepEqual(config.sources.map((s) => s.stream).sort(), [...STREAMS].sort());
  for (const s of config.sources)
    assert.ok(getAdapter(s.adapter), `${s.stream}: adapter "${s.adapter}" is not registered`);
});

test('config: every source glob matches committed sample files', () => {
  for (const s of config.sources) {
    const files = globbySync(s.files, { cwd: repoRoot });
    assert.ok(files.length > 0, `${s.stream}: ${s.files.join(', ')} matches no file`);
  }
});
