import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { globbySync } from 'globby';
import { build, onlyFails } from './fixture.ts';

/**
 * End to end through the runner's hook: a fault injected into one build's intermediate output (the
 * way a nondeterministic phase would write it) is caught by exactly the matching invariant.
 */

test('A16: a phase that writes its rows in input order (reversed sources → reversed rows) fails only the shuffled-input invariant', async () => {
  const built = await build(undefined, {
    afterPhase: ({ build: label, phase, root }) => {
      if (label !== 'shuffled' || phase !== 'score') return;
      // a scorer that forgot to sort: the shuffled build's rows come out in another order
      for (const rel of globbySync('data/scored-runs/20*/**/runs.jsonl', { cwd: root })) {
        const lines = readFileSync(join(root, rel), 'utf8')
          .split('\n')
          .filter((l) => l !== '');
        writeFileSync(join(root, rel), `${lines.reverse().join('\n')}\n`);
      }
    },
  });
  assert.equal(built.snapshot.builds.shuffled.exitCode, 0, built.snapshot.builds.shuffled.log);
  const detail = onlyFails(built.snapshot, 'A16');
  assert.match(
    detail,
    /^data\/scored-runs\/2026\/05\/1\d\/runs\.jsonl: sha256 differs \(first [0-9a-f]{12}…, shuffled [0-9a-f]{12}…\)/,
  );
  assert.doesNotMatch(
    detail,
    /data\/screened|exports\//,
    'screen sorts its input, so nothing downstream moved',
  );
});
