/**
 * Derives the wireit entry of every pipeline phase from the phase registry and the module graph,
 * so no input list is kept by hand (a hand-kept list drifts, and wireit then serves stale output).
 *
 *   npm run wireit:inputs            rewrites the entries in package.json and tasks/phases/code-inputs.json
 *   npm run wireit:inputs -- --check exit 1, naming each difference, when either is stale
 *
 * A phase's code is every module of its own folder and every other module it can load (the
 * static closure of the CLI entry and of the run kit it imports when a command runs, plus the
 * whole closure, dynamic imports and worker entry points included, of its `run.ts`); the lists go
 * to tasks/phases/code-inputs.json, and `run-all --begin` hashes them into
 * `.distill/code/<phase>.json` (tasks/run/code-digest.ts). A phase's `files` are that code
 * fingerprint, the upstream manifests, its data inputs, the launcher, `tsconfig.json` and
 * `distill.config.json`. Acceptance runs every phase in-process and has no begin-run before it,
 * so its `files` are the modules of the whole closure of the CLI themselves.
 * test/wireit-inputs.test.ts checks the result against the graph and against the modules a phase
 * really loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_INPUTS, PIPELINE, type PipelinePhase } from '../phases/registry.ts';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { codeDigestPath, type CodeInputs } from '../run/code-digest.ts';
import { ALL_EDGES, closure, readModuleGraph, STATIC_EDGES, type ModuleGraph } from './import-graph.ts';

/** The CLI entry every wireit command starts from (through the launcher). */
export const CLI_ENTRY = 'tasks/cli/main.ts';
/**
 * What every wireit command runs: the launcher, which runs the precompiled JavaScript of the code
 * (compiled when stale, bin/precompile.js). Its files are inputs: they decide what code runs.
 */
export const LAUNCHER = ['bin/distill.js', 'bin/precompile.js'];
/** The command line of a CLI command in package.json. */
export const cliCommand = (argv: readonly string[]): string => ['node', LAUNCHER[0], ...argv].join(' ');
/** What every command loads when it runs (imported after start-up, so not in the entry's static closure). */
export const CLI_RUN_KIT = 'tasks/cli/phase-kit.ts';
/** Files every phase reads besides code: the TypeScript settings tsx honours and the project config. */
const SETTINGS = ['tsconfig.json', 'distill.config.json'];
const MANIFEST = '_manifest.json';

/** The wireit fields this script owns for one npm script. */
export interface WireitEntry {
  command?: string;
  dependencies?: (string | { script: string; cascade: boolean })[];
  files?: string[];
  output?: string[];
  clean?: boolean;
}

/** Every module a phase can load, root-relative and sorted. */
export function phaseModules(graph: ModuleGraph, p: PipelinePhase): string[] {
  const cli = closure(graph, [CLI_ENTRY, CLI_RUN_KIT], STATIC_EDGES);
  const own = closure(graph, [`tasks/phases/${p.folder}/run.ts`], ALL_EDGES);
  return [...new Set([...cli, ...own])].sort();
}

/**
 * Modules as wireit globs: a folder all of whose modules (at any depth) are listed becomes
 * `<folder>/**\/*.ts` (the largest such folder wins), any other module stays a path. Exact either
 * way: a module added to such a folder is in the glob, and the staleness check adds it to the
 * closure or reports it.
 */
export function asGlobs(graph: ModuleGraph, modules: readonly string[]): string[] {
  const listed = new Set(modules);
  const all = [...graph.keys()];
  const whole = (dir: string): boolean =>
    all.filter((f) => f.startsWith(`${dir}/`)).every((f) => listed.has(f));
  const out: string[] = [];
  const covered = new Set<string>();
  for (const f of modules) {
    if (covered.has(f)) continue;
    // the outermost folder (below the top-level code folder) whose modules are all listed
    const parts = f.split('/');
    let glob: string | null = null;
    for (let i = 2; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (whole(dir)) {
        glob = dir;
        break;
      }
    }
    if (glob === null) {
      out.push(f);
      continue;
    }
    for (const g of all) if (g.startsWith(`${glob}/`)) covered.add(g);
    out.push(`${glob}/**/*.ts`);
  }
  return alternatives([...new Set(out)]);
}

