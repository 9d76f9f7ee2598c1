import { createHash } from 'node:crypto';
import type { EvidenceRecord } from '../../../schemas/evidence-record.ts';
import { EVIDENCE_DIR, SCORED_DIR } from '../../phases/registry.ts';
import { n } from '../../lib/log.ts';
import { scoredPartition } from '../../phases/score/contract.ts';
import { scoreTrace, type TraceGroup } from '../../phases/score/core.ts';
import type { CheckFn } from './check-list.ts';
import { Findings, plural } from './findings.ts';
import { dataFilesOf, phaseManifest, readRows } from './rows.ts';

/**
 * score-determinism: the scored-run files on disk must be exactly what score's pure core gives for
 * the evidence on disk. The evidence is grouped by trace_id as the score phase does, each trace is
 * scored with `scoreTrace`, runs are written by day partition in run_id order, and the sha256 of
 * each partition's bytes is compared with data/scored-runs/_manifest.json. Memory: every run and
 * signal of the evidence (the score phase holds the same).
 */

/** sha256 and rows of each scored-run partition file the evidence gives, by path under data/scored-runs/. */
export async function rescore(
  root: string,
  evidenceFiles: readonly string[],
): Promise<Map<string, { sha256: string; rows: number }>> {
  const groups = new Map<string, TraceGroup>();
  for (const rel of evidenceFiles) {
    for await (const r of readRows(root, rel)) {
      if (!r.ok) continue; // evidence-schema reports it
      const e = r.value as EvidenceRecord;
      if (e.kind === 'document' || e.kind === 'judgment' || e.trace_id === null) continue;
      let g = groups.get(e.trace_id);
      if (!g) groups.set(e.trace_id, (g = { runs: [], signals: [] }));
      if (e.kind === 'run') g.runs.push(e);
      else g.signals.push(e);
    }
  }
  const parts = new Map<string, string[]>();
  for (const id of [...groups.keys()].sort()) {
    const { run } = scoreTrace(id, groups.get(id) as TraceGroup);
    if (!run) continue;
    const p = `${SCORED_DIR}/${scoredPartition(run)}`;
    let lines = parts.get(p);
    if (!lines) parts.set(p, (lines = []));
    lines.push(JSON.stringify(run));
  }
  const out = new Map<string, { sha256: string; rows: number }>();
  for (const [p, lines] of parts)
    out.set(p, {
      sha256: createHash('sha256')
        .update(lines.map((l) => `${l}\n`).join(''))
        .digest('hex'),
      rows: lines.length,
    });
  return out;
}

/** score-determinism: re-score in memory and compare each partition's sha256 with the scored manifest. */
export const scoreDeterminism: CheckFn = async ({ root }) => {
  const f = new Findings();
  const ev = await phaseManifest(root, EVIDENCE_DIR);
  const sc = await phaseManifest(root, SCORED_DIR);
  if (!ev.ok || !sc.ok) {
    f.add(`${!ev.ok ? ev.error : (sc as { error: string }).error}; build with \`npm run score\``);
    return f.outcome('');
  }
  const expected = await rescore(root, dataFilesOf(ev.value));
  const onDisk = new Map(sc.value.files.filter((e) => !e.path.includes('/_')).map((e) => [e.path, e]));
  const fix =
    'identical evidence must give identical runs: a determinism violation (CRITICAL, see docs/recovery-runbook.md); rebuild with `npm run score` and compare with `npm run verify:determinism`';
  let rows = 0;
  for (const path of [...new Set([...expected.keys(), ...onDisk.keys()])].sort()) {
    const want = expected.get(path);
    const got = onDisk.get(path);
    if (!want)
      f.add(
        `${path}: in ${SCORED_DIR}/_manifest.json but re-scoring the evidence gives no such partition; ${fix}`,
      );
    else if (!got)
      f.add(
        `${path}: re-scoring the evidence gives ${plural(want.rows, 'run')} here, but ${SCORED_DIR}/ has no such file; ${fix}`,
      );
    else if (got.sha256 !== want.sha256)
      f.add(
        `${path}: sha256 ${got.sha256.slice(0, 12)}… on disk, re-scoring gives ${want.sha256.slice(0, 12)}… (${n(got.rows ?? 0)} vs ${n(want.rows)} runs); ${fix}`,
      );
    rows += want?.rows ?? 0;
  }
  return f.outcome(
    `${plural(rows, 'run')} re-scored from evidence: ${plural(expected.size, 'partition')} byte-identical to ${SCORED_DIR}/`,
  );
};
