import { join } from 'node:path';
import { z } from 'zod';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { verifyProject } from '../../inspect/verify.ts';
import { sha256File } from '../../lib/hash.ts';
import { n } from '../../lib/log.ts';
import { EVIDENCE_DIR, ownerOf } from '../../phases/registry.ts';
import { reconcile, type ReceiptUnderCheck } from '../../run/receipts-check.ts';
import { readJson, receiptForOutputs } from '../../run/run-reports.ts';
import type { CheckFn } from './check-list.ts';
import { Findings, plural } from './findings.ts';
import { comparedPhases, digestMismatches, mismatchProblem } from './phase-digests.ts';
import { phaseManifest } from './rows.ts';

/**
 * Checks that the phase folders agree with each other and with what was recorded about them:
 * build-evidence's accounting, the manifests (tasks/inspect/verify.ts), the receipts
 * (tasks/run/receipts-check.ts) and the lineage from the sources through every phase.
 */

const HealthCounts = z.object({
  units: z.number(),
  evidence_units: z.number(),
  quarantined_units: z.number(),
  records: z.number(),
});
const Health = z.object({
  totals: HealthCounts.extend({ files: z.number(), files_refused: z.number() }),
  files: z.array(HealthCounts.extend({ file: z.string(), file_refused: z.unknown() })),
});

const HEALTH = `${EVIDENCE_DIR}/_health.json`;
const REBUILD_EVIDENCE = 'rebuild with `npm run build-evidence`';

/** evidence-accounting: every source unit is evidence or quarantined, and _health.json matches the rows published. */
export const evidenceAccounting: CheckFn = async ({ root }) => {
  const f = new Findings();
  const m = await phaseManifest(root, EVIDENCE_DIR);
  const h = await readJson(root, HEALTH, Health);
  if (!m.ok || !h.ok) {
    f.add(`${!m.ok ? m.error : (h as { error: string }).error}; ${REBUILD_EVIDENCE}`);
    return f.outcome('');
  }
  const { totals, files } = h.value;
  const sum = { units: 0, evidence_units: 0, quarantined_units: 0, records: 0, refused: 0 };
  for (const file of files) {
    if (file.units !== file.evidence_units + file.quarantined_units)
      f.add(
        `${HEALTH}: ${file.file} has ${n(file.units)} units ≠ ${n(file.evidence_units)} evidence + ${n(file.quarantined_units)} quarantined: rows were lost; ${REBUILD_EVIDENCE}`,
      );
    sum.units += file.units;
    sum.evidence_units += file.evidence_units;
    sum.quarantined_units += file.quarantined_units;
    sum.records += file.records;
    if (file.file_refused !== null && file.file_refused !== undefined) sum.refused++;
  }
  if (totals.units !== totals.evidence_units + totals.quarantined_units)
    f.add(
      `${HEALTH}: totals.units ${n(totals.units)} ≠ evidence_units ${n(totals.evidence_units)} + quarantined_units ${n(totals.quarantined_units)}; ${REBUILD_EVIDENCE}`,
    );
  for (const k of ['units', 'evidence_units', 'quarantined_units', 'records'] as const) {
    if (sum[k] !== totals[k])
      f.add(
        `${HEALTH}: the files add up to ${k} ${n(sum[k])}, totals say ${n(totals[k])}; ${REBUILD_EVIDENCE}`,
      );
  }
  if (files.length !== totals.files)
    f.add(`${HEALTH}: lists ${n(files.length)} files, totals.files says ${n(totals.files)}`);
  if (sum.refused !== totals.files_refused)
    f.add(
      `${HEALTH}: ${n(sum.refused)} files are refused, totals.files_refused says ${n(totals.files_refused)}`,
    );
  const rowsOf = (pred: (e: FileEntry) => boolean): number =>
    m.value.files.filter((e) => e.path.endsWith('.jsonl') && pred(e)).reduce((s, e) => s + (e.rows ?? 0), 0);
  const qPrefix = `${EVIDENCE_DIR}/_quarantine/`;
  const evidenceRows = rowsOf((e) => !e.path.startsWith(qPrefix));
  const quarantineRows = rowsOf((e) => e.path.startsWith(qPrefix));
  if (evidenceRows !== totals.records)
    f.add(
      `${EVIDENCE_DIR}/: ${n(evidenceRows)} evidence rows published, _health.json counts ${n(totals.records)} records; ${REBUILD_EVIDENCE}`,
    );
  if (quarantineRows !== totals.quarantined_units + totals.files_refused)
    f.add(
      `${qPrefix}: ${n(quarantineRows)} quarantine rows published, expected ${n(totals.quarantined_units)} quarantined units + ${n(totals.files_refused)} refused files; ${REBUILD_EVIDENCE}`,
    );
  return f.outcome(
    `${n(totals.units)} source units in ${plural(files.length, 'file')} = ${n(totals.evidence_units)} evidence + ${n(totals.quarantined_units)} quarantined (${n(totals.files_refused)} files refused)`,
  );
};

