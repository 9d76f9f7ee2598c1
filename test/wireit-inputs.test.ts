import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { globbySync } from 'globby';
import {
  ALL_EDGES,
  closure,
  importCycles,
  readModuleGraph,
  type EdgeKind,
} from '../tasks/dev/import-graph.ts';
import {
  codeInputs as derivedCodeInputs,
  codeInputsText,
  derivedEntries,
  phaseModules,
  staleEntries,
} from '../tasks/dev/wireit-inputs.ts';
import { codeDigestPath, updateCodeDigests } from '../tasks/run/code-digest.ts';
import { CODE_INPUTS, PIPELINE, type PipelinePhase } from '../tasks/phases/registry.ts';
import { CLI, REPO } from './helpers/project.ts';

const graph = readModuleGraph(REPO);
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  wireit: Record<string, { files?: string[] }>;
};
const code = JSON.parse(readFileSync(join(REPO, CODE_INPUTS), 'utf8')) as Record<string, string[]>;
const RECORDER = fileURLToPath(new URL('./fixtures/module-log/register.mjs', import.meta.url));

/**
 * The code files (tasks/, schemas/) whose bytes a phase's wireit input holds: the modules its
 * code fingerprint `.distill/code/<phase>.json` lists (begin-run hashes them), plus any code a
 * `files` glob matches directly.
 */
function codeInputs(p: PipelinePhase): Set<string> {
  const globs = (pkg.wireit[p.script]?.files ?? []).filter((g) => /^(tasks|schemas)\//.test(g));
  return new Set([...(code[p.phase] ?? []), ...globbySync(globs, { cwd: REPO })]);
}

test('package.json and tasks/phases/code-inputs.json: every wireit entry and module list the graph derives is the one committed (run `npm run wireit:inputs`)', () => {
  assert.deepEqual(staleEntries(pkg, derivedEntries(graph)), []);
  assert.equal(readFileSync(join(REPO, CODE_INPUTS), 'utf8'), codeInputsText(derivedCodeInputs(graph)));
  // each phase's wireit code input is its code fingerprint, which begin-run (the first step of every build) writes
  for (const p of PIPELINE)
    assert.ok(pkg.wireit[p.script]?.files?.includes(codeDigestPath(p.phase)), p.script);
});

test("begin-run's code fingerprints: editing a module rewrites exactly the fingerprints of the phases whose lists hold it, and nothing else", async () => {
  const codeRoot = mkdtempSync(join(tmpdir(), 'distill-code-digest-'));
  const root = join(codeRoot, 'project');
  mkdirSync(root);
  const modules = [...new Set(Object.values(code).flat())];
  for (const f of [CODE_INPUTS, ...modules]) {
    mkdirSync(dirname(join(codeRoot, f)), { recursive: true });
    cpSync(join(REPO, f), join(codeRoot, f));
  }
  const phases = PIPELINE.map((p) => p.phase);
  assert.deepEqual((await updateCodeDigests(root, codeRoot)).sort(), [...phases].sort());
  assert.deepEqual(await updateCodeDigests(root, codeRoot), [], 'nothing changed: nothing rewritten');
  const read = (phase: string) => readFileSync(join(root, codeDigestPath(phase)), 'utf8');
  for (const m of ['tasks/phases/score/rules.ts', 'tasks/lib/rag-index.ts', 'tasks/lib/export/messages.ts']) {
    const before = new Map(phases.map((ph) => [ph, read(ph)]));
    appendFileSync(join(codeRoot, m), '\n// edited\n');
    const changed = await updateCodeDigests(root, codeRoot);
    const loaders = phases.filter((ph) => code[ph]?.includes(m));
    assert.ok(loaders.length > 0 && loaders.length < phases.length, `${m}: a module some phases load`);
    assert.deepEqual(changed, loaders, `editing ${m}`);
    assert.deepEqual(
      phases.filter((ph) => read(ph) !== before.get(ph)),
      loaders,
      `editing ${m}: the fingerprint files that changed`,
    );
  }
  // a module added to a phase's folder before \`npm run wireit:inputs\` lists it: that phase's
  // fingerprint holds it (an edit of it reruns the phase), as the folder glob did
  const added = 'tasks/phases/score/added-later.ts';
  writeFileSync(join(codeRoot, added), 'export const x = 1;\n');
  assert.deepEqual(await updateCodeDigests(root, codeRoot), ['score'], `adding ${added}`);
  appendFileSync(join(codeRoot, added), '// edited\n');
  assert.deepEqual(await updateCodeDigests(root, codeRoot), ['score'], `editing ${added}`);
  rmSync(join(codeRoot, added));
  assert.deepEqual(await updateCodeDigests(root, codeRoot), ['score'], `deleting ${added}`);
  // a module deleted changes the fingerprints that list it too
  rmSync(join(codeRoot, 'tasks/phases/score/rules.ts'));
  assert.deepEqual(await updateCodeDigests(root, codeRoot), ['score']);
  // no module lists: begin-run refuses, naming the file and the command that writes it
  rmSync(join(codeRoot, CODE_INPUTS));
  await assert.rejects(updateCodeDigests(root, codeRoot), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /tasks\/phases\/code-inputs\.json cannot be read .*npm run wireit:inputs/);
    return true;
  });
  // lists without a phase's (a bad merge, a hand edit): refused too, not that phase's fingerprint
  // left as it was (wireit would then take the phase as fresh whatever its code became)
  const { score: _dropped, ...others } = code;
  writeFileSync(join(codeRoot, CODE_INPUTS), `${JSON.stringify(others)}\n`);
  await assert.rejects(updateCodeDigests(root, codeRoot), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /code-inputs\.json has no module list for score: .*npm run wireit:inputs/);
    return true;
  });
});

