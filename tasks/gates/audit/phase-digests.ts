import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { AnyAuditBaselineEntry, PhaseDigest } from '../../../schemas/audit-baseline-entry.ts';
import { canonicalJson, sha256 } from '../../lib/hash.ts';
import { MANIFEST, Manifest } from '../../lib/manifest.ts';
import { CONFIG_FILE } from '../../lib/project.ts';
import type { PipelinePhase } from '../../phases/registry.ts';

/**
 * Tamper evidence that does not trust what it checks. A phase's `_manifest.json` vouches for its
 * files (`distill verify`), but whoever can edit a file can rewrite the manifest and the receipts
 * to match. The pipeline is deterministic: the same inputs, parameters, config and code give a
 * byte-identical manifest. So every audit records, in its hash-chained baseline row, each phase's
 * manifest digest with what the phase was built from; a later audit of a phase built from the same
 * things must find the manifest a passing audit recorded. Known limit: the comparison needs an
 * earlier passing audit of that build with the same code; a change made before any audit saw the
 * build is not caught here (the re-derivations — re-screen, re-score, provenance re-hash — still run).
 */

/** The baseline rows a check can compare with, and the fingerprint of the code auditing now. */
export interface AuditHistory {
  rows: readonly { seq: number; entry: AnyAuditBaselineEntry }[];
  code: string;
}

/** sha256 of what a phase was built from: its manifest's phase, parameters, schema versions and inputs, and the config file. */
export function builtFrom(m: Manifest, configSha256: string): string {
  return sha256(
    canonicalJson({
      phase: m.phase,
      parameters: m.parameters,
      schema_versions: m.schema_versions,
      inputs: m.inputs,
      config_sha256: configSha256,
    }),
  );
}

/** The digest of every phase whose manifest is present and valid (the manifests check reports the others), in pipeline order. */
export async function phaseDigests(root: string, phases: readonly PipelinePhase[]): Promise<PhaseDigest[]> {
  const config = await fsp.readFile(join(root, CONFIG_FILE)).catch(() => Buffer.alloc(0));
  const configSha = sha256(config);
  const out: PhaseDigest[] = [];
  for (const p of phases) {
    const bytes = await fsp.readFile(join(root, p.outDir, MANIFEST)).catch(() => null);
    if (bytes === null) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch {
      continue;
    }
    const m = Manifest.safeParse(raw);
    if (!m.success) continue;
    out.push({
      phase: p.phase,
      manifest_sha256: sha256(bytes),
      built_from_sha256: builtFrom(m.data, configSha),
    });
  }
  return out;
}

/** One phase whose manifest is not the one a passing audit recorded for the same build. */
export interface DigestMismatch {
  phase: string;
  seq: number;
  now: string;
  recorded: string;
}

/**
 * Pure core: for each current phase digest, the latest passing row (checks_passed = checks_total)
 * written by the same code that recorded the same phase built from the same things; a different
 * manifest digest there is a mismatch. Rows of schema_version 1 carry no digests and are skipped.
 */
export function digestMismatches(current: readonly PhaseDigest[], history: AuditHistory): DigestMismatch[] {
  const out: DigestMismatch[] = [];
  for (const d of current) {
    for (let i = history.rows.length - 1; i >= 0; i--) {
      const { seq, entry } = history.rows[i] as AuditHistory['rows'][number];
      if (entry.schema_version === 1 || entry.checks_passed !== entry.checks_total) continue;
      if (entry.code_fingerprint !== history.code) continue;
      const rec = entry.phases.find(
        (x) => x.phase === d.phase && x.built_from_sha256 === d.built_from_sha256,
      );
      if (!rec) continue;
      if (rec.manifest_sha256 !== d.manifest_sha256)
        out.push({ phase: d.phase, seq, now: d.manifest_sha256, recorded: rec.manifest_sha256 });
      break;
    }
  }
  return out;
}

/** A mismatch as a finding: what, where, how to fix. */
export function mismatchProblem(m: DigestMismatch, phases: readonly PipelinePhase[]): string {
  const p = phases.find((x) => x.phase === m.phase);
  const dir = p?.outDir ?? m.phase;
  return `${dir}/${MANIFEST} (sha256 ${m.now.slice(0, 12)}…) is not the manifest passing audit row ${m.seq} recorded for ${m.phase} built from the same inputs, parameters, config and code (sha256 ${m.recorded.slice(0, 12)}…): ${dir}/ was changed after it was built and its manifest rewritten to match (tampering); rebuild with \`npx distill run-all\` (every phase from its inputs; wireit's cache in \`npm run run-all\` checks inputs, not edited outputs), which restores the recorded output; see docs/recovery-runbook.md, "A tamper finding"`;
}

/** How many current phases have a passing row of the same build to compare with. */
export function comparedPhases(current: readonly PhaseDigest[], history: AuditHistory): number {
  return current.filter((d) =>
    history.rows.some(
      ({ entry }) =>
        entry.schema_version !== 1 &&
        entry.checks_passed === entry.checks_total &&
        entry.code_fingerprint === history.code &&
        entry.phases.some((x) => x.phase === d.phase && x.built_from_sha256 === d.built_from_sha256),
    ),
  ).length;
}