/** A module name an extglob alternative can hold as it is (no glob syntax to escape). */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * The module paths of one folder as one pattern: `tasks/lib/@(hash|log|lock).ts` (an extglob:
 * exactly those files), at the place of the folder's first path; folder globs and lone paths stay
 * as they are. The same files, so the same wireit fingerprint, but far fewer patterns: wireit adds
 * a `<pattern>/**` to every pattern, and fast-glob makes a task of its own (a readdir) and
 * picomatch compiles a matcher for each literal path (acceptance's ~140 paths become 19 patterns;
 * when the phases listed their modules this way, ~0.3 s of a no-op's CPU went to the ~680 paths;
 * docs/performance.md, "Issue #22: the no-op").
 */
export function alternatives(globs: readonly string[]): string[] {
  const byDir = new Map<string, string[]>();
  const split = (g: string): [string, string] | null => {
    const m = /^(.+)\/([^/]+)\.ts$/.exec(g);
    return m && PLAIN_NAME.test(m[2] as string) && !/[*?[\]{}()!@+|]/.test(m[1] as string)
      ? [m[1] as string, m[2] as string]
      : null;
  };
  for (const g of globs) {
    const s = split(g);
    if (s) byDir.set(s[0], [...(byDir.get(s[0]) ?? []), s[1]]);
  }
  const out: string[] = [];
  for (const g of globs) {
    const s = split(g);
    const names = s ? (byDir.get(s[0]) as string[]) : [];
    if (!s || names.length < 2) out.push(g);
    else if (names[0] === s[1]) out.push(`${s[0]}/@(${names.join('|')}).ts`);
  }
  return out;
}

/**
 * A phase's code: every module of its folder and every other module it can load, sorted. Listed in
 * tasks/phases/code-inputs.json; begin-run hashes them into the phase's code fingerprint
 * (tasks/run/code-digest.ts), which is what wireit hashes.
 */
export function phaseCode(graph: ModuleGraph, p: PipelinePhase): string[] {
  const folder = `tasks/phases/${p.folder}/`;
  const own = [...graph.keys()].filter((f) => f.startsWith(folder));
  return [...new Set([...own, ...phaseModules(graph, p)])].sort();
}

/** The derived tasks/phases/code-inputs.json: phase → its code. */
export function codeInputs(graph: ModuleGraph): CodeInputs {
  return Object.fromEntries(PIPELINE.map((p) => [p.phase, phaseCode(graph, p)]));
}

/** The text of tasks/phases/code-inputs.json. */
export const codeInputsText = (inputs: CodeInputs): string => `${JSON.stringify(inputs, null, 2)}\n`;

/** The wireit `files` of a phase: its code fingerprint (not the modules), upstream manifests, data, launcher and settings. */
export function phaseFiles(graph: ModuleGraph, p: PipelinePhase): string[] {
  const upstream = p.upstream.map((u) => `${phaseNamed(u).outDir}/${MANIFEST}`);
  return [codeDigestPath(p.phase), ...upstream, ...(p.data ?? []), ...LAUNCHER, ...SETTINGS];
}

function phaseNamed(name: string): PipelinePhase {
  const p = PIPELINE.find((x) => x.phase === name);
  if (!p) throw new Error(`phase registry: unknown upstream phase ${name}`);
  return p;
}

/** The full wireit entry of a pipeline phase. */
export function phaseEntry(graph: ModuleGraph, p: PipelinePhase): WireitEntry {
  const deps: { script: string; cascade: boolean }[] = p.upstream.map((u) => ({
    script: phaseNamed(u).script,
    cascade: false,
  }));
  // the first phase starts every build: begin-run writes the run id and the source fingerprint it reads
  if (p.upstream.length === 0) deps.unshift({ script: 'begin-run', cascade: false });
  return {
    command: cliCommand(p.argv),
    dependencies: deps,
    files: phaseFiles(graph, p),
    output: [`${p.outDir}/**`, `reports/distillation/latest/${p.phase}.receipt.json`],
    clean: false,
  };
}