test('every module a phase can load (static and dynamic imports, worker entry points) is an input of its wireit script', () => {
  for (const p of PIPELINE) {
    const inputs = codeInputs(p);
    const missing = phaseModules(graph, p).filter((f) => !inputs.has(f));
    assert.deepEqual(missing, [], `${p.script}: loads modules wireit does not hash`);
  }
});

test('every phase runs the launcher, whose files are inputs (they decide which code runs: precompiled, recompiled when stale)', () => {
  const wireit = pkg.wireit as Record<string, { command?: string; files?: string[] }>;
  for (const script of [...PIPELINE.map((p) => p.script), 'acceptance']) {
    assert.match(wireit[script]?.command ?? '', /^node bin\/distill\.js /, script);
    for (const f of ['bin/distill.js', 'bin/precompile.js'])
      assert.ok(wireit[script]?.files?.includes(f), `${script}: ${f} is not an input`);
  }
  for (const script of ['begin-run', 'run-all', 'audit-full', 'release-freeze'])
    assert.match(wireit[script]?.command ?? '', /^node bin\/distill\.js /, script);
});

test('the module graph reads all three kinds of edge', () => {
  const kinds = new Set<EdgeKind>();
  for (const edges of graph.values()) for (const e of edges) kinds.add(e.kind);
  assert.deepEqual([...kinds].sort(), ['dynamic', 'static', 'worker']);
  // worker entry points are followed: build-evidence's worker thread module is in its closure
  assert.ok(
    closure(graph, ['tasks/phases/build-evidence/run.ts'], ALL_EDGES).includes(
      'tasks/phases/build-evidence/worker.ts',
    ),
  );
});

test('no import circles (static and dynamic imports)', () => {
  assert.deepEqual(importCycles(graph, new Set(['static', 'dynamic'])), []);
});

