import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ScoredRun } from '../../schemas/scored-run.ts';
import type { EvidenceRecord } from '../../schemas/evidence-record.ts';
import { exportPreference } from '../../tasks/phases/export-preference/run.ts';
import { exportRag } from '../../tasks/phases/export-rag/run.ts';
import { exportSft } from '../../tasks/phases/export-sft/run.ts';
import type { DistillConfig } from '../../schemas/config.ts';
import {
  editSignal,
  makeProject,
  mkDocument,
  mkJudgment,
  mkRun,
  snapshot,
  writeEvidence,
  writeScored,
} from './fixture.ts';

function corpus(): { runs: ScoredRun[]; evidence: EvidenceRecord[] } {
  const runs: ScoredRun[] = [];
  const cats = [
    'accepted',
    'rejected',
    'accepted',
    'partially_accepted',
    'needs_human_review',
    'rejected',
  ] as const;
  for (let i = 0; i < 30; i++) {
    const category = cats[i % cats.length] as (typeof cats)[number];
    const id = `run-${String(i).padStart(2, '0')}`;
    const correction = category === 'partially_accepted' ? `corrected ${i}` : null;
    runs.push(
      mkRun({
        id,
        category,
        task: `task-${i % 7}`,
        prompt: `Prompt for task ${i % 7}`,
        answer: `answer ${i}`,
        correction,
        signals: correction ? [editSignal(id, correction)] : [],
      }),
    );
  }
  const evidence = [
    mkDocument('d1', 'Playbook one', 'Para one.\n\nPara two is here.'),
    mkDocument('d2', 'Playbook two', 'x'.repeat(50)),
    mkJudgment('j1', 'Greet', 'Hello!', 'Go away.'),
    mkJudgment('j2', 'Thank', 'Thanks!', 'Whatever.'),
  ];
  return { runs, evidence };
}

async function exportAll(root: string, config: DistillConfig): Promise<Map<string, string>> {
  await exportRag(root, config);
  await exportSft(root, config, { includePartial: false });
  await exportSft(root, config, { includePartial: true });
  await exportPreference(root, config);
  return snapshot(join(root, 'exports'));
}

const cfg = { test_fraction: 0.3, rag_chunk_chars: 20, preference_cap_per_task: 2 };

test('running the exports twice gives byte-identical folders, manifests included', async () => {
  const { root, config } = await makeProject(cfg);
  const { runs, evidence } = corpus();
  await writeScored(root, { 'runs.jsonl': runs });
  await writeEvidence(root, { 'ev.jsonl': evidence });
  const first = await exportAll(root, config);
  const second = await exportAll(root, config);
  assert.ok(first.size > 20);
  assert.deepEqual(second, first);
});

test('shuffled day files and row order give byte-identical datasets', async () => {
  const a = await makeProject(cfg);
  const b = await makeProject(cfg);
  const { runs, evidence } = corpus();
  // the day files (screen's partition of runs by recorded_at) are the export's shards: the same
  // partition in both, but b lists the files in another order and holds each file's rows reversed
  const days = { d1: runs.slice(0, 9), d2: runs.slice(9, 20), d3: runs.slice(20) };
  await writeScored(a.root, {
    '2024/05/01/runs.jsonl': days.d1,
    '2024/05/02/runs.jsonl': days.d2,
    '2024/05/03/runs.jsonl': days.d3,
  });
  await writeEvidence(a.root, { 'ev.jsonl': evidence });
  await writeScored(
    b.root,
    {
      '2024/05/03/runs.jsonl': [...days.d3].reverse(),
      '2024/05/01/runs.jsonl': [...days.d1].reverse(),
      '2024/05/02/runs.jsonl': [...days.d2].reverse(),
    },
    ['2024/05/02/runs.jsonl', '2024/05/03/runs.jsonl', '2024/05/01/runs.jsonl'],
  );
  await writeEvidence(b.root, {
    'ev2.jsonl': [...evidence].reverse().slice(0, 2),
    'ev1.jsonl': [...evidence].reverse().slice(2),
  });
  const sa = await exportAll(a.root, a.config);
  const sb = await exportAll(b.root, b.config);
  assert.deepEqual([...sb.keys()], [...sa.keys()]);
  for (const [path, text] of sa) {
    if (path.endsWith('_manifest.json')) {
      // inputs name different upstream files; everything the export wrote is identical
      const ma = JSON.parse(text) as { inputs: unknown };
      const mb = JSON.parse(sb.get(path) as string) as { inputs: { path: string }[] };
      assert.deepEqual({ ...mb, inputs: null }, { ...ma, inputs: null }, path);
      assert.deepEqual(
        mb.inputs.map((i) => i.path),
        [...mb.inputs.map((i) => i.path)].sort(),
        `${path}: inputs sorted`,
      );
    } else assert.equal(sb.get(path), text, path);
  }
});

test('every file of records with ids is sorted by id (code-unit order)', async () => {
  const { root, config } = await makeProject(cfg);
  const { runs, evidence } = corpus();
  await writeScored(root, { 'runs.jsonl': runs });
  await writeEvidence(root, { 'ev.jsonl': evidence });
  const files = await exportAll(root, config);
  let checked = 0;
  for (const [path, text] of files) {
    if (!path.endsWith('.jsonl') || path.includes('_quarantine')) continue;
    const ids = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { id?: string }).id);
    if (ids.length < 2 || ids[0] === undefined) continue;
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => ((a as string) < (b as string) ? -1 : 1)),
      path,
    );
    checked++;
  }
  assert.ok(checked >= 6, `checked ${checked} files`);
});
