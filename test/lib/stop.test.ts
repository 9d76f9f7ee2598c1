import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHILD_LOADER, REPO } from '../helpers/project.ts';

/** lib/stop.ts in a child process (a stop exits the process): temps removed, a publish under way finished first. */

function child(body: string): { code: number | null; stderr: string; stdout: string } {
  const code = `
    import * as stop from ${JSON.stringify(join(REPO, 'tasks/lib/stop.ts'))};
    ${body}`;
  const r = spawnSync(process.execPath, ['--import', CHILD_LOADER, '--input-type=module', '-e', code], {
    encoding: 'utf8',
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

test('a stop outside a publish removes the tracked temps and exits 130 saying nothing was published', () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-stop-'));
  const staging = join(dir, 'staging.tmp-1');
  mkdirSync(staging);
  writeFileSync(join(staging, 'part.jsonl'), 'x\n');
  const r = child(`
    stop.setStopLabel('score');
    stop.trackTemp(${JSON.stringify(staging)});
    stop.requestStop('SIGTERM received');
    process.stdout.write('not reached\\n');`);
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    '✖ score: stopped: SIGTERM received; nothing was published; the previous outputs are in place [STOPPED]\n',
  );
  assert.equal(existsSync(staging), false);
});

test('a stop during the publish waits for it (and the receipt), then exits 130 saying the outputs are complete', () => {
  const r = child(`
    stop.setStopLabel('score');
    stop.enterCritical();
    stop.requestStop('SIGINT received');
    process.stdout.write('publish finished\\n');
    stop.leaveCritical();
    process.stdout.write('not reached\\n');`);
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.stdout, 'publish finished\n');
  assert.equal(
    r.stderr,
    '✖ score: stopped: SIGINT received; its outputs and receipt were complete before it stopped [STOPPED]\n',
  );
});

test('SIGTERM to a command with the handlers installed: the same clean stop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-stop-'));
  const scratch = join(dir, 'scratch.tmp-1');
  mkdirSync(scratch);
  const r = child(`
    stop.installStopHandlers();
    stop.setStopLabel('build-evidence');
    stop.trackTemp(${JSON.stringify(scratch)});
    setInterval(() => {}, 1000);
    process.kill(process.pid, 'SIGTERM');`);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /^✖ build-evidence: stopped: SIGTERM received; nothing was published/);
  assert.equal(existsSync(scratch), false);
});
