import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareOutputs, copyProject } from '../../tasks/gates/determinism/verify-determinism.ts';
import { CHILD_LOADER, REPO } from '../helpers/project.ts';
import { pipelineProject, tempDir } from './fixture.ts';

/**
 * RELIABILITY.md T1 + T2 / §5 #63: `npm run verify:determinism` (tasks/gates/determinism/verify-determinism.ts),
 * its script run through the tests' precompiled build (CHILD_LOADER), not tsx as the npm script does:
 * the same code, ~0.3-0.5 CPU s less; its two builds are `distill run-all` processes either way.
 */

test('verify:determinism builds the whole pipeline twice, perturbed (TZ, tr_TR locale, cwd, root, source order, threads, umask), and finds every output byte-identical', async (t) => {
  const root = pipelineProject();
  const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      ['--import', CHILD_LOADER, join(REPO, 'tasks/gates/determinism/verify-determinism.ts'), '--root', root],
      { cwd: REPO },
      (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
  assert.equal(r.code, 0, r.stderr);
  const m =
    /✔ verify:determinism: (\d+) output files byte-identical across TZ, locale, cwd, root, source order, thread pool size and umask \((.+)\)\n$/.exec(
      r.stderr,
    );
  assert.ok(m, r.stderr);
  assert.ok(Number(m[1]) > 30, `${m[1]} output files compared`);
  assert.match(
    r.stderr,
    /build B \(TZ=Pacific\/Kiritimati, tr_TR\.UTF-8, 1 thread, umask 077, other cwd, sources reversed\)/,
  );
  t.diagnostic(`${m[1]} output files compared (${m[2]})`);
});

test('compareOutputs names every file that differs or exists in one build only', () => {
  const a = new Map([
    ['data/evidence/x.jsonl', 'aa'.repeat(32)],
    ['exports/sft/a.jsonl', 'bb'.repeat(32)],
    ['exports/sft/only-a.jsonl', 'cc'.repeat(32)],
  ]);
  const b = new Map([
    ['data/evidence/x.jsonl', 'aa'.repeat(32)],
    ['exports/sft/a.jsonl', 'dd'.repeat(32)],
    ['exports/rag/only-b.jsonl', 'ee'.repeat(32)],
  ]);
  assert.deepEqual(compareOutputs(a, b), [
    'exports/rag/only-b.jsonl: only in build B',
    'exports/sft/a.jsonl: sha256 differs (A bbbbbbbbbbbb…, B dddddddddddd…)',
    'exports/sft/only-a.jsonl: only in build A',
  ]);
  assert.deepEqual(compareOutputs(a, new Map(a)), []);
});

test('copyProject reverses the sources and each glob list for the perturbed build', () => {
  const src = pipelineProject();
  const dest = tempDir();
  copyProject(src, dest, true);
  const a = JSON.parse(readFileSync(join(src, 'distill.config.json'), 'utf8')) as {
    sources: { stream: string }[];
  };
  const b = JSON.parse(readFileSync(join(dest, 'distill.config.json'), 'utf8')) as {
    sources: { stream: string }[];
  };
  assert.deepEqual(
    b.sources.map((s) => s.stream),
    a.sources.map((s) => s.stream).reverse(),
  );
  assert.equal(
    readFileSync(join(dest, 'data/_kb/gateway/2026-10-02.jsonl'), 'utf8'),
    readFileSync(join(src, 'data/_kb/gateway/2026-10-02.jsonl'), 'utf8'),
  );
});
