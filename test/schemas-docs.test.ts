import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMA_VERSION as SFT_VERSION } from '../schemas/sft-sample.ts';
import {
  SCHEMA_DOCS_DIR,
  jsonSchemas,
  kebab,
  renderSchemaDocs,
  writeSchemaDocs,
} from '../tasks/dev/gen-schemas.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, SCHEMA_DOCS_DIR);

const EXPECTED_NAMES = [
  'audit-baseline-entry',
  'chat-message',
  'distill-config',
  'drift-report',
  'evidence-record',
  'kto-sample',
  'preference-sample',
  'provenance',
  'quarantine-record',
  'rag-sample',
  'release-manifest',
  'replay-call',
  'run-summary',
  'scored-run',
  'sft-sample',
  'stage-receipt',
];

/** Path of the first object whose keys are not in sorted order, or null. */
function unsortedAt(v: unknown, path = '$'): string | null {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = unsortedAt(v[i], `${path}[${i}]`);
      if (r) return r;
    }
  } else if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.join('\u0000') !== [...keys].sort().join('\u0000')) return path;
    for (const k of keys) {
      const r = unsortedAt((v as Record<string, unknown>)[k], `${path}.${k}`);
      if (r) return r;
    }
  }
  return null;
}

test('there is one JSON Schema per record type, named in kebab-case', () => {
  assert.deepEqual([...jsonSchemas().keys()], EXPECTED_NAMES);
  assert.deepEqual(
    [kebab('EvidenceRecord'), kebab('DistillConfig'), kebab('SftSample'), kebab('ABCRecord')],
    ['evidence-record', 'distill-config', 'sft-sample', 'abc-record'],
  );
});

test('the committed docs/schemas files are up to date (run `npm run schemas` if this fails)', () => {
  const expected = renderSchemaDocs();
  const onDisk = readdirSync(DOCS).sort();
  assert.deepEqual(
    onDisk,
    [...expected.keys()],
    `${SCHEMA_DOCS_DIR}/ holds missing or extra files; run npm run schemas`,
  );
  for (const [file, text] of expected) {
    const actual = readFileSync(join(DOCS, file), 'utf8');
    assert.ok(
      actual === text,
      `${SCHEMA_DOCS_DIR}/${file} is stale; run npm run schemas and commit the result`,
    );
  }
});

test('generation is deterministic and the JSON is sorted, 2-space indented, newline-terminated', () => {
  const a = renderSchemaDocs();
  const b = renderSchemaDocs();
  assert.deepEqual([...a], [...b]);
  for (const [name, text] of jsonSchemas()) {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.equal(text, `${JSON.stringify(parsed, null, 2)}\n`, name);
    assert.equal(unsortedAt(parsed), null, `${name}: keys not sorted`);
    assert.equal(parsed['$schema'], 'https://json-schema.org/draft/2020-12/schema', name);
    assert.match(
      String(parsed['$comment']),
      /^Generated from schemas\/[a-z-]+\.ts \(SCHEMA_VERSION [1-9]\d*\) by `npm run schemas`; do not edit\.$/,
      name,
    );
  }
});

test('the SFT schema allows only the two trainable quality scores', () => {
  const sft = JSON.parse(jsonSchemas().get('sft-sample') as string) as {
    title: string;
    additionalProperties: boolean;
    properties: Record<string, { enum?: string[] }>;
  };
  assert.equal(sft.title, 'SftSample');
  assert.equal(sft.additionalProperties, false);
  assert.deepEqual(sft.properties['quality_score']?.enum, ['accepted', 'partially_accepted']);
});

test('the config schema describes the file people write: defaulted fields are optional', () => {
  const cfg = JSON.parse(jsonSchemas().get('distill-config') as string) as {
    required: string[];
    properties: Record<string, { default?: unknown }>;
  };
  assert.deepEqual(cfg.required, ['schema_version', 'as_of', 'sources']);
  assert.equal(cfg.properties['future_skew_hours']?.default, 24);
});

test('the README links every schema file and names its source', () => {
  const readme = renderSchemaDocs().get('README.md') as string;
  for (const name of EXPECTED_NAMES)
    assert.ok(readme.includes(`[${name}.schema.json](${name}.schema.json)`), name);
  assert.ok(
    readme.includes(
      `| SftSample | [sft-sample.schema.json](sft-sample.schema.json) | \`schemas/sft-sample.ts\` | ${SFT_VERSION} |`,
    ),
  );
  assert.ok(readme.endsWith('\n'));
});

test('writeSchemaDocs writes every file and removes stale generated schemas only', async (t) => {
  const root = await fsp.mkdtemp(join(tmpdir(), 'distill-schemas-'));
  t.after(() => fsp.rm(root, { recursive: true, force: true }));
  const dir = join(root, SCHEMA_DOCS_DIR);
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(join(dir, 'old-record.schema.json'), '{}\n');
  await fsp.writeFile(join(dir, 'notes.txt'), 'keep me\n');
  const res = await writeSchemaDocs(root);
  assert.deepEqual(res, { written: EXPECTED_NAMES.length + 1, removed: ['old-record.schema.json'] });
  const expected = renderSchemaDocs();
  assert.deepEqual((await fsp.readdir(dir)).sort(), [...expected.keys(), 'notes.txt'].sort());
  for (const [file, text] of expected) assert.equal(await fsp.readFile(join(dir, file), 'utf8'), text, file);
});