/**
 * manifests: `distill verify` over every phase folder, then each manifest against the digest a
 * passing audit recorded for the same build (tasks/gates/audit/phase-digests.ts): a file edited
 * together with its manifest passes verify but not this.
 */
export const manifests: CheckFn = async ({ root, phases, history }) => {
  const f = new Findings();
  let report;
  try {
    report = await verifyProject(root);
  } catch (e) {
    f.add((e as Error).message);
    return f.outcome('');
  }
  for (const folder of report.folders) for (const p of folder.problems) f.add(`${p.file}: ${p.problem}`);
  const files = report.folders.reduce((s, x) => s + x.files, 0);
  let compared = '';
  if (history) {
    for (const m of digestMismatches(history)) f.add(mismatchProblem(m, phases));
    const seen = comparedPhases(history);
    compared = `; ${seen === 0 ? 'no earlier passing audit of the same build to compare the manifests with' : `${plural(seen, 'manifest')} equal to the ones a passing audit recorded for the same build`}`;
  }
  return f.outcome(
    `${plural(files, 'file')} in ${plural(report.folders.length, 'phase folder')} match their manifests${compared}`,
  );
};

/** receipts: for each phase, the receipt describing its outputs on disk, reconciled (tasks/run/receipts-check.ts). */
export const receipts: CheckFn = async ({ root, phases }) => {
  const f = new Findings();
  const items: ReceiptUnderCheck[] = [];
  for (const phase of phases) {
    const m = await phaseManifest(root, phase.outDir);
    if (!m.ok) {
      f.add(`${phase.phase}: ${m.error}; build it with \`npm run ${phase.script}\``);
      continue;
    }
    const found = await receiptForOutputs(root, phase.phase, m.value.files);
    items.push({
      phase,
      receiptPath: found?.path ?? null,
      receipt: found?.receipt ?? null,
      manifestFiles: m.value.files,
    });
  }
  for (const p of reconcile(items)) f.add(p);
  return f.outcome(`${plural(items.length, 'receipt')} reconcile with each other and with the files on disk`);
};

async function fileSha256(abs: string): Promise<string | null> {
  return sha256File(abs).catch(() => null);
}

/**
 * lineage: every input a phase's manifest lists is, now, exactly what it read: an upstream phase's
 * current output (same sha256 in that phase's manifest) or a source / protected file with the
 * same sha256 on disk. A mismatch means the phase is stale (its upstream or a source changed since).
 */
export const lineage: CheckFn = async ({ root, phases }) => {
  const f = new Findings();
  const current = new Map<string, Map<string, FileEntry> | null>();
  for (const p of phases) {
    const m = await phaseManifest(root, p.outDir);
    current.set(p.phase, m.ok ? new Map(m.value.files.map((e) => [e.path, e])) : null);
  }
  let checked = 0;
  let sources = 0;
  for (const p of phases) {
    const m = await phaseManifest(root, p.outDir);
    if (!m.ok) {
      f.add(`${p.phase}: ${m.error}; build it with \`npm run ${p.script}\``);
      continue;
    }
    const stale: string[] = [];
    for (const input of m.value.inputs) {
      checked++;
      const up = ownerOf(phases, input.path);
      if (up && up.phase !== p.phase) {
        const now = current.get(up.phase)?.get(input.path);
        if (!now) stale.push(`${input.path} is no longer an output of ${up.phase}`);
        else if (now.sha256 !== input.sha256)
          stale.push(
            `${input.path} was rebuilt by ${up.phase} since (sha256 ${input.sha256.slice(0, 12)}… read, ${now.sha256.slice(0, 12)}… now)`,
          );
        continue;
      }
      sources++;
      const sha = await fileSha256(join(root, input.path));
      if (sha === null) stale.push(`${input.path} (a source it read) is missing now`);
      else if (sha !== input.sha256)
        stale.push(
          `${input.path} (a source it read) changed since (sha256 ${input.sha256.slice(0, 12)}… read, ${sha.slice(0, 12)}… now)`,
        );
    }
    for (const s of stale) f.add(`${p.phase} is stale: ${s}; rebuild with \`npm run run-all\``);
  }
  return f.outcome(
    `${plural(checked, 'input')} of ${plural(phases.length, 'phase')} (${n(sources)} source / fixture files) are what each phase read`,
  );
};
