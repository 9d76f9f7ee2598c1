import type { FileEntry, StageReceipt } from '../../schemas/stage-receipt.ts';
import { n } from '../lib/log.ts';
import { sameFiles } from './run-reports.ts';
import { ownerOf, type PipelinePhase } from '../phases/registry.ts';

/** One phase's receipt as the check sees it. */
export interface ReceiptUnderCheck {
  phase: PipelinePhase;
  receiptPath: string | null;
  receipt: StageReceipt | null;
  /** The phase's `_manifest.json` files now on disk; omitted to skip the on-disk comparison. */
  manifestFiles?: readonly FileEntry[] | null;
}

const short = (sha: string): string => `${sha.slice(0, 12)}…`;
const FIX = 'rebuild with `npm run run-all` (or `distill run-all`)';

/**
 * Pure core of `distill receipts --check`. For each phase: rows in = rows out + quarantined; the
 * reasons add up to the quarantined rows (plus, for build-evidence, the files refused whole); every
 * input written by another phase has the sha256 that phase's receipt gives it; and, when the
 * manifest is given, the receipt's outputs are the files on disk. Returns one message per problem,
 * in phase order.
 */
export function reconcile(items: readonly ReceiptUnderCheck[]): string[] {
  const problems: string[] = [];
  const phases = items.map((i) => i.phase);
  const outputsOf = new Map<string, Map<string, FileEntry>>();
  for (const i of items)
    if (i.receipt) outputsOf.set(i.phase.phase, new Map(i.receipt.outputs.map((f) => [f.path, f])));
  for (const { phase, receipt: r, receiptPath, manifestFiles } of items) {
    const name = phase.phase;
    if (!r || !receiptPath) {
      problems.push(`${name}: no receipt describes its outputs; ${FIX}`);
      continue;
    }
    const where = `(${receiptPath})`;
    if (r.phase !== name)
      problems.push(`${name}: ${receiptPath} is the receipt of phase "${r.phase}", expected "${name}"`);
    if (!r.ok)
      problems.push(
        `${name}: the receipt records a failed run ${where}: ${r.errors.join('; ') || 'no message'}`,
      );
    const c = r.counts;
    const excluded = c.excluded ?? 0;
    if (c.in !== c.out + c.quarantined + excluded)
      problems.push(
        `${name}: ${n(c.in)} ${phase.unit} in ≠ ${n(c.out)} out + ${n(c.quarantined)} quarantined + ${n(excluded)} excluded = ${n(c.out + c.quarantined + excluded)} ${where}; the receipt was edited or the phase miscounted: ${FIX}`,
      );
    const reasons = Object.values(c.by_reason).reduce((s, v) => s + v, 0);
    const refused = r.stats['files_refused'] ?? 0;
    if (reasons !== c.quarantined + refused)
      problems.push(
        `${name}: quarantine reasons add up to ${n(reasons)}, expected ${n(c.quarantined + refused)} (${n(c.quarantined)} rows quarantined${refused ? ` + ${n(refused)} files refused` : ''}) ${where}; ${FIX}`,
      );
    const exclusions = Object.values(c.excluded_by_reason ?? {}).reduce((s, v) => s + v, 0);
    if (exclusions !== excluded)
      problems.push(
        `${name}: exclusion reasons add up to ${n(exclusions)}, expected ${n(excluded)} rows excluded ${where}; ${FIX}`,
      );
    for (const input of r.inputs) {
      const up = ownerOf(phases, input.path);
      if (!up || up.phase === name) continue;
      const upOut = outputsOf.get(up.phase);
      if (!upOut) continue; // the upstream has no receipt: reported on its own line
      const wrote = upOut.get(input.path);
      if (!wrote)
        problems.push(
          `${name}: input ${input.path} is not among the outputs of ${up.phase}'s receipt; ${name} read files ${up.phase} no longer describes: ${FIX}`,
        );
      else if (wrote.sha256 !== input.sha256)
        problems.push(
          `${name}: input ${input.path} has sha256 ${short(input.sha256)} ${where}, but ${up.phase} wrote ${short(wrote.sha256)}; ${name} did not read what ${up.phase} produced: ${FIX}`,
        );
    }
    if (manifestFiles === null)
      problems.push(
        `${name}: ${phase.outDir}/_manifest.json is missing or invalid, so its outputs cannot be matched to ${receiptPath}; ${FIX}`,
      );
    else if (manifestFiles && !sameFiles(r.outputs, manifestFiles))
      problems.push(
        `${name}: the files in ${phase.outDir}/ are not the outputs listed in ${receiptPath} (they were rebuilt or edited since); ${FIX}`,
      );
  }
  return problems;
}
