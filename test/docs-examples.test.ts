import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { docFiles, refresh } from '../tasks/dev/doc-examples.ts';
import { REPO } from './helpers/project.ts';

test('every doc example block is what its command prints today (npm run docs:examples regenerates them)', () => {
  let blocks = 0;
  for (const f of docFiles(REPO)) {
    const text = readFileSync(join(REPO, f), 'utf8');
    blocks += (text.match(/<!-- example: npx distill /g) ?? []).length;
    assert.deepEqual(refresh(REPO, text).stale, [], `${f}: stale example; run \`npm run docs:examples\``);
  }
  assert.ok(blocks >= 1, 'the exit-code table of docs/recovery-runbook.md is an example block');
});
