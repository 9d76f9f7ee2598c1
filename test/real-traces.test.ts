import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO, runCli } from './helpers/project.ts';

const REAL = resolve(REPO, '../shared/real-traces');
const TAU = join(REAL, 'tau-bench/gpt-4o-airline.json');
const skip = existsSync(TAU)
  ? false
  : `real traces not found at ${REAL} (optional: they sit beside the checkout on the dev machines)`;

test(
  'real tau-bench file through build-evidence, score and export-sft: 200 runs, 84 accepted, 116 rejected',
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
    for (const phase of ['build-evidence', 'score', 'screen', 'export-sft', 'export-preference']) {
      const r = await runCli([phase, '--root', dir]);
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
    const sft = readFileSync(join(dir, 'exports/sft/instruction_response.jsonl'), 'utf8')
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
    const prefs = readFileSync(join(dir, 'exports/preference/chosen_rejected.jsonl'), 'utf8')
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
    assert.ok(prefs.length > 0);
    for (const p of prefs)
      assert.ok(mixed.has(p.task_key), `pair from task ${p.task_key} that has no mixed outcomes`);
    process.stderr.write(
      `# tau-bench real: ${sft.length} SFT rows, ${prefs.length} preference pairs from ${mixed.size} mixed tasks\n`,
    );
  },
);
