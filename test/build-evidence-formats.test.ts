import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Adapter } from '../tasks/adapters/adapter.ts';
import { materializeSession, parseUnit, type ParsedUnit } from '../tasks/phases/build-evidence/core.ts';
import { sigHash } from '../tasks/lib/hash.ts';
import { builtProject } from './helpers/built.ts';
import { REPO, inProcess, tempProject, treeHashes } from './helpers/project.ts';

const FIXTURES = join(REPO, 'test/fixtures/formats');
const CONFIG = { schema_version: 1, as_of: '2026-11-01T00:00:00.000Z' };

/** A project whose sources are the given fixtures, one stream each, all with adapter "auto". */
function fixtureProject(names: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'distill-formats-'));
  mkdirSync(join(dir, 'data/in'), { recursive: true });
  for (const n of names) cpSync(join(FIXTURES, n), join(dir, 'data/in', n));
  const sources = names.map((n) => ({
    stream: n.replace(/\..*$/, '').replace(/-/g, '_'),
    adapter: 'auto',
    files: [`data/in/${n}`],
  }));
  writeFileSync(join(dir, 'distill.config.json'), JSON.stringify({ ...CONFIG, sources }));
  return dir;
}

const FORMAT_FIXTURES = readdirSync(FIXTURES)
  .filter((f) => f !== 'plain.csv' && f !== 'unrelated.json')
  .sort();

interface Health {
  file: string;
  adapter: string;
  units: number;
  evidence_units: number;
  quarantined_units: number;
  records: number;
  detected: { confidence: number; reason: string } | null;
}

const jsonl = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('build-evidence with adapter "auto": every fixture is read by its adapter (recorded in _health.json) and every line is accounted for', async () => {
  const dir = fixtureProject(FORMAT_FIXTURES);
  const r = await inProcess(['build-evidence', '--root', dir]);
  assert.equal(r.code, 0, r.stderr);
  const health = JSON.parse(readFileSync(join(dir, 'data/evidence/_health.json'), 'utf8')) as {
    files: Health[];
    totals: { units: number; evidence_units: number; quarantined_units: number };
  };
  const rows = health.files.map((h) => [
    h.file.replace('data/in/', ''),
    h.adapter,
    h.units,
    h.evidence_units,
    h.quarantined_units,
    h.records,
  ]);
  assert.deepEqual(rows, [
    ['alpaca-eval-pairwise.jsonl', 'pairwise-preference', 4, 2, 2, 2],
    ['anthropic-messages.jsonl', 'anthropic-messages', 6, 5, 1, 5],
    ['claude-code-session.jsonl', 'claude-code', 12, 11, 1, 1],
    ['codex-rollout.jsonl', 'codex', 15, 14, 1, 1],
    ['hh-rlhf.jsonl', 'hh-rlhf', 6, 2, 4, 2],
    ['langfuse-export.jsonl', 'langfuse', 14, 11, 3, 7],
    ['langsmith-runs.jsonl', 'langsmith', 10, 8, 2, 5],
    ['litellm-spend-logs.jsonl', 'litellm', 6, 3, 3, 3],
    ['openai-chat-log.jsonl', 'openai-chat-log', 8, 7, 1, 7],
    ['openai-stored-completions.jsonl', 'openai-stored-completion', 4, 2, 2, 2],
    ['otel-genai.jsonl', 'otel-genai', 6, 4, 2, 7],
    ['swe-agent.traj', 'swe-agent', 1, 1, 0, 2],
    ['tau-bench-results.json', 'tau-bench', 2, 2, 0, 4],
  ]);
  for (const h of health.files) {
    assert.equal(h.units, h.evidence_units + h.quarantined_units, h.file);
    assert.ok(h.detected !== null && h.detected.confidence >= 0.75, h.file);
  }
  assert.deepEqual(health.files.find((h) => h.file.endsWith('swe-agent.traj'))?.detected, {
    confidence: 1,
    reason: 'has all 3 swe-agent keys',
  });
  // the quarantine holds exactly the lines not merged into a record, each with its own line number
  const q = jsonl(join(dir, 'data/evidence/_quarantine/claude_code_session.jsonl'));
  assert.deepEqual(
    q.map((x) => [x.line_offset, x.reason]),
    [[8, 'SCHEMA_MISSING_FIELD']],
  );
  const lf = jsonl(join(dir, 'data/evidence/_quarantine/langfuse_export.jsonl'));
  assert.deepEqual(
    lf.map((x) => [x.line_offset, x.reason]),
    [
      [7, 'SIGNAL_UNMAPPABLE'],
      [12, 'SCHEMA_MISSING_FIELD'],
      [13, 'SCHEMA_MISSING_FIELD'],
    ],
  );
});

