import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testsGate } from '../../tasks/gates/release/gates.ts';
import { parseTestOutput } from '../../tasks/gates/release/runners.ts';
import { REPO } from '../helpers/project.ts';

/** The npm test reporter run by node:test over two small test files, one noisy and passing, one failing. */
function runReporter(): { code: number | null; out: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'distill-reporter-'));
  writeFileSync(
    join(dir, 'noisy.test.mjs'),
    [
      "import { test } from 'node:test';",
      "test('prints a child transcript', () => { console.log('TRANSCRIPT LINE from a child process'); });",
      "test('optional', { skip: 'no real traces here' }, () => {});",
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'broken.test.mjs'),
    [
      "import { test } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "test('passes', () => {});",
      "test('group', async (t) => { await t.test('adds', () => { console.error('stderr of the failing file'); assert.equal(1 + 1, 3); }); });",
    ].join('\n'),
  );
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-reporter=${join(REPO, 'tasks/dev/test-reporter.mjs')}`,
      '--test-reporter-destination=stdout',
      '--test-concurrency=1',
      'broken.test.mjs',
      'noisy.test.mjs',
    ],
    // without node:test's context variable, or the inner run reports to this one instead of printing
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  return { code: r.status, out: r.stdout, dir };
}

test('npm test reporter: one line per file, failures with their message and output, transcripts of passing files kept out, the plain total last', () => {
  const { code, out, dir } = runReporter();
  assert.equal(code, 1, out);
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0] as string, /^running 2 test files, 1 at a time$/);
  assert.match(out, /^✖ \[1\/2 +0:\d\d\] broken\.test\.mjs {2}1 passed, 1 failed {2}\d+\.\d s$/m);
  assert.match(out, /^ {6}✖ group › adds: Expected values to be strictly equal:/m);
  assert.match(out, /^ {8}stderr of the failing file$/m, "a failed file's output is shown");
  assert.match(out, /^✔ \[2\/2 +0:\d\d\] noisy\.test\.mjs {2}1 passed, 1 skipped {2}\d+\.\d s$/m);
  assert.ok(!out.includes('TRANSCRIPT LINE'), "a passing file's output stays out of the test output");
  assert.match(out, /^ {2}1 × no real traces here$/m);
  assert.match(out, /^failed tests:\n {2}✖ broken\.test\.mjs › group › adds$/m);
  assert.equal(lines.at(-1), 'tests: 2 passed, 1 failed, 1 skipped');
  const transcript = readFileSync(join(dir, '.distill/test-transcripts.log'), 'utf8');
  assert.match(transcript, /\[noisy\.test\.mjs stdout\] TRANSCRIPT LINE from a child process/);
  // release-freeze's tests gate reads the same output
  const facts = parseTestOutput(code, out);
  assert.deepEqual(facts.counts, { tests: 4, pass: 2, fail: 1, skipped: 1 });
  assert.deepEqual(facts.failures, ['broken.test.mjs › group › adds']);
  assert.equal(
    testsGate(facts).detail,
    'npm test exited 1 (1 of 4 tests fail); failing: broken.test.mjs › group › adds; run `npm test` and fix them',
  );
});

test('npm test runs the reporter', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.match(
    pkg.scripts['test'] as string,
    /--test-reporter=\.\/tasks\/dev\/test-reporter\.mjs --test-reporter-destination=stdout/,
  );
});
