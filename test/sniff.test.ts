import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectFormat } from '../tasks/adapters/detect.ts';
import { sampleFile } from '../tasks/adapters/format-sample.ts';
import { ADAPTERS } from '../tasks/adapters/registry.ts';
import { REPO, inProcess } from './helpers/project.ts';

/** Every fixture and the adapter that must be detected for it. */
const EXPECTED: Record<string, string | null> = {
  'alpaca-eval-pairwise.jsonl': 'pairwise-preference',
  'anthropic-messages.jsonl': 'anthropic-messages',
  'claude-code-session.jsonl': 'claude-code',
  'codex-rollout.jsonl': 'codex',
  'hh-rlhf.jsonl': 'hh-rlhf',
  'langfuse-export.jsonl': 'langfuse',
  'langsmith-runs.jsonl': 'langsmith',
  'litellm-spend-logs.jsonl': 'litellm',
  'openai-chat-log.jsonl': 'openai-chat-log',
  'openai-stored-completions.jsonl': 'openai-stored-completion',
  'otel-genai.jsonl': 'otel-genai',
  'plain.csv': null,
  'swe-agent.traj': 'swe-agent',
  'tau-bench-results.json': 'tau-bench',
  'unrelated.json': null,
};

test('distill sniff: names the adapter of every format fixture, and "unknown" for a CSV and an unrelated JSON document', async () => {
  const files = readdirSync(`${REPO}test/fixtures/formats`).sort();
  assert.deepEqual(files, Object.keys(EXPECTED), 'every fixture has an expected format');
  const r = await inProcess(['sniff', '--json', ...files.map((f) => `test/fixtures/formats/${f}`)]);
  assert.equal(r.code, 1, 'exit 1: some files are unknown');
  const results = JSON.parse(r.stdout) as {
    file: string;
    adapter: string | null;
    confidence: number | null;
  }[];
  assert.deepEqual(Object.fromEntries(results.map((x) => [x.file.split('/').pop(), x.adapter])), EXPECTED);
  for (const x of results)
    if (x.adapter !== null) assert.ok((x.confidence as number) >= 0.75, `${x.file}: ${x.confidence}`);
});

test('distill sniff: one line per file with the confidence and reason; unknown files say why', async () => {
  const r = await inProcess([
    'sniff',
    'test/fixtures/formats/swe-agent.traj',
    'test/fixtures/formats/plain.csv',
    'test/fixtures/formats/unrelated.json',
  ]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stdout,
    [
      'test/fixtures/formats/swe-agent.traj: swe-agent (confidence 1.00): has all 3 swe-agent keys',
      'test/fixtures/formats/plain.csv: unknown: starts with "t", not "{" or "[": not JSON lines, a JSON array or a JSON document',
      'test/fixtures/formats/unrelated.json: unknown: no adapter recognises one JSON document with this row (needs confidence ≥ 0.75); closest: playbook 0.20 (has 1/5 playbook keys (missing playbook_id, title, body_markdown, tags); it reads JSONL, this file is one JSON document)',
      '',
    ].join('\n'),
  );
  const ok = await inProcess(['sniff', 'test/fixtures/formats/codex-rollout.jsonl']);
  assert.deepEqual(
    [ok.code, ok.stdout],
    [
      0,
      'test/fixtures/formats/codex-rollout.jsonl: codex (confidence 0.98): Codex session_meta line with 2/2 of payload, timestamp (mean over 15 rows)\n',
    ],
  );
  const none = await inProcess(['sniff']);
  assert.deepEqual(
    [none.code, none.stderr.trim()],
    [2, '✖ sniff takes one or more files, e.g. `distill sniff logs/session.jsonl` [USAGE]'],
  );
});

test('sniff: a JSONL file whose first line is torn is judged by the rows after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distill-torn-'));
  const f = join(dir, 'rewards.jsonl');
  const row = JSON.stringify({
    trace_id: 't',
    timestamp: '2026-10-02T10:00:00Z',
    environment: 'e',
    reward: 1,
  });
  writeFileSync(f, `{"trace_id":"t0","timest\n${row}\n${row}\n`);
  const s = await sampleFile(f, { maxLineBytes: 1 << 20, maxDepth: 64 });
  assert.equal(s.kind, 'lines');
  assert.equal(s.rows.length, 2);
  const d = detectFormat(s, ADAPTERS);
  assert.deepEqual(d.ok && d.adapter, 'reward');
});