test('build-evidence: a session record points at its first line, and its id changes when a later line changes', async () => {
  const dir = fixtureProject(['claude-code-session.jsonl']);
  assert.equal((await inProcess(['build-evidence', '--root', dir])).code, 0);
  const file = join(dir, 'data/in/claude-code-session.jsonl');
  const evidence = () => jsonl(join(dir, 'data/evidence/2026/10/10/claude_code_session.jsonl'));
  const [before] = evidence();
  const firstLine = readFileSync(file, 'utf8').split('\n')[0] as string;
  const prov = before?.provenance as { line_offset: number; sig_hash: string; locator?: string };
  assert.deepEqual([prov.line_offset, prov.locator], [0, undefined]);
  assert.equal(
    prov.sig_hash,
    sigHash(JSON.parse(firstLine)),
    'the first line is the provenance: `distill trace` re-hashes it',
  );
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[11] = (lines[11] as string).replace('now returns', 'returns');
  writeFileSync(file, lines.join('\n'));
  assert.equal((await inProcess(['build-evidence', '--root', dir, '--accept-source-changes'])).code, 0);
  const [after] = evidence();
  assert.equal((after?.provenance as { sig_hash: string }).sig_hash, prov.sig_hash, 'same first line');
  assert.notEqual(after?.evidence_id, before?.evidence_id, 'a different session gets a different id');
});

test('build-evidence with adapter "auto": a file no adapter recognises stops the build and names the closest candidates', async () => {
  const dir = fixtureProject(['plain.csv', 'unrelated.json']);
  const r = await inProcess(['build-evidence', '--root', dir]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /source plain: data\/in\/plain\.csv: no adapter recognises this file \(adapter "auto"\): starts with "t", not "\{" or "\[": not JSON lines, a JSON array or a JSON document\. Set "adapter" for this source in distill\.config\.json \(`distill sniff data\/in\/plain\.csv` shows the candidates\), or convert the file to a supported format \(docs\/sources\.md\)\./,
  );
  assert.equal(existsSync(join(dir, 'data/evidence/_health.json')), false, 'nothing was published');
});

test('build-evidence: adapter "auto" on the bundled corpus builds the same evidence as the named adapters', async () => {
  // the named adapters' build is the suite's `evidence` template (test/helpers/built.ts)
  const named = await builtProject('evidence', 'distill-named-');
  const auto = tempProject('distill-auto-');
  const config = JSON.parse(readFileSync(join(auto, 'distill.config.json'), 'utf8')) as {
    sources: { adapter: string }[];
  };
  for (const s of config.sources) s.adapter = 'auto';
  writeFileSync(join(auto, 'distill.config.json'), JSON.stringify(config));
  assert.equal((await inProcess(['build-evidence', '--root', auto])).code, 0);
  const data = (d: string) =>
    Object.fromEntries(
      Object.entries(treeHashes(join(d, 'data/evidence'))).filter(([k]) => !k.startsWith('_')),
    );
  assert.deepEqual(data(auto), data(named));
  const health = JSON.parse(readFileSync(join(auto, 'data/evidence/_health.json'), 'utf8')) as {
    files: Health[];
  };
  assert.ok(health.files.every((h) => h.detected !== null));
  assert.deepEqual([...new Set(health.files.map((h) => h.adapter))].sort(), [
    'agent-trajectory',
    'auditor-verdict',
    'error-event',
    'gateway-call',
    'human-review',
    'knowledge-doc',
    'pairwise-preference',
    'playbook',
    'reward',
    'tau-bench',
    'test-result',
    'tool-outcome',
  ]);
});