/** The acceptance gate's `files`: it builds the fixture with every phase in-process. */
export function acceptanceFiles(graph: ModuleGraph): string[] {
  return [
    ...asGlobs(graph, closure(graph, [CLI_ENTRY], ALL_EDGES)),
    'test/fixtures/acceptance/**',
    ...LAUNCHER,
    ...SETTINGS,
  ];
}

/** The derived entries: script name → the fields this script owns. */
export function derivedEntries(graph: ModuleGraph): Record<string, WireitEntry> {
  const out: Record<string, WireitEntry> = {};
  for (const p of PIPELINE) out[p.script] = phaseEntry(graph, p);
  out['acceptance'] = { files: acceptanceFiles(graph) };
  // audit-full checks acceptance.json among its 16 checks: the graph brings acceptance up to date
  // first (cached until code or fixture change), so a fresh clone's first audit is not 15/16.
  // No `files`: wireit runs it every time (it reads and appends the baseline).
  out['audit-full'] = { command: cliCommand(['audit-full']), dependencies: ['acceptance'] };
  return out;
}

type Json = Record<string, unknown>;

/** package.json with the derived fields in place (other scripts and fields untouched). */
export function applyEntries(pkg: Json, entries: Record<string, WireitEntry>): Json {
  const wireit = { ...(pkg['wireit'] as Record<string, Json>) };
  for (const [name, entry] of Object.entries(entries)) wireit[name] = { ...(wireit[name] ?? {}), ...entry };
  return { ...pkg, wireit };
}

/** Differences between package.json's wireit entries and the derived ones, one line each. */
export function staleEntries(pkg: Json, entries: Record<string, WireitEntry>): string[] {
  const wireit = (pkg['wireit'] ?? {}) as Record<string, Json>;
  const out: string[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    for (const [field, want] of Object.entries(entry)) {
      const have = wireit[name]?.[field];
      if (JSON.stringify(have) === JSON.stringify(want)) continue;
      if (field === 'files' && Array.isArray(have)) {
        const missing = (want as string[]).filter((f) => !(have as string[]).includes(f));
        const extra = (have as string[]).filter((f) => !(want as string[]).includes(f));
        out.push(
          `${name}.files: ${[...missing.map((f) => `missing ${f}`), ...extra.map((f) => `not derived ${f}`)].join(', ') || 'order differs'}`,
        );
      } else out.push(`${name}.${field}: is ${JSON.stringify(have)}, derived ${JSON.stringify(want)}`);
    }
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const path = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as Json;
  const graph = readModuleGraph(root);
  const entries = derivedEntries(graph);
  const stale = staleEntries(pkg, entries);
  const codePath = join(root, CODE_INPUTS);
  const codeText = codeInputsText(codeInputs(graph));
  const codeStale = (existsSync(codePath) ? readFileSync(codePath, 'utf8') : '') !== codeText;
  if (codeStale) stale.push(`${CODE_INPUTS}: not the derived module lists`);
  if (argv.includes('--check')) {
    if (stale.length === 0) return 0;
    process.stderr.write(
      `package.json's wireit entries or ${CODE_INPUTS} are not the derived ones; run \`npm run wireit:inputs\`:\n${stale.map((s) => `  ${s}`).join('\n')}\n`,
    );
    return 1;
  }
  if (stale.length > (codeStale ? 1 : 0))
    await writeFileAtomic(path, `${JSON.stringify(applyEntries(pkg, entries), null, 2)}\n`);
  if (codeStale) await writeFileAtomic(codePath, codeText);
  process.stderr.write(
    stale.length === 0
      ? 'package.json, code-inputs.json: wireit inputs already derived\n'
      : `package.json, code-inputs.json: ${stale.length} stale fields rewritten\n`,
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = await main(process.argv.slice(2));
