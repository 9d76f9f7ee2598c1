import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { globbySync } from 'globby';
import { DistillConfig } from '../schemas/config.ts';
import { getAdapter } from '../tasks/adapters/registry.ts';
import { STREAMS } from '../tasks/dev/corpus/streams.ts';
import { loadConfig } from '../tasks/lib/project.ts';
import { UserError } from '../tasks/lib/result.ts';
import { namedAdapter } from '../tasks/phases/build-evidence/resolve-adapters.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const config = DistillConfig.parse(
  JSON.parse(readFileSync(resolve(repoRoot, 'distill.config.json'), 'utf8')),
);

test('config: distill.config.json is valid, dated before its sample, with no eval sets yet', () => {
  assert.equal(config.schema_version, 1);
  assert.equal(config.as_of, '2026-11-01T00:00:00.000Z');
  assert.deepEqual(config.eval_sets, []);
});

test('config: one source per generated stream, each naming a registered adapter', () => {
  assert.deepEqual(config.sources.map((s) => s.stream).sort(), [...STREAMS].sort());
  for (const s of config.sources)
    assert.ok(getAdapter(s.adapter), `${s.stream}: adapter "${s.adapter}" is not registered`);
});

test('config: every source glob matches committed sample files', () => {
  for (const s of config.sources) {
    const files = globbySync(s.files, { cwd: repoRoot });
    assert.ok(files.length > 0, `${s.stream}: ${s.files.join(', ')} matches no file`);
  }
});

/** A temp project whose distill.config.json is `text`. */
function projectWith(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'distill-config-'));
  writeFileSync(join(dir, 'distill.config.json'), text);
  return dir;
}
const BUNDLED = readFileSync(resolve(repoRoot, 'distill.config.json'), 'utf8');
const errorOf = (fn: () => unknown): UserError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  assert.fail('expected a UserError');
};

test('config errors: a trailing comma is named at its line and column, the comma itself', () => {
  const dir = projectWith(BUNDLED.replace('"eval_sets": []', '"eval_sets": [],'));
  const e = errorOf(() => loadConfig(dir));
  assert.equal(e.code, 'CONFIG_INVALID');
  const line = BUNDLED.split('\n').findIndex((l) => l.includes('"eval_sets"')) + 1;
  const column = BUNDLED.split('\n')[line - 1]!.indexOf('[]') + 3;
  assert.equal(
    e.message,
    `${join(dir, 'distill.config.json')}:${line}:${column}: trailing comma before "}" (JSON allows no comma after the last item; remove it)\ndistill.config.json is not valid JSON`,
  );
});

test('config errors: a missing comma and a comment are named in words with line:column', () => {
  const missing = errorOf(() => loadConfig(projectWith('{\n  "schema_version": 1\n  "as_of": "x"\n}\n')));
  assert.match(missing.message, /distill\.config\.json:3:3: a comma is missing between two items\n/);
  const comment = errorOf(() => loadConfig(projectWith('{\n  // mine\n  "schema_version": 1\n}\n')));
  assert.match(comment.message, /distill\.config\.json:2:3: comments are not JSON\n/);
});

test('config errors: schema problems at the line of the field, did-you-mean for misspelt keys and snake_case for stream names', () => {
  const text = BUNDLED.replace('"as_of"', '"as_off"')
    .replace('"stream": "rewards"', '"stream": "Reward-Events"')
    .replace('"schema_version": 1,', '"schema_version": 1,\n  "exports": { "test_fractoin": 0.2 },');
  const dir = projectWith(text);
  const file = join(dir, 'distill.config.json');
  const lineOf = (needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  const e = errorOf(() => loadConfig(dir));
  const lines = e.message.split('\n');
  assert.equal(lines[0], 'distill.config.json is invalid:');
  assert.ok(
    lines.includes(`  ${file}:${lineOf('"as_off"')}:3: unknown key "as_off"; did you mean "as_of"?`),
    e.message,
  );
  assert.ok(
    lines.includes(
      `  ${file}:${lineOf('"exports"')}:16: exports: unknown key "test_fractoin"; did you mean "test_fraction"?`,
    ),
    e.message,
  );
  const rewards = lineOf('Reward-Events');
  const col = text.split('\n')[rewards - 1]!.indexOf('"Reward-Events"') + 1;
  assert.ok(
    lines.includes(
      `  ${file}:${rewards}:${col}: sources.6.stream: stream names are lowercase snake_case; did you mean "reward_events"?`,
    ),
    e.message,
  );
});

test('config errors: a stream named twice points at the second one', () => {
  const text = BUNDLED.replace('"stream": "rewards"', '"stream": "tool_outcomes"');
  const e = errorOf(() => loadConfig(projectWith(text)));
  assert.match(
    e.message,
    /distill\.config\.json:\d+:\d+: stream "tool_outcomes" is named by two sources; give each source its own stream name$/,
  );
});

test('config errors: an adapter typo names the line and column and the adapter it was meant to be', () => {
  const text = BUNDLED.replace('"adapter": "tau-bench"', '"adapter": "tau-bnech"');
  const dir = projectWith(text);
  const config = loadConfig(dir);
  const source = config.sources.find((s) => s.stream === 'tau_bench')!;
  const line = text.split('\n').findIndex((l) => l.includes('tau-bnech')) + 1;
  const column = text.split('\n')[line - 1]!.indexOf('"tau-bnech"') + 1;
  const e = errorOf(() => namedAdapter(source, dir));
  assert.equal(
    e.message,
    `${join(dir, 'distill.config.json')}:${line}:${column}: source tau_bench: unknown adapter "tau-bnech"; did you mean "tau-bench"? (every adapter and its format: docs/sources.md; \`distill sniff <file>\` names the one a file needs)`,
  );
  const far = errorOf(() => namedAdapter({ ...source, adapter: 'my-own-format' }, dir));
  assert.match(
    far.message,
    /unknown adapter "my-own-format"; use "auto" or one of: .*gateway-call.*tau-bench/,
  );
});
