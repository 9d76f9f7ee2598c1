import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliInProcess, ls, tree } from './fixture.ts';
import { copyOf, PHASES, referenceTree, runChild, staleProject, type PhaseSpec } from './phases.ts';

/**
 * RELIABILITY.md T4 / §5 #59: kill a phase with SIGKILL at each of its durability points in turn
 * (DISTILL_CRASH_AT=any:n, n = 1, 2, ... until a run completes), and check after each kill that
 * the output folder holds either the previous outputs or the complete new ones, byte for byte,
 * never a mix or a partial file; then that a rerun recovers to exactly a clean reference build
 * and leaves no staging, trash or temp file behind.
 */

/** Every path under `dir` whose name marks a temp file or folder of some process. */
function temps(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of ls(d)) {
      const p = join(d, name);
      if (/\.tmp-\d+$/.test(name)) out.push(`${rel}${name}`);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return out.sort();
}

async function killLoop(p: PhaseSpec): Promise<{ points: string[] }> {
  const base = await staleProject(p);
  const previous = tree(join(base, p.dir));
  // the clean reference: the phase run once, uninterrupted, on a copy
  const reference = await referenceTree(base, p);
  assert.notDeepEqual(reference, previous, "the new inputs change this phase's output");
  const points: string[] = [];
  for (let n = 1; ; n++) {
    assert.ok(n < 50, 'the crash loop did not end');
    const root = copyOf(base);
    const run = await runChild(p.args[0] as string, root, { DISTILL_CRASH_AT: `any:${n}` });
    if (run.code === 0) {
      // no n-th durability point: the run completed
      assert.deepEqual(tree(join(root, p.dir)), reference, 'an uninterrupted run gives the reference');
      break;
    }
    const m = /DISTILL_CRASH_AT: killing at (\S+) #(\d+)/.exec(run.stderr);
    assert.ok(m, `run ${n} neither completed nor was killed: exit ${run.code}\n${run.stderr}`);
    const point = m[1] as string;
    points.push(point);
    const after = tree(join(root, p.dir));
    const slug = p.dir.replace(/\//g, '_');
    if (point === 'publish:moved-previous') {
      // the one window between the two renames: the folder is absent and the previous one is
      // whole in the trash, from where any reader (readManifest) or the next run restores it
      assert.deepEqual(after, {}, `${p.dir} after a kill at ${point}`);
      const trash = ls(join(root, '.distill/trash')).filter((x) => x.startsWith(`${slug}.tmp-`));
      assert.equal(trash.length, 1);
      assert.deepEqual(
        tree(join(root, '.distill/trash', trash[0] as string)),
        previous,
        'the previous outputs are intact in the trash',
      );
    } else if (after !== null && JSON.stringify(after) === JSON.stringify(reference)) {
      assert.ok(
        ['publish:renamed', 'file:before-rename'].includes(point),
        `new outputs visible after a kill at ${point}`,
      );
    } else {
      assert.deepEqual(
        after,
        previous,
        `the previous outputs are byte-identical after a kill at ${point} (#${n})`,
      );
    }
    // the rerun recovers: stale lock taken over, crashed publish finished or undone, temps removed
    const rerun = await cliInProcess([...p.args, '--root', root]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(
      tree(join(root, p.dir)),
      reference,
      `a rerun after a kill at ${point} (#${n}) gives the reference bytes`,
    );
    assert.deepEqual(ls(join(root, '.distill/staging')), [], 'no staging folder left');
    assert.deepEqual(ls(join(root, '.distill/trash')), [], 'no trash folder left');
    assert.deepEqual(ls(join(root, '.distill/locks')), [], 'no lock left');
    // a kill while a receipt was written leaves its temp in that killed run's own report folder,
    // which no later run writes to; it is not an output and never read
    const litter = temps(root).filter(
      (x) => !/^reports\/distillation\/(?!latest\/)[^/]+\/\.[^/]+\.receipt\.json\.tmp-\d+$/.test(x),
    );
    assert.deepEqual(litter, [], 'no temp file left in the outputs, .distill or reports/distillation/latest');
  }
  return { points };
}

test('SIGKILL at every durability point of build-evidence, score and export-sft: previous outputs intact, rerun byte-identical to a clean build', async (t) => {
  const results = await Promise.all(PHASES.map((p) => killLoop(p)));
  let total = 0;
  PHASES.forEach((p, i) => {
    const pts = (results[i] as { points: string[] }).points;
    total += pts.length;
    t.diagnostic(`${p.args.join(' ')}: ${pts.length} kill points (${pts.join(', ')})`);
    assert.ok(
      pts.includes('publish:staged') &&
        pts.includes('publish:moved-previous') &&
        pts.includes('publish:renamed'),
      `${p.args[0]} crossed every publish point`,
    );
  });
  t.diagnostic(`${total} kill points in all, each recovered to byte-identical output`);
});
