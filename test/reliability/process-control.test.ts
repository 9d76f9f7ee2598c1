import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { STOPPED_EXIT } from '../../tasks/lib/stop.ts';
import { CLI } from '../helpers/project.ts';
import { ls } from './fixture.ts';
import {
  gone,
  PAUSE,
  pausedPhase,
  pidAlive,
  sleep,
  smallRepo,
  startJob,
  temps,
  userEnv,
  type Started,
} from './process-fixture.ts';

/**
 * docs/reliability.md "Killing a build stops every phase it started" and "One build at a time": killing `npm run run-all` (its whole process group,
 * SIGINT, SIGTERM, or npm alone) stops the phase that is running, which publishes nothing; a
 * killed or stopped `distill run-all` stops its phase the same way. The phase is held just before
 * its publish (DISTILL_PAUSE_AT=publish:staged:<ms>, its whole output staged), so a kill surely
 * meets a phase that is running and has something to publish.
 */

/** What a stopped first build-evidence must leave: nothing published, no staging, no phase lock. */
function assertNothingPublished(root: string, what: string): void {
  assert.equal(existsSync(join(root, 'data/evidence')), false, `${what}: no evidence folder was published`);
  assert.equal(
    existsSync(join(root, 'reports/distillation/latest/build-evidence.receipt.json')),
    false,
    `${what}: no build-evidence receipt`,
  );
  assert.deepEqual(ls(join(root, '.distill/staging')), [], `${what}: the staging folder was removed`);
  assert.deepEqual(
    ls(join(root, '.distill/locks')).filter((n) => n !== 'run.lock'),
    [],
    `${what}: no phase lock left`,
  );
  assert.deepEqual(temps(root), [], `${what}: no temp file left`);
}

/**
 * Kills the paused `npm run run-all` job (its whole process group, or npm alone) and checks that its
 * phase stops, publishes nothing and that no later phase starts.
 */
async function killAndCheck(
  root: string,
  job: Started,
  phasePid: number,
  kind: { name: string; sig: NodeJS.Signals; group: boolean },
): Promise<void> {
  const npmPid = job.child.pid as number;
  process.kill(kind.group ? -npmPid : npmPid, kind.sig);
  assert.ok(await gone(phasePid), `build-evidence (pid ${phasePid}) still runs after ${kind.name}`);
  // whatever was left of the build (wireit, when npm alone was killed) ends without starting score
  await Promise.race([job.done, sleep(10_000)]);
  await sleep(500);
  assertNothingPublished(root, kind.name);
  assert.equal(existsSync(join(root, 'data/scored-runs')), false, 'score did not run');
  assert.deepEqual(
    ls(join(root, 'reports/distillation')).filter((n) => !n.startsWith('.')),
    [],
    'no run folder: no phase wrote a receipt',
  );
}

for (const kind of [
  { name: 'SIGKILL to the whole process group', sig: 'SIGKILL', group: true },
  { name: 'SIGTERM to the whole process group', sig: 'SIGTERM', group: true },
  { name: 'SIGINT to the whole process group (Ctrl-C)', sig: 'SIGINT', group: true },
] as const) {
  test(`npm run run-all killed by ${kind.name}: the running phase stops and publishes nothing; no later phase starts`, async () => {
    const root = smallRepo();
    const job = startJob('npm', ['run', 'run-all'], root, userEnv({ DISTILL_PAUSE_AT: PAUSE }));
    const phasePid = await pausedPhase(root, 'data_evidence', job);
    await killAndCheck(root, job, phasePid, kind);
  });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`distill run-all stopped by ${sig}: exit 130, the phase publishes nothing, its staging and the locks are removed`, async () => {
    const root = smallRepo();
    const job = startJob(
      process.execPath,
      [CLI, 'run-all', '--root', root],
      root,
      userEnv({ DISTILL_PAUSE_AT: PAUSE }),
    );
    await pausedPhase(root, 'data_evidence', job);
    job.child.kill(sig);
    const code = await job.done;
    assert.equal(code, STOPPED_EXIT, job.out());
    assert.match(
      job.out(),
      new RegExp(
        `✖ build-evidence: stopped: ${sig} received; nothing was published; the previous outputs are in place \\[STOPPED\\]\\n`,
      ),
    );
    assertNothingPublished(root, sig);
    assert.deepEqual(ls(join(root, '.distill/locks')), [], 'the run lock was released too');
  });
}

// the build a second one is refused by is then killed by SIGTERM to npm alone (one build for both)
test('a second npm run run-all, while the first runs, says at once which build holds it (pid, start time) and changes nothing; so does distill run-all; then npm run run-all killed by SIGTERM to npm alone (wireit outlives it): the running phase stops and publishes nothing; no later phase starts', async () => {
  const root = smallRepo();
  const first = startJob('npm', ['run', 'run-all'], root, userEnv({ DISTILL_PAUSE_AT: PAUSE }));
  try {
    const phasePid = await pausedPhase(root, 'data_evidence', first);
    const npmPid = first.child.pid as number;
    const lock = JSON.parse(readFileSync(join(root, '.distill/locks/run.lock'), 'utf8')) as {
      pid: number;
      started_at: string;
    };
    assert.equal(lock.pid, npmPid, 'the run lock names the npm process that owns the build');
    const state = readFileSync(join(root, 'reports/distillation/.current-run.json'), 'utf8');
    const line = `another build is running: npm run run-all (pid ${npmPid}, started ${lock.started_at}); this one is refused and changed nothing.`;

    const second = startJob('npm', ['run', 'run-all'], root, userEnv());
    const code = await second.done;
    assert.equal(first.child.exitCode, null, 'the first build is still running when the second has answered');
    assert.notEqual(code, 0, second.out());
    assert.ok(second.out().includes(line), `the second names the first:\n${second.out()}`);
    assert.match(second.out(), /\[LOCKED\]/);

    const direct = startJob(process.execPath, [CLI, 'run-all', '--root', root], root, userEnv());
    assert.equal(await direct.done, 75, direct.out());
    assert.ok(direct.out().includes(line), direct.out());
    assert.equal(first.child.exitCode, null, 'the first build is still running');

    assert.equal(
      readFileSync(join(root, 'reports/distillation/.current-run.json'), 'utf8'),
      state,
      "the refused builds did not touch the first one's run state",
    );
    assert.deepEqual(
      ls(join(root, 'reports/distillation')).filter((n) => !n.startsWith('.')),
      [],
      'no run folder',
    );
    assert.ok(pidAlive(phasePid), 'the first build is still paused in its phase');
    await killAndCheck(root, first, phasePid, {
      name: 'SIGTERM to npm alone (wireit outlives it)',
      sig: 'SIGTERM',
      group: false,
    });
  } finally {
    try {
      process.kill(-(first.child.pid as number), 'SIGKILL');
    } catch {
      // the group is gone already
    }
    await Promise.race([first.done, sleep(10_000)]);
  }
});
