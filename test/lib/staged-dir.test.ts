import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StagedDir, manifestEntries, recoverPublish } from '../../tasks/lib/staged-dir.ts';
import { pidAlive, removeStaleTemps, writeFileAtomic } from '../../tasks/lib/fs-atomic.ts';
import { CHILD_LOADER } from '../helpers/project.ts';

const PROJECT = resolve(fileURLToPath(import.meta.url), '../../..');
/** A pid no live process has (above Linux's pid_max), to stand for a crashed run. */
const DEAD_PID = 2147483646;
const FINAL = 'out/stage';
/** slug(FINAL) as staged-dir.ts names its staging and trash folders. */
const SLUG = 'out_stage';

async function tempRoot(t: TestContext): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'distill-staged-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir` (relative path → content), sorted; {} when `dir` does not exist. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string, prefix: string): Promise<void> {
    let ents;
    try {
      ents = await fsp.readdir(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const ent of ents.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p, `${prefix}${ent.name}/`);
      else out[`${prefix}${ent.name}`] = await fsp.readFile(p, 'utf8');
    }
  }
  await walk(dir, '');
  return out;
}

/** What is left in .distill/staging and .distill/trash (folders included, which `tree` would not show). */
async function leftovers(root: string): Promise<{ staging: string[]; trash: string[] }> {
  return {
    staging: await ls(join(root, '.distill', 'staging')),
    trash: await ls(join(root, '.distill', 'trash')),
  };
}

