import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { LOCKED_EXIT } from '../../tasks/lib/lock.ts';
import { activePhases } from '../../tasks/phases/registry.ts';
import { CHILD_LOADER, CLI, REPO, runCli } from '../helpers/project.ts';
import {
  cliInProcess,
  jsonl,
  oneSourceProject,
  pipeline,
  pipelineProject,
  reward,
  SRC_DIR,
  tree,
} from './fixture.ts';

/**
 * RELIABILITY.md T9 / §5 #58: one run of a phase at a time. A second run of any phase that writes
 * exits at once with "locked by pid N since T" (exit 75) and touches nothing; the lock of a process
 * that died is taken over.
 */

/** Starts a child that takes the given phase locks, reports, and sleeps until killed. */
async function lockHolder(
  root: string,
  phases: string[],
): Promise<{ pid: number; kill: () => Promise<void> }> {
  const code = `
    import { acquireLock } from ${JSON.stringify(join(REPO, 'tasks/lib/lock.ts'))};
    for (const p of ${JSON.stringify(phases)}) await acquireLock(${JSON.stringify(root)}, p);
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', CHILD_LOADER, '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) =>
      d.toString() === 'locked\n' ? resolve() : reject(new Error(d.toString())),
    );
    child.once('exit', (c) => reject(new Error(`lock holder exited ${c}`)));
  });
  return {
    pid: child.pid as number,
    kill: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** The whole project folder (sources, outputs, receipts, .distill), path → hash. */
const everything = (root: string): Record<string, string> => tree(root);

test("a second run of every writing phase, while another process holds its lock, exits 75 naming the holder and touches nothing; a dead holder's lock is taken over", async (t) => {
  const root = pipelineProject();
  await pipeline(root);
  const phases = activePhases((name) => name in COMMANDS);
  const holder = await lockHolder(
    root,
    phases.map((p) => p.phase),
  );
  const before = everything(root);
  const started = (phase: string): string =>
    (
      JSON.parse(readFileSync(join(root, '.distill/locks', `${phase}.lock`), 'utf8')) as {
        started_at: string;
      }
    ).started_at;
  try {
    for (const p of phases) {
      const r = await cliInProcess([...p.argv, '--root', root]);
      assert.equal(r.code, LOCKED_EXIT, `${p.phase}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `✖ ${p.phase}: ${p.phase} is locked by pid ${holder.pid} since ${started(p.phase)} (${join(root, '.distill/locks', `${p.phase}.lock`)}). Wait for that run to finish; if no such process exists, delete the lock file. [LOCKED]\n`,
      );
    }
    // and through the real bin, in its own process
    const viaBin = await runCli(['build-evidence', '--root', root]);
    assert.equal(viaBin.code, LOCKED_EXIT);
    assert.match(viaBin.stderr, new RegExp(`build-evidence is locked by pid ${holder.pid} since `));
    assert.deepEqual(
      everything(root),
      before,
      'the locked runs wrote nothing: no output, receipt, staging or lock change',
    );
  } finally {
    await holder.kill();
  }
  t.diagnostic(
    `${phases.length} writing phases refused while locked: ${phases.map((p) => p.phase).join(', ')}`,
  );
  // the holder died without releasing: every phase takes its stale lock over and runs
  for (const p of phases) {
    const r = await cliInProcess([...p.argv, '--root', root]);
    assert.equal(r.code, 0, `${p.phase} after the holder died: ${r.stderr}`);
    assert.equal(
      existsSync(join(root, '.distill/locks', `${p.phase}.lock`)),
      false,
      `${p.phase} released its lock`,
    );
  }
});

test('two real build-evidence processes: the second exits 75 while the first (paused mid-run) holds the lock; the first then completes', async () => {
  const rows = Array.from({ length: 4_000 }, (_, i) =>
    reward(`t${i}`, `2026-10-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`),
  );
  const root = oneSourceProject({ [`${SRC_DIR}/big.jsonl`]: jsonl(...rows) });
  const lock = join(root, '.distill/locks/build-evidence.lock');
  const first = execFile(process.execPath, [CLI, 'build-evidence', '--root', root], {
    env: { ...process.env, DISTILL_QUIET: '1' },
  });
  const firstDone = new Promise<number>((resolve) => first.once('exit', (c) => resolve(c ?? -1)));
  // pause the first run as soon as it holds the lock, so the second surely meets it
  while (!existsSync(lock)) {
    assert.equal(first.exitCode, null, 'the first run ended before it was seen holding the lock');
    await new Promise((r) => setTimeout(r, 5));
  }
  first.kill('SIGSTOP');
  try {
    const second = await runCli(['build-evidence', '--root', root]);
    assert.equal(second.code, LOCKED_EXIT, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(
        `^✖ build-evidence: build-evidence is locked by pid ${first.pid} since \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
  } finally {
    first.kill('SIGCONT');
  }
  assert.equal(await firstDone, 0);
  const health = JSON.parse(readFileSync(join(root, 'data/evidence/_health.json'), 'utf8')) as {
    totals: { units: number; evidence_units: number };
  };
  assert.deepEqual([health.totals.units, health.totals.evidence_units], [4_000, 4_000]);
  assert.equal(existsSync(lock), false);
});
