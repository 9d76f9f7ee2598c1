import { QuarantineRecord } from '../../../schemas/quarantine-record.ts';
import { changedMetrics, computeDrift } from '../../run/drift.ts';
import { reconcile } from '../../run/receipts-check.ts';
import { quarantineReasons } from '../../phases/registry.ts';
import { SECRET_RULES } from '../../lib/safety/secret-rules.ts';
import { compareOutputs } from '../determinism/verify-determinism.ts';
import type { BuildRecord, Snapshot } from './snapshot.ts';
import { verdict, type CheckResult } from './verdict.ts';

/** Problems of two builds that must give byte-identical outputs. */
function identical(a: BuildRecord, b: BuildRecord): string[] {
  const problems: string[] = [];
  for (const x of [a, b])
    if (x.exitCode !== 0)
      problems.push(
        `the ${x.label} build failed (run-all exit ${x.exitCode}): ${x.log.split('\n').slice(-3).join(' / ') || 'no output'}`,
      );
  if (problems.length > 0) return problems;
  const diffs = compareOutputs(new Map(Object.entries(a.hashes)), new Map(Object.entries(b.hashes)));
  return diffs.map((d) =>
    d
      .replace('build A', `the ${a.label} build`)
      .replace('build B', `the ${b.label} build`)
      .replace('(A ', `(${a.label} `)
      .replace(', B ', `, ${b.label} `),
  );
}

/** A15: a second run-all in the same folder rewrites every output byte for byte. */
export function rerunByteIdentical(s: Snapshot): CheckResult {
  const { first, rerun } = s.builds;
  return verdict(
    identical(first, rerun),
    `${Object.keys(first.hashes).length} output files byte-identical after a second run-all in the same folder`,
  );
}

/** A16: a fresh build with the config's sources and each source's globs reversed gives the same bytes. */
export function shuffledByteIdentical(s: Snapshot): CheckResult {
  const { first, shuffled } = s.builds;
  return verdict(
    identical(first, shuffled),
    `${Object.keys(first.hashes).length} output files byte-identical when the sources and globs are read in reverse order`,
  );
}

/** A17: every published file matches its phase's _manifest.json (`distill verify`). */
export function manifestsMatchFiles(s: Snapshot): CheckResult {
  const problems = s.verify.folders.flatMap((f) => f.problems.map((p) => `${p.file}: ${p.problem}`));
  if (!s.verify.ok && problems.length === 0) problems.push('distill verify failed');
  const files = s.verify.folders.reduce((n, f) => n + f.files, 0);
  return verdict(
    problems,
    `${s.verify.folders.length} phase folders, ${files} files re-hashed: all match their _manifest.json`,
  );
}

/** A18: the first build's receipts reconcile (tasks/run/receipts-check.ts): in = out + quarantined, reasons add up, inputs = upstream outputs, outputs = files on disk. */
export function receiptsReconcile(s: Snapshot): CheckResult {
  const problems = reconcile(s.receipts);
  if (s.builds.first.summary === null) problems.push('the first build wrote no summary.json');
  else if (!s.builds.first.summary.ok)
    problems.push(`the first run-all is not ok: ${s.builds.first.summary.errors.join('; ')}`);
  return verdict(
    problems,
    `${s.receipts.length} receipts reconcile: rows in = out + quarantined, reasons add up, every input is what its upstream wrote, outputs are the files on disk`,
  );
}

/** The reason codes each stage may write (from the phase contracts, through the registry). */
export function knownReasons(): Record<string, ReadonlySet<string>> {
  return quarantineReasons(SECRET_RULES.map((r) => r.id));
}

/** A21: every quarantine row of every stage is a valid QuarantineRecord of that stage, with a reason code the stage declares and a detail. */
export function quarantineReasonsKnown(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const known = knownReasons();
  let n = 0;
  for (const [stage, rows] of Object.entries(s.quarantine)) {
    const codes = known[stage];
    if (!codes) {
      problems.push(`quarantine rows from an unknown stage ${stage}`);
      continue;
    }
    rows.forEach((row, i) => {
      n++;
      const where = `${stage} quarantine row ${i + 1}`;
      const res = QuarantineRecord.safeParse(row);
      if (!res.success)
        return void problems.push(
          `${where}: not a QuarantineRecord ($.${res.error.issues[0]?.path.join('.')}: ${res.error.issues[0]?.message})`,
        );
      if (res.data.stage !== stage) problems.push(`${where}: says stage ${res.data.stage}`);
      if (!codes.has(res.data.reason))
        problems.push(`${where}: unknown reason code ${res.data.reason} (not declared by ${stage})`);
      if (res.data.detail.trim() === '') problems.push(`${where}: ${res.data.reason} without a detail`);
    });
  }
  return verdict(
    problems,
    `${n} quarantine rows in ${Object.keys(s.quarantine).length} stages: valid records, each with a reason code its stage declares and a detail`,
  );
}

/**
 * A22: drift against itself is ok: the rerun's drift.json (against the first run-all) and the
 * drift of the shuffled build's metrics against the first's are `ok` with no metric changed.
 */
export function driftAgainstItselfOk(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const { first, rerun, shuffled } = s.builds;
  if (!first.summary) return verdict(['the first build wrote no summary.json'], '');
  const base = { run_id: first.summary.run_id, metrics: first.summary.metrics };
  if (!rerun.drift) problems.push('the rerun wrote no drift.json');
  else {
    if (rerun.drift.previous_run_id !== first.summary.run_id)
      problems.push(
        `the rerun's drift.json compares with ${rerun.drift.previous_run_id ?? 'nothing'}, not the first run-all ${first.summary.run_id}`,
      );
    if (rerun.drift.severity !== 'ok') problems.push(`the rerun's drift.json says ${rerun.drift.severity}`);
    for (const m of changedMetrics(rerun.drift))
      problems.push(`drift.json: ${m.name} ${m.previous} → ${m.current}`);
  }
  let compared = 0;
  for (const b of [rerun, shuffled]) {
    if (!b.summary) {
      problems.push(`the ${b.label} build wrote no summary.json`);
      continue;
    }
    const d = computeDrift(b.summary.run_id, b.summary.metrics, base);
    compared = d.metrics.length;
    if (d.severity !== 'ok') problems.push(`${b.label} vs first: drift ${d.severity}`);
    for (const m of changedMetrics(d))
      problems.push(`${b.label} vs first: ${m.name} ${m.previous} → ${m.current}`);
  }
  return verdict(
    problems,
    `drift of the rerun and of the shuffled build against the first: ok, none of ${compared} metrics changed`,
  );
}
