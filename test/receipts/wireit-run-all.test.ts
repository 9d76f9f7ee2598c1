import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { activePhases } from '../../tasks/phases/registry.ts';
import { keepLastDays, REPO } from '../helpers/project.ts';

/**
 * A copy of the repository (sources, config, the last 6 days of the bundled corpus: what is tested
 * is wireit and the run ids, not the corpus; node_modules linked), nothing built.
 */
function repoCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'distill-wireit-'));
  for (const f of [
    'package.json',
    'tsconfig.json',
    'distill.config.json',
    'tasks',
    'schemas',
    'bin',
    join('data', '_kb'),
  ])
    cpSync(join(REPO, f), join(dir, f), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  keepLastDays(dir, 6);
  return dir;
}

/** `npm run run-all` in `dir`, as a user would type it (no DISTILL_RUN_ID, wireit's default logger). */
function npmRunAll(dir: string): Promise<{ code: number; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', DISTILL_QUIET: '1' };
  for (const k of ['DISTILL_RUN_ID', 'DISTILL_ROOT', 'WIREIT_LOGGER', 'npm_lifecycle_event']) delete env[k];
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', 'run-all'],
      { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

test('npm run run-all: every phase of one build shares a run id; a second build finds them all fresh, touched sources included; an appended row reruns build-evidence', async () => {
  const dir = repoCopy();
  const phases = activePhases((name) => name in COMMANDS).map((p) => p.phase);
  const first = await npmRunAll(dir);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /\nfunnel\n {2}[\d,]+ source rows\n/);
  assert.match(first.out, /\ndrift: ok \(first run, nothing to compare\)\n/);
  const id1 = /\nrun (\S+): ok · /.exec(first.out)?.[1] as string;
  const s1 = JSON.parse(readFileSync(join(dir, 'reports/distillation', id1, 'summary.json'), 'utf8'));
  assert.deepEqual(
    s1.phases.map(
      (p: { phase: string; status: string; receipt: string }) => `${p.phase} ${p.status} ${p.receipt}`,
    ),
    phases.map((p) => `${p} ran reports/distillation/${id1}/${p}.receipt.json`),
  );
  assert.equal(
    existsSync(join(dir, 'reports/distillation/.current-run.json')),
    false,
    'the run-state file is removed at the end',
  );

  // wireit reads the sources through .distill/sources.fingerprint.json (a stat index in begin-run):
  // the second build, after every source of a stream was touched (new mtimes, same bytes), reruns
  // nothing; one appended row then reruns build-evidence and what follows
  const streamDir = join(dir, 'data/_kb/gateway_calls');
  const later = new Date(Date.now() + 60_000);
  for (const f of readdirSync(streamDir)) utimesSync(join(streamDir, f), later, later);
  const second = await npmRunAll(dir);
  assert.equal(second.code, 0, second.out);
  const id2 = /\nrun (\S+): ok · /.exec(second.out)?.[1] as string;
  assert.ok(id2 > id1, `${id2} sorts after ${id1}`);
  const s2 = JSON.parse(readFileSync(join(dir, 'reports/distillation', id2, 'summary.json'), 'utf8'));
  assert.deepEqual(
    s2.phases.map(
      (p: { phase: string; status: string; receipt: string }) => `${p.phase} ${p.status} ${p.receipt}`,
    ),
    phases.map((p) => `${p} fresh reports/distillation/${id1}/${p}.receipt.json`),
    'touch changes no content',
  );
  assert.match(second.out, new RegExp(`\\ndrift: ok vs run ${id1} \\(no metric changed\\)\\n`));

  const file = join(streamDir, readdirSync(streamDir).sort()[0] as string);
  const last = readFileSync(file, 'utf8').trimEnd().split('\n').at(-1) as string;
  appendFileSync(file, `${last}\n`);
  const appended = await npmRunAll(dir);
  const id4 = /\nrun (\S+): (?:ok|FAILED) · /.exec(appended.out)?.[1] as string;
  assert.ok(id4, appended.out);
  const s4 = JSON.parse(readFileSync(join(dir, 'reports/distillation', id4, 'summary.json'), 'utf8'));
  assert.equal(
    s4.phases.find((p: { phase: string }) => p.phase === 'build-evidence').status,
    'ran',
    appended.out,
  );
});
