import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from '../helpers/project.ts';
import type { CatalogueCase } from './catalogue.ts';
import { FILE_CASES } from './cases-file.ts';
import { JSON_CASES } from './cases-json.ts';
import { PROCESS_CASES } from './cases-process.ts';
import { SEMANTIC_CASES } from './cases-semantic.ts';

/**
 * The bad-input catalogue (RELIABILITY.md §5, #1..#64) is covered case by case: every id appears
 * exactly once, in its section, with a test here, a named test elsewhere (which must exist), or a
 * stated reason it is pending; docs/reliability.md has a row for each.
 */

const SECTIONS: [string, CatalogueCase[], number, number][] = [
  ['A file', FILE_CASES, 1, 19],
  ['B json', JSON_CASES, 20, 38],
  ['C semantic', SEMANTIC_CASES, 39, 57],
  ['D process', PROCESS_CASES, 58, 64],
];
const ALL = SECTIONS.flatMap(([, cases]) => cases);

test('catalogue: ids #1..#64, each exactly once and in its section', () => {
  assert.deepEqual(
    ALL.map((c) => c.id),
    Array.from({ length: 64 }, (_, i) => i + 1),
  );
  for (const [name, cases, lo, hi] of SECTIONS)
    for (const c of cases) assert.ok(c.id >= lo && c.id <= hi, `#${c.id} is not in section ${name}`);
});

test('catalogue: every case is tested here, tested in a named test that exists, or pending with a reason', () => {
  for (const c of ALL) {
    const kinds = [c.run !== undefined, c.elsewhere !== undefined, c.pending !== undefined].filter(
      Boolean,
    ).length;
    assert.equal(kinds, 1, `#${c.id}: exactly one of run / elsewhere / pending`);
    assert.ok(c.input && c.disposition, `#${c.id}: input and disposition`);
    if (c.elsewhere) {
      const path = join(REPO, c.elsewhere.file);
      assert.ok(existsSync(path), `#${c.id}: ${c.elsewhere.file} exists`);
      const src = readFileSync(path, 'utf8').replace(/\\'/g, "'");
      assert.ok(
        src.includes(`test('${c.elsewhere.test}'`) ||
          src.includes(`test(${JSON.stringify(c.elsewhere.test)}`),
        `#${c.id}: ${c.elsewhere.file} has the test "${c.elsewhere.test}"`,
      );
    }
    if (c.pending) assert.ok(c.pending.length > 20, `#${c.id}: say why it is pending`);
  }
});

test('catalogue: docs/reliability.md has a coverage row for every case, with its status', (t) => {
  const doc = readFileSync(join(REPO, 'docs/reliability.md'), 'utf8');
  for (const c of ALL) {
    const row = doc.split('\n').find((l) => l.startsWith(`| ${c.id} |`));
    assert.ok(row, `docs/reliability.md has no row "| ${c.id} | ..."`);
    const status = c.pending ? 'pending' : 'tested';
    assert.ok(row.includes(status), `#${c.id}: the docs row says "${status}": ${row}`);
  }
  const here = ALL.filter((c) => c.run).length;
  const elsewhere = ALL.filter((c) => c.elsewhere).length;
  const pending = ALL.filter((c) => c.pending);
  t.diagnostic(
    `catalogue: ${ALL.length} cases; ${here + elsewhere} tested (${here} in catalogue-*.test.ts, ${elsewhere} in their own test files), ${pending.length} pending: ${pending.map((c) => `#${c.id}`).join(', ')}`,
  );
  t.diagnostic(
    `deviations noted: ${ALL.filter((c) => c.note)
      .map((c) => `#${c.id}`)
      .join(', ')}`,
  );
  assert.equal(here + elsewhere + pending.length, 64);
});
