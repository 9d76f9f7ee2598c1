import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReplayCall } from '../../schemas/replay-call.ts';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { activePhases } from '../../tasks/phases/registry.ts';
import { runCli, tempProject } from '../helpers/project.ts';

// Optional: one real replay end to end against the OpenAI-compatible server named by
// DISTILL_LOCAL_BASE_URL (e.g. `ollama serve` with `ollama pull qwen2.5:7b-instruct`, then
// DISTILL_LOCAL_BASE_URL=http://127.0.0.1:11434/v1). Nothing is downloaded; without the variable it skips.
const baseUrl = process.env['DISTILL_LOCAL_BASE_URL'];
const skip = baseUrl
  ? false
  : 'DISTILL_LOCAL_BASE_URL is not set: no real model server to replay against (set it, and DISTILL_LOCAL_MODEL, to run this test)';

test(
  'a real local model answers a replay end to end, grounded on retrieved documents, and the call is logged',
  { skip, timeout: 600_000 },
  async () => {
    const root = tempProject('distill-replay-real-');
    const wanted = new Set(['build-evidence', 'score', 'screen', 'export-rag', 'index-rag']);
    for (const p of activePhases((name) => name in COMMANDS).filter((x) => wanted.has(x.phase))) {
      const r = await runCli([...p.argv, '--root', root]);
      assert.equal(r.code, 0, `${p.argv.join(' ')}: ${r.stderr}`);
    }
    const r = await runCli([
      'replay',
      '--task',
      'How long do customers have to return an item, and what condition must it be in?',
      '--json',
      '--root',
      root,
    ]);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: the model server did not answer: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.retrieved_ids.length > 0, true);
    const rows = readFileSync(join(root, 'reports/replay/calls.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => ReplayCall.parse(JSON.parse(l)));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.base_url, baseUrl);
    assert.equal(rows[0]?.error, null);
    assert.ok(rows[0]?.validation !== null);
    process.stderr.write(
      `real replay (${rows[0]?.model}, ${rows[0]?.latency_ms} ms, valid: ${rows[0]?.validation?.ok}):\n${r.code === 0 ? out.final.answer : out.final.messages.join('\n')}\n`,
    );
  },
);
