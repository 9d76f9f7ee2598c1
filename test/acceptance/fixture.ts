import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { evaluate } from '../../tasks/gates/acceptance/invariants.ts';
import { loadExpected } from '../../tasks/gates/acceptance/expected.ts';
import { loadSnapshot } from '../../tasks/gates/acceptance/load-snapshot.ts';
import {
  buildFixture,
  type AcceptanceHooks,
  type BuiltFixture,
  type PipelineDeps,
} from '../../tasks/gates/acceptance/runner.ts';
import type { Snapshot } from '../../tasks/gates/acceptance/snapshot.ts';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { loadConfig } from '../../tasks/lib/project.ts';
import { activePhases } from '../../tasks/phases/registry.ts';
import { REPO } from '../helpers/project.ts';

/** Shared setup of the acceptance tests: the gate's fixture, built once per test file. */

export const FIXTURE = join(REPO, 'test', 'fixtures', 'acceptance');

/** The pipeline as the CLI runs it, in this process. */
export const DEPS: PipelineDeps = {
  phases: activePhases((name) => name in COMMANDS),
  runPhase: (root, argv) =>
    (COMMANDS[argv[0] as string] as (typeof COMMANDS)[string]).run(root, argv.slice(1)),
};

/** Streams of the bundled config. */
export const BUNDLED = loadConfig(REPO).sources.map((s) => ({ stream: s.stream, adapter: s.adapter }));

const cleanup: string[] = [];
after(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

/** A temp folder removed when the test file ends. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(d);
  return d;
}

/** Builds a fixture folder (three builds, kept until the file ends). */
export async function build(fixtureDir = FIXTURE, hooks?: AcceptanceHooks): Promise<BuiltFixture> {
  const built = await buildFixture({
    fixtureDir,
    expected: loadExpected(fixtureDir),
    bundledStreams: BUNDLED,
    deps: DEPS,
    keep: true,
    ...(hooks ? { hooks } : {}),
  });
  cleanup.push(built.workDir);
  return built;
}

let shared: Promise<BuiltFixture> | null = null;

/** The gate's own fixture, built once per test file. */
export function builtOnce(): Promise<BuiltFixture> {
  shared ??= build();
  return shared;
}

/** A deep copy of the snapshot to break in memory. */
export function copyOf(s: Snapshot): Snapshot {
  return structuredClone(s);
}

/** Ids of the invariants that fail on a snapshot. */
export function failing(s: Snapshot): string[] {
  return evaluate(s)
    .filter((r) => !r.ok)
    .map((r) => r.id);
}

/** Asserts that exactly invariant `id` fails (every other one holds); returns its detail. */
export function onlyFails(s: Snapshot, id: string): string {
  const results = evaluate(s);
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => r.id),
    [id],
    results
      .filter((r) => !r.ok)
      .map((r) => `${r.id}: ${r.detail}`)
      .join('\n'),
  );
  return (results.find((r) => r.id === id) as { detail: string }).detail;
}

/**
 * A copy of the first build's folder, changed by `edit` on disk, loaded again with the builds of
 * `built` (for breaks that only the files on disk can show: a stray output, an edited source).
 */
export async function reloadedAfter(built: BuiltFixture, edit: (root: string) => void): Promise<Snapshot> {
  const root = join(tempDir('distill-acceptance-edit-'), 'first');
  cpSync(built.roots.first, root, { recursive: true });
  edit(root);
  return loadSnapshot(root, {
    expected: built.snapshot.expected,
    bundledStreams: BUNDLED,
    phases: DEPS.phases,
    builds: built.snapshot.builds,
  });
}
