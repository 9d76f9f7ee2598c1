import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inProcess } from '../helpers/project.ts';
import { FIXTURE, tempDir } from './fixture.ts';

/** `distill acceptance` as people and wireit run it: the verdict, the exit code and the two reports. */

const readJson = (p: string): Record<string, unknown> =>
  JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

test('distill acceptance: 22/22 on the gate fixture, exit 0, acceptance.json in the shape audit-full reads, a report listing all 22', async () => {
  const out = tempDir('distill-acceptance-report-');
  const r = await inProcess(['acceptance', '--report-dir', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^✔ A01 source-lines-accounted\n/);
  assert.match(
    r.stderr,
    /\n22\/22 passed\n✔ acceptance: 22\/22 invariants hold on test\/fixtures\/acceptance \(3 builds, [\d.]+ s\); report: /,
  );
  const json = readJson(join(out, 'acceptance.json'));
  assert.deepEqual(Object.keys(json), [
    'schema_version',
    'passed',
    'total',
    'invariants',
    'fixture_sha256',
    'code_version',
  ]);
  assert.equal(json['schema_version'], 1);
  assert.equal(json['passed'], 22);
  assert.equal(json['total'], 22);
  assert.match(String(json['fixture_sha256']), /^[0-9a-f]{64}$/);
  assert.notEqual(json['code_version'], '');
  const invariants = json['invariants'] as Record<string, unknown>[];
  assert.equal(invariants.length, 22);
  for (const i of invariants) assert.deepEqual(Object.keys(i), ['id', 'name', 'ok', 'detail']);
  const md = readFileSync(join(out, 'phase6-acceptance-report.md'), 'utf8');
  assert.match(md, /^# Phase 6 acceptance report\n\n\*\*22\/22 invariants pass\*\*\./);
  assert.equal(md.split('\n').filter((l) => /^\| A\d\d \| /.test(l)).length, 22);
  assert.match(
    md,
    /\n\| A16 \| shuffled-input-byte-identical \| a build with the sources and globs in reverse order gives byte-identical outputs \| pass \| /,
  );
});

test('distill acceptance on a fixture whose pins are off: exit 1, names the failing invariant with the numbers, 21/22', async () => {
  const fixture = join(tempDir('distill-acceptance-broken-'), 'fixture');
  cpSync(FIXTURE, fixture, { recursive: true });
  const expected = readJson(join(fixture, 'expected.json'));
  (expected['categories'] as Record<string, number>)['accepted'] = 25;
  writeFileSync(join(fixture, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
  const out = tempDir('distill-acceptance-report-');
  const r = await inProcess(['acceptance', '--fixture', fixture, '--report-dir', out, '--json']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\n✖ A03 category-and-rule-counts: category accepted: 24, expected 25\n/);
  assert.match(r.stderr, /\n21\/22 passed\n✖ acceptance: 21\/22 invariants hold on /);
  const json = JSON.parse(r.stdout) as { passed: number; invariants: { id: string; ok: boolean }[] };
  assert.equal(json.passed, 21);
  assert.deepEqual(
    json.invariants.filter((i) => !i.ok).map((i) => i.id),
    ['A03'],
  );
  assert.deepEqual(readJson(join(out, 'acceptance.json')), json as unknown as Record<string, unknown>);
  assert.match(
    readFileSync(join(out, 'phase6-acceptance-report.md'), 'utf8'),
    /\*\*21\/22 invariants pass\*\* — failing: A03 category-and-rule-counts\./,
  );
});

test('distill acceptance refuses a folder that is not a fixture (exit 2, says which)', async () => {
  const dir = tempDir('distill-acceptance-nofixture-');
  const r = await inProcess(['acceptance', '--fixture', dir]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /has no distill\.config\.json: not an acceptance fixture \(the gate's own is test\/fixtures\/acceptance\/\)/,
  );
});