async function ls(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

const PREVIOUS = { 'old.jsonl': '{"v":"old"}\n', 'sub/notes.md': '# previous\n' };

async function seedPrevious(root: string): Promise<void> {
  for (const [rel, data] of Object.entries(PREVIOUS)) {
    await fsp.mkdir(join(root, FINAL, rel, '..'), { recursive: true });
    await fsp.writeFile(join(root, FINAL, rel), data);
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

// ---------------------------------------------------------------- in-process behaviour

test('publish swaps the new folder in and replaces the previous content entirely', async (t) => {
  const root = await tempRoot(t);
  await seedPrevious(root);
  const staged = await StagedDir.begin(root, FINAL);
  assert.equal(staged.stagingAbs, join(root, '.distill', 'staging', `${SLUG}.tmp-${process.pid}`));
  await staged.writer('rows.jsonl').write({ n: 1 });
  await staged.writer('rows.jsonl').write({ n: 2 });
  await staged.writeFile('manifest.json', '{"v":"new"}\n');
  // nothing is visible before publish
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  const written = await staged.closeAll();
  assert.deepEqual(manifestEntries(FINAL, written), [
    { path: 'out/stage/manifest.json', sha256: sha256('{"v":"new"}\n'), bytes: 12, rows: null },
    { path: 'out/stage/rows.jsonl', sha256: sha256('{"n":1}\n{"n":2}\n'), bytes: 16, rows: 2 },
  ]);
  await staged.publish();
  assert.deepEqual(await tree(join(root, FINAL)), {
    'manifest.json': '{"v":"new"}\n',
    'rows.jsonl': '{"n":1}\n{"n":2}\n',
  });
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});

test('publish creates the final folder when there was none', async (t) => {
  const root = await tempRoot(t);
  const staged = await StagedDir.begin(root, FINAL);
  await staged.writer('a/rows.jsonl').write({ k: 'v' });
  await staged.publish();
  assert.deepEqual(await tree(join(root, FINAL)), { 'a/rows.jsonl': '{"k":"v"}\n' });
  assert.deepEqual(await ls(join(root, '.distill', 'trash')), []);
});

test('abort drops the staging folder and leaves the previous folder as it was', async (t) => {
  const root = await tempRoot(t);
  await seedPrevious(root);
  const staged = await StagedDir.begin(root, FINAL);
  await staged.writer('rows.jsonl').write({ n: 1 });
  await staged.writeFile('manifest.json', '{}\n');
  await staged.abort();
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await ls(join(root, '.distill', 'staging')), []);
});

test('recoverPublish puts the trash copy back when the final folder is missing', async (t) => {
  const root = await tempRoot(t);
  const trash = join(root, '.distill', 'trash', `${SLUG}.tmp-${DEAD_PID}`);
  await fsp.mkdir(join(trash, 'sub'), { recursive: true });
  await fsp.writeFile(join(trash, 'old.jsonl'), PREVIOUS['old.jsonl']);
  await fsp.writeFile(join(trash, 'sub', 'notes.md'), PREVIOUS['sub/notes.md']);
  await recoverPublish(root, FINAL);
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await ls(join(root, '.distill', 'trash')), []);
});

test("recoverPublish deletes a dead run's trash copy when the final folder exists", async (t) => {
  const root = await tempRoot(t);
  await fsp.mkdir(join(root, FINAL), { recursive: true });
  await fsp.writeFile(join(root, FINAL, 'rows.jsonl'), '{"v":"new"}\n');
  const trash = join(root, '.distill', 'trash', `${SLUG}.tmp-${DEAD_PID}`);
  await fsp.mkdir(trash, { recursive: true });
  await fsp.writeFile(join(trash, 'rows.jsonl'), '{"v":"old"}\n');
  await recoverPublish(root, FINAL);
  assert.deepEqual(await tree(join(root, FINAL)), { 'rows.jsonl': '{"v":"new"}\n' });
  assert.deepEqual(await ls(join(root, '.distill', 'trash')), []);
});

test('recoverPublish removes staging folders of dead pids only, and only for its own output', async (t) => {
  const root = await tempRoot(t);
  const staging = join(root, '.distill', 'staging');
  for (const name of [
    `${SLUG}.tmp-${DEAD_PID}`,
    `${SLUG}.tmp-${process.pid}`,
    `other.tmp-${DEAD_PID}`,
    `${SLUG}_more.tmp-${DEAD_PID}`,
  ]) {
    await fsp.mkdir(join(staging, name), { recursive: true });
    await fsp.writeFile(join(staging, name, 'part.jsonl'), '{}\n');
  }
  await recoverPublish(root, FINAL);
  assert.deepEqual(
    await ls(staging),
    [`other.tmp-${DEAD_PID}`, `${SLUG}.tmp-${process.pid}`, `${SLUG}_more.tmp-${DEAD_PID}`].sort(),
  );
  // a missing .distill folder is fine
  await recoverPublish(await tempRoot(t), FINAL);
});

test('StagedDir.begin recovers a crashed publish before starting', async (t) => {
  const root = await tempRoot(t);
  const trash = join(root, '.distill', 'trash', `${SLUG}.tmp-${DEAD_PID}`);
  await fsp.mkdir(trash, { recursive: true });
  await fsp.writeFile(join(trash, 'old.jsonl'), PREVIOUS['old.jsonl']);
  await fsp.mkdir(join(root, '.distill', 'staging', `${SLUG}.tmp-${DEAD_PID}`), { recursive: true });
  const staged = await StagedDir.begin(root, FINAL);
  assert.deepEqual(await tree(join(root, FINAL)), { 'old.jsonl': PREVIOUS['old.jsonl'] });
  assert.deepEqual(await ls(join(root, '.distill', 'staging')), [`${SLUG}.tmp-${process.pid}`]);
  await staged.abort();
});

test('writeFileAtomic writes the content and leaves no temp file, also when overwriting', async (t) => {
  const root = await tempRoot(t);
  const p = join(root, 'deep', 'dir', 'state.json');
  await writeFileAtomic(p, '{"a":1}\n');
  assert.deepEqual(await ls(join(root, 'deep', 'dir')), ['state.json']);
  await writeFileAtomic(p, Buffer.from('{"a":2}\n'));
  assert.deepEqual(await tree(root), { 'deep/dir/state.json': '{"a":2}\n' });
});

test('removeStaleTemps removes temps of dead pids and keeps live ones and real files', async (t) => {
  const root = await tempRoot(t);
  await fsp.writeFile(join(root, `.a.json.tmp-${DEAD_PID}`), 'x');
  await fsp.writeFile(join(root, `.b.json.tmp-${process.pid}`), 'x');
  await fsp.writeFile(join(root, 'c.json'), 'x');
  await fsp.writeFile(join(root, 'd.tmp-notapid'), 'x');
  await fsp.mkdir(join(root, `e.tmp-${DEAD_PID}`));
  await fsp.writeFile(join(root, `e.tmp-${DEAD_PID}`, 'f'), 'x');
  assert.equal(await removeStaleTemps(root), 2);
  assert.deepEqual(await ls(root), [`.b.json.tmp-${process.pid}`, 'c.json', 'd.tmp-notapid']);
  assert.equal(await removeStaleTemps(join(root, 'missing')), 0);
});

test('pidAlive: this process is alive, a fake dead pid is not', () => {
  assert.equal(pidAlive(process.pid), true);
  assert.equal(pidAlive(DEAD_PID), false);
});

// ---------------------------------------------------------------- fault injection in a child process

const CHILD = `
import { StagedDir } from ${JSON.stringify(join(PROJECT, 'tasks/lib/staged-dir.ts'))};
const root = process.argv[2];
const staged = await StagedDir.begin(root, ${JSON.stringify(FINAL)});
try {
  await staged.writer('rows.jsonl').write({ v: 'new' });
  await staged.writeFile('manifest.json', '{"v":"new"}\\n');
  await staged.publish();
  process.stdout.write('published\\n');
} catch (e) {
  await staged.abort();
  process.stderr.write('publish failed: ' + e.code + ': ' + e.message + '\\n');
  process.exitCode = 1;
}
`;

const NEW = { 'manifest.json': '{"v":"new"}\n', 'rows.jsonl': '{"v":"new"}\n' };

interface ChildRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  pid: number;
  stdout: string;
  stderr: string;
}

