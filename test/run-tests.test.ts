import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { REPO } from './helpers/project.ts';

/**
 * npm test's runner (test/helpers/run-tests.mjs) gives node --test the compiled .js of each test
 * file, whose process then loads compiled modules without module hooks; a .ts test file given to
 * `node --import ./test/helpers/compiled.mjs --test` by hand runs through the hooks.
 */

interface Probe {
  entry: string;
  out: string;
  source: string;
  resolved: string;
}

function probe(argv: string[]): Probe {
  const r = spawnSync(
    process.execPath,
    [...argv, '--test-reporter=tap', 'test/fixtures/run-tests/probe.ts'],
    {
      cwd: REPO,
      encoding: 'utf8',
      // without node:test's context variable, or the inner run reports to this one instead of printing
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, DISTILL_TSX: '' },
    },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const line = /PROBE (\{.*\})/.exec(r.stdout)?.[1];
  assert.ok(line, r.stdout);
  return JSON.parse(line) as Probe;
}

test('npm test runs the compiled test file without module hooks; a .ts file given by hand runs through them', () => {
  const direct = probe(['test/helpers/run-tests.mjs']);
  assert.ok(direct.out.startsWith('file://'), 'the build is recorded for worker threads');
  assert.equal(
    pathToFileURL(realpathSync(direct.entry)).href,
    `${direct.out}test/fixtures/run-tests/probe.js`,
  );
  assert.equal(direct.source, pathToFileURL(join(REPO, 'test/fixtures/run-tests/probe.ts')).href);
  assert.equal(direct.resolved, direct.source, 'no hooks: a .ts URL resolves to itself');

  const hooked = probe(['--import', './test/helpers/compiled.mjs', '--test']);
  assert.equal(hooked.entry, join(REPO, 'test/fixtures/run-tests/probe.ts'));
  assert.equal(hooked.resolved, `${hooked.out}test/fixtures/run-tests/probe.js`, 'the hooks map .ts to .js');
});
