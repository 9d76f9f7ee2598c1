import type { FileEntry, StageReceipt } from '../../schemas/stage-receipt.ts';
import { PIPELINE, type PipelinePhase } from '../../tasks/phases/registry.ts';

/** A fake sha256 made of one repeated hex digit. */
export const sha = (c: string): string => c.repeat(64);

/** A file entry. */
export const file = (path: string, c: string, rows: number | null = 1, bytes = 10): FileEntry => ({
  path,
  sha256: sha(c),
  bytes,
  rows,
});

/** The pipeline entry of a phase. */
export function phaseOf(name: string): PipelinePhase {
  const p = PIPELINE.find((x) => x.phase === name);
  if (!p) throw new Error(`no phase ${name}`);
  return p;
}

/** A successful receipt of a phase, with overrides. */
export function receipt(phase: string, over: Partial<StageReceipt> = {}): StageReceipt {
  return {
    schema_version: 1,
    run_id: 'r1',
    phase,
    code_version: 'unknown',
    schema_versions: {},
    parameters: {},
    inputs: [],
    outputs: [],
    counts: { in: 0, out: 0, quarantined: 0, by_reason: {} },
    stats: {},
    started_at: '2026-11-01T00:00:00.000Z',
    duration_ms: 1,
    ok: true,
    errors: [],
    ...over,
  };
}

/** A small consistent chain: build-evidence → score → export-sft, the way the phases write them. */
export function chain(): { evidence: StageReceipt; score: StageReceipt; sft: StageReceipt } {
  const evidence = receipt('build-evidence', {
    inputs: [file('data/_kb/a.jsonl', '1', null, 300)],
    outputs: [
      file('data/evidence/2026/10/01/a.jsonl', 'a', 9, 900),
      file('data/evidence/_quarantine/a.jsonl', 'b', 2),
      file('data/evidence/_health.json', 'c', null),
    ],
    counts: { in: 10, out: 8, quarantined: 2, by_reason: { JSON_PARSE: 1, SCHEMA_INVALID: 1 } },
    stats: { files: 1, files_refused: 0, records: 9 },
  });
  const score = receipt('score', {
    inputs: [file('data/evidence/2026/10/01/a.jsonl', 'a', 9, 900)],
    outputs: [
      file('data/scored-runs/2026/10/01/runs.jsonl', 'd', 4, 400),
      file('data/scored-runs/_quarantine.jsonl', 'e', 1),
    ],
    counts: { in: 9, out: 8, quarantined: 1, by_reason: { ORPHAN_SIGNAL: 1 } },
    stats: {
      runs: 4,
      'category.accepted': 2,
      'category.partially_accepted': 1,
      'category.rejected': 1,
      'category.needs_human_review': 0,
    },
  });
  const sft = receipt('export-sft', {
    inputs: [file('data/scored-runs/2026/10/01/runs.jsonl', 'd', 4, 400)],
    outputs: [
      file('exports/sft/instruction_response.jsonl', 'f', 2, 2000),
      file('exports/sft/openai/train.jsonl', '7', 2, 1500),
      file('exports/sft/_quarantine.jsonl', '8', 2, 700),
    ],
    counts: {
      in: 4,
      out: 2,
      quarantined: 0,
      by_reason: {},
      excluded: 2,
      excluded_by_reason: { CATEGORY_EXCLUDED: 2 },
    },
    stats: { rows: 2, train: 2, test: 0 },
  });
  return { evidence, score, sft };
}