/** Runs `code` as an ESM script (the checkout's TypeScript precompiled, CHILD_LOADER) with `arg` and the given fault env (other DISTILL_* unset). */
async function runScript(
  root: string,
  code: string,
  arg: string,
  env: Record<string, string>,
): Promise<ChildRun> {
  const scriptDir = await fsp.mkdtemp(join(root, 'script-'));
  await fsp.writeFile(join(scriptDir, 'package.json'), '{"type":"module"}\n');
  const script = join(scriptDir, 'child.mjs');
  await fsp.writeFile(script, code);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DISTILL_')));
  const r = spawnSync(process.execPath, ['--import', CHILD_LOADER, script, arg], {
    cwd: PROJECT,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, pid: r.pid, stdout: r.stdout, stderr: r.stderr };
}

/** Seeds a previous output, then runs the publishing child with the given fault env. */
async function runChild(
  t: TestContext,
  env: Record<string, string>,
): Promise<{ root: string; run: ChildRun }> {
  const root = await tempRoot(t);
  await seedPrevious(root);
  return { root, run: await runScript(root, CHILD, root, env) };
}

const WRITE_CHILD = `
import { writeFileAtomic } from ${JSON.stringify(join(PROJECT, 'tasks/lib/fs-atomic.ts'))};
try {
  await writeFileAtomic(process.argv[2], '{"v":"new"}\\n');
} catch (e) {
  process.stderr.write('write failed: ' + e.code + '\\n');
  process.exitCode = 1;
}
`;

test('writeFileAtomic under an injected write / fsync / rename fault keeps the old file and leaves no temp', async (t) => {
  for (const fault of ['write:1:ENOSPC', 'fsync:1:EIO', 'rename:1:EIO']) {
    const root = await tempRoot(t);
    const dir = join(root, 'state');
    await fsp.mkdir(dir);
    await fsp.writeFile(join(dir, 'head.json'), '{"v":"old"}\n');
    const run = await runScript(root, WRITE_CHILD, join(dir, 'head.json'), { DISTILL_FAULT: fault });
    assert.deepEqual(
      { status: run.status, stderr: run.stderr },
      { status: 1, stderr: `write failed: ${fault.split(':')[2]}\n` },
      fault,
    );
    assert.deepEqual(await tree(dir), { 'head.json': '{"v":"old"}\n' }, fault);
  }
});

test('child without faults publishes (control for the fault tests below)', async (t) => {
  const { root, run } = await runChild(t, {});
  assert.deepEqual(
    { status: run.status, stdout: run.stdout, stderr: run.stderr },
    { status: 0, stdout: 'published\n', stderr: '' },
  );
  assert.deepEqual(await tree(join(root, FINAL)), NEW);
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});

test('DISTILL_FAULT=write:1:ENOSPC → non-zero exit, previous folder intact, no staging or temp left', async (t) => {
  const { root, run } = await runChild(t, { DISTILL_FAULT: 'write:1:ENOSPC' });
  assert.equal(run.status, 1);
  assert.equal(run.stderr, 'publish failed: ENOSPC: ENOSPC: injected fault on write (DISTILL_FAULT)\n');
  assert.equal(run.stdout, '');
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});

test('DISTILL_FAULT on the rename that swaps the new folder in → the previous folder is moved back', async (t) => {
  // renames: 1 = manifest.json temp → file, 2 = final → trash, 3 = staging → final
  const { root, run } = await runChild(t, { DISTILL_FAULT: 'rename:3:EIO' });
  assert.equal(run.status, 1);
  assert.equal(run.stderr, 'publish failed: EIO: EIO: injected fault on rename (DISTILL_FAULT)\n');
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});

test('DISTILL_FAULT=fsync:1:EIO → non-zero exit and the previous folder intact', async (t) => {
  const { root, run } = await runChild(t, { DISTILL_FAULT: 'fsync:1:EIO' });
  assert.equal(run.status, 1);
  assert.equal(run.stderr, 'publish failed: EIO: EIO: injected fault on fsync (DISTILL_FAULT)\n');
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});

test('DISTILL_CRASH_AT=publish:moved-previous:1 → SIGKILL with no final folder; recoverPublish restores the previous one', async (t) => {
  const { root, run } = await runChild(t, { DISTILL_CRASH_AT: 'publish:moved-previous:1' });
  assert.deepEqual({ status: run.status, signal: run.signal }, { status: null, signal: 'SIGKILL' });
  assert.equal(run.stderr, 'DISTILL_CRASH_AT: killing at publish:moved-previous #1\n');
  // the crash window: the previous folder is in the trash, the new one still staged
  assert.deepEqual(await tree(join(root, FINAL)), {});
  assert.deepEqual(await ls(join(root, '.distill', 'trash')), [`${SLUG}.tmp-${run.pid}`]);
  assert.deepEqual(await ls(join(root, '.distill', 'staging')), [`${SLUG}.tmp-${run.pid}`]);
  await recoverPublish(root, FINAL);
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});

test('DISTILL_CRASH_AT=publish:staged:1 → SIGKILL before the swap; previous intact, recovery drops the staging folder', async (t) => {
  const { root, run } = await runChild(t, { DISTILL_CRASH_AT: 'publish:staged:1' });
  assert.equal(run.signal, 'SIGKILL');
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await ls(join(root, '.distill', 'staging')), [`${SLUG}.tmp-${run.pid}`]);
  await recoverPublish(root, FINAL);
  assert.deepEqual(await tree(join(root, FINAL)), PREVIOUS);
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});

test('DISTILL_CRASH_AT=publish:renamed:1 → SIGKILL after the swap; the new folder stays, recovery drops the trash copy', async (t) => {
  const { root, run } = await runChild(t, { DISTILL_CRASH_AT: 'publish:renamed:1' });
  assert.equal(run.signal, 'SIGKILL');
  assert.deepEqual(await tree(join(root, FINAL)), NEW);
  assert.deepEqual(await ls(join(root, '.distill', 'trash')), [`${SLUG}.tmp-${run.pid}`]);
  await recoverPublish(root, FINAL);
  assert.deepEqual(await tree(join(root, FINAL)), NEW);
  assert.deepEqual(await leftovers(root), { staging: [], trash: [] });
});
