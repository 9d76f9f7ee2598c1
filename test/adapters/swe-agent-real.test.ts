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
import type { ChatMessage } from '../../schemas/chat.ts';
import type { ScoredRun } from '../../schemas/scored-run.ts';
import { openaiSftRow } from '../../tasks/lib/export/formats/openai.ts';
import { toSftSample } from '../../tasks/phases/export-sft/run.ts';
import { REPO, runCli } from '../helpers/project.ts';

const REAL = resolve(REPO, '../shared/real-traces');
const SWE = join(REAL, 'swe-agent');
const skip = existsSync(SWE)
  ? false
  : `real traces not found at ${REAL} (optional: they sit beside the checkout on the dev machines)`;

interface Traj {
  trajectory: { action: string; observation: string }[];
}

/** A temp project with the real .traj files under data/_kb/swe_agent/, read with adapter "auto". */
function project(): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'distill-swe-'));
  mkdirSync(join(dir, 'data/_kb/swe_agent'), { recursive: true });
  const files = readdirSync(SWE)
    .filter((f) => f.endsWith('.traj'))
    .sort();
  for (const f of files) cpSync(join(SWE, f), join(dir, 'data/_kb/swe_agent', f));
  writeFileSync(
    join(dir, 'distill.config.json'),
    JSON.stringify({
      schema_version: 1,
      as_of: '2026-11-01T00:00:00.000Z',
      sources: [{ stream: 'swe_agent', adapter: 'auto', files: ['data/_kb/swe_agent/*.traj'] }],
    }),
  );
  return { dir, files };
}

function scoredRuns(dir: string): ScoredRun[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'data/scored-runs/_manifest.json'), 'utf8')) as {
    files: { path: string }[];
  };
  return manifest.files
    .filter((f) => !f.path.includes('/_'))
    .flatMap((f) =>
      readFileSync(join(dir, f.path), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as ScoredRun),
    );
}

test(
  'real SWE-agent trajectories: detected, ingested without a quarantined row, judged by their own outcome (no review needed), attempts at one issue share a task key, and their tool calls survive the OpenAI SFT round trip in order',
  { skip },
  async () => {
    const { dir, files } = project();
    assert.equal(files.length, 3);
    for (const phase of ['build-evidence', 'score']) {
      const r = await runCli([phase, '--root', dir]);
      assert.equal(r.code, 0, `${phase}: ${r.stderr}`);
    }
    const health = JSON.parse(readFileSync(join(dir, 'data/evidence/_health.json'), 'utf8'));
    assert.deepEqual(health.totals.units, 3);
    assert.equal(health.totals.quarantined_units, 0, JSON.stringify(health.totals.by_reason));
    for (const f of health.files)
      assert.deepEqual([f.adapter, f.detected.confidence], ['swe-agent', 1], f.file);
    const runs = scoredRuns(dir);
    assert.equal(runs.length, 3);
    // two of the three are attempts at the same issue (SWE-agent/test-repo#1) under different file names
    const keyOf = (stem: string) => runs.find((r) => r.run_id.includes(stem))?.task_key;
    assert.equal(keyOf('6e44b9__sweagenttestrepo-1c2844'), keyOf('swe-agent__test-repo-i1'));
    assert.notEqual(keyOf('pydicom__pydicom-1458'), keyOf('swe-agent__test-repo-i1'));
    for (const run of runs) {
      // the trace carries its outcome: a submitted patch, not verified by tests → partially accepted
      assert.deepEqual(
        [run.category, run.decided_by, run.signals.map((s) => s.signal)],
        [
          'partially_accepted',
          'R17a-agent-submitted',
          [{ type: 'tool_exit', tool: 'swe-agent:submitted', exit_code: 0 }],
        ],
        run.run_id,
      );
      const file = files.find((f) => run.run_id.endsWith(`/${f.replace(/\.traj$/, '')}`)) as string;
      const traj = JSON.parse(readFileSync(join(SWE, file), 'utf8')) as Traj;
      // what a reviewer's approval would release: the OpenAI SFT row of the run
      const out = toSftSample({ ...run, category: 'accepted' }, { allowed: ['accepted'], testFraction: 0.1 });
      assert.equal(out.type, 'keep', out.type === 'drop' ? `${file}: ${out.reason}: ${out.detail}` : '');
      const row = openaiSftRow((out as Extract<typeof out, { type: 'keep' }>).sample) as {
        messages: Record<string, unknown>[];
      };
      const firstStep = row.messages.findIndex((m) => m.role === 'assistant');
      const steps = row.messages.slice(firstStep);
      // assistant (tool call) / tool (observation) pairs, one per trajectory step; the export ends on the last call
      assert.equal(steps.length, traj.trajectory.length * 2 - 1, file);
      traj.trajectory.forEach((step, i) => {
        const call = steps[2 * i] as {
          role: string;
          tool_calls: { id: string; function: { name: string; arguments: string } }[];
        };
        assert.equal(call.role, 'assistant', `${file} step ${i}`);
        assert.equal(call.tool_calls.length, 1, `${file} step ${i}`);
        const c = call.tool_calls[0] as { id: string; function: { name: string; arguments: string } };
        const args = JSON.parse(c.function.arguments) as Record<string, unknown>;
        if (c.function.name === 'bash' && typeof args['command'] === 'string')
          assert.equal(args['command'], step.action, `${file} step ${i}`);
        const result = steps[2 * i + 1] as
          { role: string; tool_call_id: string; content: string } | undefined;
        if (i < traj.trajectory.length - 1)
          assert.deepEqual(
            [result?.role, result?.tool_call_id, result?.content],
            ['tool', c.id, step.observation],
            `${file} step ${i}`,
          );
      });
      const prompt = row.messages.slice(0, firstStep) as unknown as ChatMessage[];
      assert.ok(
        prompt.some((m) => m.role === 'user' && m.content.includes('ISSUE')),
        `${file}: the issue is in the prompt`,
      );
    }
  },
);

