import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { diskName } from '../../tasks/lib/disk.ts';
import { IO_ERROR_EXIT } from '../../tasks/lib/result.ts';
import { inProcess, runCli } from '../helpers/project.ts';
import { cliInProcess, ls, tree } from './fixture.ts';
import { copyOf, PHASES, referenceTree, staleProject, type PhaseSpec } from './phases.ts';

/**
 * RELIABILITY.md T6 / §5 #60: a write, fsync or rename that fails with ENOSPC / EIO
 * (DISTILL_FAULT=<op>:<n>:<errno>) ends the run non-zero with a clear message, publishes nothing
 * (the previous outputs stay byte-identical, no staging or trash folder is left), and a rerun
 * gives exactly the clean build. A fault on the receipt, after the swap, leaves the complete new
 * outputs and says so.
 */

/**
 * One of each kind of operation: the first data write, an fsync inside staging, and the renames of
 * a staged small file (1), of the previous folder to the trash (3), of staging into place (4) and
 * of the run's receipt (5), which comes after the publish.
 */
const FAULTS = [
  'write:1:ENOSPC',
  'fsync:3:EIO',
  'rename:1:EIO',
  'rename:3:EIO',
  'rename:4:ENOSPC',
  'rename:5:EIO',
];

async function faultSweep(p: PhaseSpec): Promise<{ failed: string[]; afterPublish: string[] }> {
  const base = await staleProject(p);
  const previous = tree(join(base, p.dir));
  const reference = await referenceTree(base, p);
  const failed: string[] = [];
  const afterPublish: string[] = [];
  const check = async (fault: string): Promise<boolean> => {
    const root = copyOf(base);
    // in this process: the fault counts start from zero with each command (resetFaultCounts in main)
    const run = await inProcess([...p.args, '--root', root], { env: { DISTILL_FAULT: fault } });
    if (run.code === 0) return false; // fewer such operations than n
    const [op, , errno] = fault.split(':');
    assert.equal(run.code, IO_ERROR_EXIT, `${fault}: ${run.stderr}`);
    const out = tree(join(root, p.dir));
    if (/the outputs were published, but writing its receipt failed/.test(run.stderr)) {
      // the fault hit a receipt, after the swap: the new outputs are complete
      assert.deepEqual(out, reference, `${fault}: complete new outputs`);
      afterPublish.push(fault);
    } else {
      assert.match(
        run.stderr,
        new RegExp(
          `✖ ${p.args[0]}: I/O error on the disk (?:mounted at /\\S* \\(\\S+\\)|of /\\S+): ${errno}: injected fault on ${op} \\(DISTILL_FAULT\\)\\. Nothing was published; the previous outputs are in place\\.`,
        ),
      );
      assert.deepEqual(out, previous, `${fault}: the previous outputs are byte-identical`);
    }
    assert.doesNotMatch(run.stderr, /internal error/);
    assert.deepEqual(
      [
        ls(join(root, '.distill/staging')),
        ls(join(root, '.distill/trash')),
        ls(join(root, '.distill/locks')),
      ],
      [[], [], []],
      `${fault}: nothing left behind`,
    );
    const rerun = await cliInProcess([...p.args, '--root', root]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(tree(join(root, p.dir)), reference, `${fault}: the rerun gives the clean build`);
    failed.push(fault);
    return true;
  };
  for (const f of FAULTS) assert.equal(await check(f), true, `${f} should hit an operation of ${p.args[0]}`);
  return { failed, afterPublish };
}

test('ENOSPC / EIO on write, fsync and each rename of the publish: exit 74, nothing published, rerun byte-identical (build-evidence, export-sft)', async (t) => {
  const phases = PHASES.filter((p) => p.args[0] !== 'score');
  // one phase after the other: the fault is set in this process's environment while a command runs
  const results: Awaited<ReturnType<typeof faultSweep>>[] = [];
  for (const p of phases) results.push(await faultSweep(p));
  phases.forEach((p, i) => {
    const r = results[i] as { failed: string[]; afterPublish: string[] };
    t.diagnostic(
      `${p.args[0]}: ${r.failed.length} injected faults (${r.failed.join(', ')}); ${r.afterPublish.length} of them hit a receipt after the publish (${r.afterPublish.join(', ') || 'none'})`,
    );
    assert.deepEqual(r.afterPublish, ['rename:5:EIO'], 'only the receipt rename comes after the publish');
  });
});

test('the CLI reports an injected ENOSPC in one clear line and exits 74 (real bin path)', async () => {
  const p = PHASES[0] as PhaseSpec;
  const root = await staleProject(p);
  const before = tree(join(root, p.dir));
  const r = await runCli(['build-evidence', '--root', root], { env: { DISTILL_FAULT: 'write:1:ENOSPC' } });
  assert.equal(r.code, 74);
  assert.equal(
    r.stderr,
    `✖ build-evidence: I/O error on ${diskName(root)}: ENOSPC: injected fault on write (DISTILL_FAULT). Nothing was published; the previous outputs are in place. Fix the cause (free disk space, check the device or permissions) and rerun.\n`,
  );
  assert.match(
    diskName(root),
    /^the disk (mounted at \/\S* \(\S+\)|of \/\S+)$/,
    'the message names the disk',
  );
  assert.deepEqual(tree(join(root, p.dir)), before);
});
