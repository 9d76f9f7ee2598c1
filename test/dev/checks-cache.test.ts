import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { REPO } from '../helpers/project.ts';

test('format:check on its warm cache still fails on a file prettier cannot parse, and recovers from a broken cache file', (t) => {
  if (process.platform === 'win32') return t.skip('the npm scripts are sh');
  // prettier 3 (prettier/prettier#19085, open): a file cached as formatted and then edited into a
  // syntax error is reported once, and the run leaves its new content in the cache under the old
  // entry, so the next --cache run passes it. format:check drops the cache when a check fails.
  const script = (
    JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts['format:check'] as string;
  const dir = mkdtempSync(join(tmpdir(), 'distill-format-cache-'));
  try {
    // a checkout of its own (its node_modules/.cache, not the repository's), prettier from the repository
    for (const f of ['.prettierrc.json', '.prettierignore']) copyFileSync(join(REPO, f), join(dir, f));
    mkdirSync(join(dir, 'node_modules'));
    mkdirSync(join(dir, 'tasks'));
    const file = join(dir, 'tasks', 'a.ts');
    const check = (): number | null => {
      const r = spawnSync('sh', ['-c', script], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${join(REPO, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
        },
      });
      return r.status;
    };
    writeFileSync(file, "export const a = 'x';\n");
    assert.equal(check(), 0, 'formatted, cold');
    assert.equal(check(), 0, 'formatted, warm');
    writeFileSync(file, 'export const a = ;\n');
    assert.notEqual(check(), 0, 'a syntax error, first run');
    assert.notEqual(check(), 0, 'a syntax error, second run');
    writeFileSync(file, 'export const a = "x";\n');
    assert.notEqual(check(), 0, 'unformatted');
    assert.notEqual(check(), 0, 'unformatted, second run');
    writeFileSync(file, "export const a = 'x';\n");
    assert.equal(check(), 0, 'formatted again');
    writeFileSync(join(dir, 'node_modules', '.cache', 'distill', 'checks', 'prettier-cache'), '[["1"');
    assert.notEqual(check(), 0, 'a cache file cut short (prettier: "isn\'t a valid JSON file")');
    assert.equal(check(), 0, 'the next run checks from scratch');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