test(
  'real SWE-agent trajectories: with a reviewer approval they go all the way to the OpenAI SFT export, tool calls and results paired in order',
  { skip },
  async () => {
    const { dir, files } = project();
    mkdirSync(join(dir, 'data/_kb/human_reviews'), { recursive: true });
    const reviews = files.map((f, i) =>
      JSON.stringify({
        review_id: `rv${i}`,
        trace_id: `swe-agent:data/_kb/swe_agent/${f.replace(/\.traj$/, '')}`,
        timestamp: '2026-10-20T10:00:00Z',
        reviewer: 'qa',
        decision: 'approve',
      }),
    );
    writeFileSync(join(dir, 'data/_kb/human_reviews/reviews.jsonl'), `${reviews.join('\n')}\n`);
    const config = JSON.parse(readFileSync(join(dir, 'distill.config.json'), 'utf8')) as {
      sources: unknown[];
    };
    config.sources.push({
      stream: 'human_reviews',
      adapter: 'auto',
      files: ['data/_kb/human_reviews/*.jsonl'],
    });
    writeFileSync(join(dir, 'distill.config.json'), JSON.stringify(config));
    for (const phase of ['build-evidence', 'score', 'screen', 'export-sft']) {
      const r = await runCli([phase, '--root', dir]);
      assert.equal(r.code, 0, `${phase}: ${r.stderr}`);
    }
    assert.deepEqual(
      scoredRuns(dir).map((r) => [r.category, r.decided_by]),
      [
        ['accepted', 'R08-human-approve'],
        ['accepted', 'R08-human-approve'],
        ['accepted', 'R08-human-approve'],
      ],
    );
    // every day shard of each split (exports/sft/openai/<split>/<shard>.jsonl)
    const rows = ['train', 'test'].flatMap((s) =>
      readdirSync(join(dir, `exports/sft/openai/${s}`))
        .sort()
        .map((f) => readFileSync(join(dir, `exports/sft/openai/${s}`, f), 'utf8'))
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { messages: Record<string, unknown>[] }),
    );
    assert.equal(rows.length, 3);
    const steps = files
      .map((f) => (JSON.parse(readFileSync(join(SWE, f), 'utf8')) as Traj).trajectory.length)
      .sort((a, b) => a - b);
    // each row: the prompt, then one assistant tool call per step, each but the last answered by its tool result
    const seen = rows.map((row) => {
      const first = row.messages.findIndex((m) => m.role === 'assistant');
      const tail = row.messages.slice(first);
      tail.forEach((m, i) => {
        if (i % 2 === 0) assert.equal((m.tool_calls as unknown[]).length, 1);
        else
          assert.deepEqual(
            [m.role, m.tool_call_id],
            ['tool', ((tail[i - 1] as { tool_calls: { id: string }[] }).tool_calls[0] as { id: string }).id],
          );
      });
      return (tail.length + 1) / 2;
    });
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      steps,
    );
  },
);
