import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { ScoredRun } from '../schemas/scored-run.ts';
import { prepareConversation } from '../tasks/lib/export/conversation.ts';
import { isCourtesyText } from '../tasks/lib/export/courtesy.ts';
import { isSubstantive } from '../tasks/lib/export/substance.ts';
import { sharedPrefix } from '../tasks/lib/export/pairs.ts';
import { REPO, inProcess } from './helpers/project.ts';

const REAL = resolve(REPO, '../shared/real-traces');
const TAU = join(REAL, 'tau-bench/gpt-4o-airline.json');
const skip = existsSync(TAU)
  ? false
  : `real traces not found at ${REAL} (optional: they sit beside the checkout on the dev machines)`;

/** The text of every day shard `<folder>/<shard>.jsonl` of an export, in shard order. */
function shardsText(dir: string, folder: string): string {
  return readdirSync(join(dir, folder))
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => readFileSync(join(dir, folder, f), 'utf8'))
    .join('');
}

test(
  'real tau-bench file through every export: 200 runs, 84 accepted, 116 rejected; pairs only from one shared context, no pleasantry as a target, every call declared',
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distill-tau-'));
    mkdirSync(join(dir, 'data/_kb/tau_bench'), { recursive: true });
    cpSync(TAU, join(dir, 'data/_kb/tau_bench/gpt-4o-airline.json'));
    writeFileSync(
      join(dir, 'distill.config.json'),
      JSON.stringify({
        schema_version: 1,
        as_of: '2026-11-01T00:00:00.000Z',
        sources: [{ stream: 'tau_bench', adapter: 'tau-bench', files: ['data/_kb/tau_bench/*.json'] }],
      }),
    );
    for (const phase of [
      'build-evidence',
      'score',
      'screen',
      'export-sft',
      'export-preference',
      'export-rag',
    ]) {
      const r = await inProcess([phase, '--root', dir]);
      assert.equal(r.code, 0, `${phase}: ${r.stderr}`);
    }
    const health = JSON.parse(readFileSync(join(dir, 'data/evidence/_health.json'), 'utf8'));
    assert.equal(health.totals.units, 200);
    assert.equal(health.totals.quarantined_units, 0, JSON.stringify(health.totals.by_reason));
    const summary = JSON.parse(readFileSync(join(dir, 'data/scored-runs/_summary.json'), 'utf8'));
    assert.equal(summary.runs, 200);
    assert.deepEqual(summary.by_category, {
      accepted: 84,
      partially_accepted: 0,
      rejected: 116,
      needs_human_review: 0,
    });
    const sft = shardsText(dir, 'exports/sft/instruction_response')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(sft.length > 0 && sft.length <= 84);
    for (const row of sft) assert.equal(row.quality_score, 'accepted');
    // SFT holds only reward-1 trajectories: every row's run has a reward signal of 1
    const scored = new Map<string, { signals: { signal: { type: string; value?: number } }[] }>();
    const files = JSON.parse(readFileSync(join(dir, 'data/scored-runs/_manifest.json'), 'utf8')).files.filter(
      (f: { path: string }) => !f.path.includes('/_'),
    );
    for (const f of files)
      for (const l of readFileSync(join(dir, f.path), 'utf8').trim().split('\n')) {
        const r = JSON.parse(l);
        scored.set(r.run_id, r);
      }
    for (const row of sft)
      assert.equal(scored.get(row.run_id)?.signals.find((s) => s.signal.type === 'reward')?.signal.value, 1);
    // preference pairs come only from tasks with both a passing and a failing trial
    const prefs = shardsText(dir, 'exports/preference/chosen_rejected')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const mixed = new Set<string>();
    const byTask = new Map<string, Set<string>>();
    for (const r of scored.values() as Iterable<{ task_key: string; category: string }>) {
      const s = byTask.get(r.task_key) ?? new Set();
      s.add(r.category);
      byTask.set(r.task_key, s);
    }
    for (const [k, s] of byTask) if (s.has('accepted') && s.has('rejected')) mixed.add(k);
    assert.equal(mixed.size, 26);
    for (const p of prefs)
      assert.ok(mixed.has(p.task_key), `pair from task ${p.task_key} that has no mixed outcomes`);
    // every pair continues one shared context: prompt + each side is the opening of its own run
    for (const p of prefs)
      for (const side of ['chosen', 'rejected'] as const) {
        const run = scored.get(side === 'chosen' ? p.chosen_id : p.rejected_id) as unknown as ScoredRun;
        const conv = prepareConversation(run.run.messages);
        const whole = [...p.prompt, ...p[side]];
        assert.ok(conv.type === 'keep' && sharedPrefix(whole, conv.messages).length === whole.length, p.id);
        assert.ok(p[side].some(isSubstantive), `${p.id} ${side} is only a pleasantry`);
      }
    // no pair is spliced from two dialogues: tau-bench trials never share their opening with a
    // trial of the other outcome except 2 that part at a (simulated) user turn, so no pair at all
    const pm = JSON.parse(readFileSync(join(dir, 'exports/preference/_manifest.json'), 'utf8'));
    assert.equal(prefs.length, 0);
    assert.equal(pm.counts.runs_kto, 200);
    const refused = shardsText(dir, 'exports/preference/_quarantine')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).reason);
    assert.deepEqual(refused, ['PARTED_BY_INPUT', 'PARTED_BY_INPUT']);
    // every SFT row's tool calls name a declared tool; no SFT row ends on a pleasantry
    for (const row of sft) {
      const names = new Set(row.tools.map((t: { function: { name: string } }) => t.function.name));
      for (const m of row.messages)
        for (const c of m.tool_calls ?? [])
          assert.ok(names.has(c.function.name), `${row.id}: ${c.function.name}`);
      assert.ok(isSubstantive(row.messages.at(-1)), `${row.id} ends on a pleasantry`);
    }
    // KTO completions end on substance too; no RAG answer is a bare pleasantry
    for (const l of shardsText(dir, 'exports/preference/unpaired_kto').trim().split('\n')) {
      const k = JSON.parse(l);
      assert.ok(isSubstantive(k.completion.at(-1)), `${k.id} ends on a pleasantry`);
    }
    let answers = 0;
    for (const l of shardsText(dir, 'exports/rag/documents').trim().split('\n')) {
      const a = /\n\nAnswer: ([\s\S]*?)(\n\nPatch:|$)/.exec(JSON.parse(l).text);
      if (!a) continue;
      answers++;
      assert.equal(isCourtesyText(a[1]), false, a[1]);
    }
    assert.ok(answers > 0);
    process.stderr.write(
      `# tau-bench real: ${sft.length} SFT rows, ${prefs.length} preference pairs from ${mixed.size} mixed tasks, ${answers} RAG answers\n`,
    );
  },
);
