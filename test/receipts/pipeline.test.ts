import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { activePhases, ownerOf, PIPELINE } from '../../tasks/phases/registry.ts';
import { REPO } from '../helpers/project.ts';

type Dep = string | { script: string; cascade?: boolean };
interface Script {
  command?: string;
  dependencies?: Dep[];
  files?: string[];
  output?: string[];
}
const WIREIT = (
  JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { wireit: Record<string, Script> }
).wireit;

/** Every script `name` depends on, directly or not. */
function closure(name: string, seen = new Set<string>()): Set<string> {
  for (const d of WIREIT[name]?.dependencies ?? []) {
    const s = typeof d === 'string' ? d : d.script;
    if (!seen.has(s)) {
      seen.add(s);
      closure(s, seen);
    }
  }
  return seen;
}

const active = activePhases((name) => name in COMMANDS);

test('the pipeline list has unique phases and output folders, and each phase has its distill command', () => {
  assert.equal(new Set(PIPELINE.map((p) => p.phase)).size, PIPELINE.length);
  assert.equal(new Set(PIPELINE.map((p) => p.outDir)).size, PIPELINE.length);
  for (const p of active)
    assert.ok((p.argv[0] as string) in COMMANDS, `${p.phase}: no distill command ${p.argv[0]}`);
  assert.deepEqual(
    active.slice(0, 2).map((p) => p.phase),
    ['build-evidence', 'score'],
  );
});

test('run-all builds a phase only once its command exists, and every registered phase has one', async () => {
  const { COMMANDS } = await import('../../tasks/cli/commands.ts');
  assert.deepEqual(
    activePhases((n) => n in COMMANDS).map((p) => p.phase),
    PIPELINE.map((p) => p.phase),
  );
  assert.equal(
    activePhases((n) => n !== 'screen').some((p) => p.phase === 'screen'),
    false,
  );
});

test('npm run run-all builds every pipeline phase before collecting, and never caches itself', () => {
  const runAll = WIREIT['run-all'] as Script;
  assert.equal(runAll.command, 'node bin/distill.js run-all --collect');
  assert.equal(runAll.files, undefined, 'run-all must declare no files so wireit always runs it');
  const deps = closure('run-all');
  for (const p of active)
    assert.ok(
      deps.has(p.script),
      `wireit script "run-all" does not build ${p.script}; add it to its dependencies in package.json`,
    );
});

test('every wireit phase build starts with begin-run, so its phases share one run id', () => {
  assert.equal((WIREIT['begin-run'] as Script).command, 'node bin/distill.js run-all --begin');
  assert.equal((WIREIT['begin-run'] as Script).files, undefined);
  for (const p of active) {
    assert.ok(closure(p.script).has('begin-run'), `${p.script} does not depend on begin-run`);
    assert.ok(
      WIREIT[p.script]?.output?.includes(`${p.outDir}/**`),
      `${p.script}: output should be ${p.outDir}/**`,
    );
  }
  const be = WIREIT['build-evidence']?.dependencies ?? [];
  assert.ok(
    be.some((d) => typeof d === 'object' && d.script === 'begin-run' && d.cascade === false),
    'build-evidence depends on begin-run with cascade: false (else it would rebuild every time)',
  );
});

test('ownerOf maps a path to the phase whose output folder holds it', () => {
  assert.equal(ownerOf(PIPELINE, 'data/evidence/2026/10/01/a.jsonl')?.phase, 'build-evidence');
  assert.equal(
    ownerOf(PIPELINE, 'exports/sft-partial/instruction_response.jsonl')?.phase,
    'export-sft-partial',
  );
  assert.equal(ownerOf(PIPELINE, 'exports/sft/instruction_response.jsonl')?.phase, 'export-sft');
  assert.equal(ownerOf(PIPELINE, 'data/_kb/a.jsonl'), null);
  assert.equal(ownerOf(PIPELINE, 'data/evidence-old/a.jsonl'), null);
});
