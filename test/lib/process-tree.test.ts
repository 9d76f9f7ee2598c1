import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { alive, buildOwner, startOf } from '../../tasks/lib/process-tree.ts';
import { CHILD_LOADER, REPO } from '../helpers/project.ts';

/**
 * lib/process-tree.ts: which build a phase belongs to. Fake `npm` and `wireit` scripts (files
 * with those names, run by node) stand in for the real ones: npm → sh -c → wireit → sh -c → phase.
 */

test('no wireit above a process: no build', async () => {
  // an orphan (its shell exits at once, so it is re-parented to init) has nothing above it, even
  // when this suite itself runs under wireit (release-freeze runs npm test inside a build)
  const dir = mkdtempSync(join(tmpdir(), 'distill-ptree-'));
  const probe = join(dir, 'probe.mjs');
  const out = join(dir, 'out.json');
  writeFileSync(
    probe,
    `const { buildOwner } = await import(${JSON.stringify(join(REPO, 'tasks/lib/process-tree.ts'))});
     const { writeFileSync, renameSync } = await import('node:fs');
     await new Promise((r) => setTimeout(r, 200)); // let the shell exit first
     writeFileSync(${JSON.stringify(`${out}.tmp`)}, JSON.stringify({ build: buildOwner() }));
     renameSync(${JSON.stringify(`${out}.tmp`)}, ${JSON.stringify(out)});`,
  );
  execFileSync('sh', ['-c', `${process.execPath} --import ${CHILD_LOADER} ${probe} >/dev/null 2>&1 &`]);
  for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { build: null });
});

test('under npm → sh → wireit → sh: the owner is the npm process, the chain every process between', () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-ptree-'));
  const phase = join(dir, 'phase.mjs');
  writeFileSync(
    phase,
    `const { buildOwner } = await import(${JSON.stringify(join(REPO, 'tasks/lib/process-tree.ts'))});
     process.stdout.write(JSON.stringify({ self: process.pid, ppid: process.ppid, build: buildOwner() }));`,
  );
  // each fake runs its child through a shell, as npm and wireit do, and reports its own pid
  const fake = (child: string): string => `
    const { execFileSync } = require('node:child_process');
    const out = execFileSync('sh', ['-c', ${JSON.stringify(child)}], { encoding: 'utf8' });
    process.stdout.write(JSON.stringify({ pid: process.pid, out: JSON.parse(out) }));`;
  writeFileSync(join(dir, 'wireit'), fake(`${process.execPath} --import ${CHILD_LOADER} ${phase}; true`));
  writeFileSync(join(dir, 'npm'), fake(`${process.execPath} ${join(dir, 'wireit')}; true`));
  const npm = JSON.parse(execFileSync(process.execPath, [join(dir, 'npm')], { encoding: 'utf8' })) as {
    pid: number;
    out: { pid: number; out: { self: number; ppid: number; build: ReturnType<typeof buildOwner> } };
  };
  const wireit = npm.out;
  const seen = wireit.out;
  assert.ok(seen.build, 'the phase sees its build');
  assert.equal(seen.build.owner.pid, npm.pid, 'the owner is the npm process');
  assert.equal(seen.build.command, 'npm');
  const chain = seen.build.chain.map((r) => r.pid);
  assert.equal(chain[0], seen.ppid, 'the chain starts at the phase’s parent (its shell)');
  assert.ok(chain.includes(wireit.pid), 'wireit is in the chain');
  assert.equal(chain.at(-1), npm.pid, 'the chain ends at the owner');
  assert.equal(chain.length, 4, 'sh, wireit, sh, npm');
  // they have all exited now
  for (const r of seen.build.chain) assert.equal(alive(r), false, `pid ${r.pid} is gone`);
});

test('alive: this process is, with its start time; a wrong start time (a reused pid) is not', () => {
  const start = startOf(process.pid);
  assert.equal(alive({ pid: process.pid, start }), true);
  if (start !== null) assert.equal(alive({ pid: process.pid, start: `${start}0` }), false);
});