test("other modules read a phase's contract, not its implementation", () => {
  const problems: string[] = [];
  for (const [from, edges] of graph) {
    for (const e of edges) {
      const m = /^tasks\/phases\/([^/]+)\/([^/]+)$/.exec(e.to);
      if (!m || from.startsWith(`tasks/phases/${m[1]}/`) || m[2] === 'contract.ts') continue;
      // the CLI loads each phase's entry; gates re-derive a phase's output with its pure core
      if (from === 'tasks/cli/commands.ts' && m[2] === 'run.ts' && e.kind === 'dynamic') continue;
      if (from.startsWith('tasks/gates/') && m[2] === 'core.ts') continue;
      // begin-run runs build-evidence's source checks before wireit may restore its cached output
      if (
        from === 'tasks/run/begin.ts' &&
        e.to === 'tasks/phases/build-evidence/preflight.ts' &&
        e.kind === 'dynamic'
      )
        continue;
      problems.push(`${from} → ${e.to}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('tasks/lib/ holds only code that two or more parts of the project use', () => {
  const groupOf = (f: string): string => /^tasks\/(phases\/[^/]+|gates\/[^/]+|[^/]+)\//.exec(f)?.[1] ?? f;
  // a lib module's users: the folders whose own modules reach it through lib modules only
  const users = new Map<string, Set<string>>();
  for (const [from, edges] of graph) {
    if (!from.startsWith('tasks/') || from.startsWith('tasks/lib/')) continue;
    const stack = edges.map((e) => e.to).filter((t) => t.startsWith('tasks/lib/'));
    const seen = new Set<string>();
    while (stack.length > 0) {
      const m = stack.pop() as string;
      if (seen.has(m)) continue;
      seen.add(m);
      // a sub-folder of lib (safety/, export/) is one library: its users are the folder's users
      const unit = /^tasks\/lib\/[^/]+\//.exec(m)?.[0] ?? m;
      const set = users.get(unit) ?? new Set<string>();
      set.add(groupOf(from));
      users.set(unit, set);
      for (const e of graph.get(m) ?? []) if (e.to.startsWith('tasks/lib/')) stack.push(e.to);
    }
  }
  const lonely = [...users].filter(([, u]) => u.size < 2).map(([m, u]) => `${m} (only ${[...u].join('')})`);
  assert.deepEqual(lonely, []);
});

/** A module of the launcher's precompiled build (bin/precompile.js): the source path it was compiled from, without `.ts`. */
const COMPILED = /\/node_modules\/\.cache\/distill\/[0-9a-f]{64}\/(.*)\.js$/;

/**
 * Runs one phase command in `root` with the module recorder, as wireit runs it (the launcher,
 * bin/distill.js, which runs the precompiled build); returns the project files it loaded, each
 * compiled module named by the source file it was compiled from.
 */
function loadedModules(root: string, argv: readonly string[], log: string): Promise<Set<string>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', RECORDER, CLI, ...argv, '--root', root],
      { env: { ...process.env, DISTILL_QUIET: '1', DISTILL_MODULE_LOG: log }, maxBuffer: 64 * 1024 * 1024 },
      (err, _out, stderr) => {
        if (err) return reject(new Error(`${argv.join(' ')} failed: ${stderr}`));
        const prefix = `file://${REPO.endsWith('/') ? REPO : `${REPO}/`}`;
        const files = readFileSync(log, 'utf8')
          .split('\n')
          .map((u) => decodeURIComponent(u.split('?')[0] as string))
          .map((u) => {
            const m = COMPILED.exec(u);
            if (m) return `${m[1]}.ts`;
            return u.startsWith(prefix) ? u.slice(prefix.length) : '';
          })
          .filter((f) => /^(tasks|schemas)\//.test(f));
        resolve(new Set(files));
      },
    );
  });
}

test('each phase, run for real: every module it loads is an input of its wireit script, and editing a module reruns exactly the phases that load it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-wireit-inputs-'));
  cpSync(join(REPO, 'test/fixtures/acceptance/distill.config.json'), join(root, 'distill.config.json'));
  cpSync(join(REPO, 'test/fixtures/acceptance/data'), join(root, 'data'), { recursive: true });
  mkdirSync(join(root, 'logs'));
  const loaded = new Map<PipelinePhase, Set<string>>();
  for (const [i, p] of PIPELINE.entries()) {
    const files = await loadedModules(root, p.argv, join(root, 'logs', `${i}.log`));
    const inputs = codeInputs(p);
    const missing = [...files].filter((f) => !inputs.has(f)).sort();
    assert.deepEqual(missing, [], `${p.script} loaded modules that are not among its wireit inputs`);
    assert.ok(files.has(`tasks/phases/${p.folder}/run.ts`), `${p.script}: the recorder saw no phase module`);
    loaded.set(p, files);
  }
  // one module of each phase folder, and shared modules used by some phases only: the scripts whose
  // inputs match it (what wireit reruns) are exactly the phases that loaded it
  const probes = [
    ...new Set(PIPELINE.map((p) => `tasks/phases/${p.folder}/contract.ts`)),
    'tasks/phases/score/rules.ts',
    'tasks/lib/export/messages.ts',
    'tasks/lib/safety/rescan.ts',
    'tasks/lib/rag-index.ts',
    'tasks/lib/worker-pool.ts',
    'tasks/adapters/claude-code.ts',
    'schemas/sft-sample.ts',
  ];
  for (const m of probes) {
    const rerun = PIPELINE.filter((p) => codeInputs(p).has(m)).map((p) => p.script);
    const loaders = PIPELINE.filter((p) => loaded.get(p)?.has(m)).map((p) => p.script);
    assert.deepEqual(rerun, loaders, `editing ${m}`);
  }
});