test('materializeSession: an adapter that leaves a line out, or counts one twice, is a bug that stops the build', () => {
  const unit = (index: number, text: string) => ({
    index,
    offset: index * 10,
    bytes: text.length,
    text,
    raw: Buffer.from(text),
    rawSha256: null,
    terminated: true,
    flags: [],
    issue: null,
  });
  const config = {
    as_of: '2026-11-01T00:00:00.000Z',
    future_skew_hours: 24,
    limits: { max_line_bytes: 1024, max_depth: 64 },
  };
  const fake = (groups: number[][]): Adapter => ({
    name: 'fake',
    description: 'fake',
    shape: 'jsonl-session',
    sniff: () => ({ confidence: 0, reason: '' }),
    toEvidence: () => ({ type: 'drop', reason: 'X', detail: '' }),
    toEvidenceFile: () =>
      groups.map((units) => ({
        units,
        output: { type: 'drop', reason: 'NO_CONVERSATION', detail: 'nothing' },
      })),
  });
  const parsed = [unit(0, '{"a":1}'), unit(1, '{"a":2}')].map(
    (u) => (parseUnit(u, fake([]), config) as { ok: true; parsed: ParsedUnit }).parsed,
  );
  const src = { stream: 's', file: 'f.jsonl' };
  assert.throws(
    () => materializeSession(parsed, fake([[0]]), src, config),
    /adapter fake left 1 of 2 lines of f\.jsonl unaccounted for/,
  );
  assert.throws(
    () => materializeSession(parsed, fake([[0, 1], [1]]), src, config),
    /adapter fake accounted for line 1 of f\.jsonl twice/,
  );
  const ok = materializeSession(parsed, fake([[1, 0]]), src, config);
  assert.deepEqual(
    ok.map((g) => [g.members.map((m) => m.unit.index), g.outcome.type]),
    [[[0, 1], 'drop']],
  );
});

test('build-evidence with adapter "auto": an empty file needs no adapter, a symlink stops the build until accepted, then is refused whole', async () => {
  const dir = fixtureProject(['codex-rollout.jsonl']);
  writeFileSync(join(dir, 'data/in/empty.jsonl'), '');
  symlinkSync(join(dir, 'data/in/codex-rollout.jsonl'), join(dir, 'data/in/link.jsonl'));
  const config = JSON.parse(readFileSync(join(dir, 'distill.config.json'), 'utf8')) as {
    sources: { files: string[] }[];
  };
  (config.sources[0] as { files: string[] }).files = ['data/in/*.jsonl'];
  writeFileSync(join(dir, 'distill.config.json'), JSON.stringify(config));
  const refused = await inProcess(['build-evidence', '--root', dir]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /\[SOURCE_REFUSED\] source \w+: data\/in\/link\.jsonl: refused whole \(SYMLINK_INPUT/,
  );
  const r = await inProcess(['build-evidence', '--root', dir, '--accept-source-changes']);
  assert.equal(r.code, 0, r.stderr);
  // accepted once: the next build refuses it the same way without stopping
  assert.equal((await inProcess(['build-evidence', '--root', dir])).code, 0);
  const health = JSON.parse(readFileSync(join(dir, 'data/evidence/_health.json'), 'utf8')) as {
    files: (Health & { file_refused: string | null })[];
  };
  assert.deepEqual(
    health.files.map((h) => [h.file, h.adapter, h.units, h.file_refused, h.detected?.confidence ?? null]),
    [
      ['data/in/codex-rollout.jsonl', 'codex', 15, null, 0.98],
      ['data/in/empty.jsonl', 'auto', 0, null, null],
      ['data/in/link.jsonl', 'auto', 0, 'SYMLINK_INPUT', null],
    ],
  );
});
