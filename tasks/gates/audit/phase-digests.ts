import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { globby } from 'globby';
import type { AnyAuditBaselineEntry, PhaseDigest } from '../../../schemas/audit-baseline-entry.ts';
import type { DistillConfig } from '../../../schemas/config.ts';
import { canonicalJson, sha256, sha256File } from '../../lib/hash.ts';
import { MANIFEST, Manifest } from '../../lib/manifest.ts';
import { CONFIG_FILE } from '../../lib/project.ts';
import { protectedSets } from '../../lib/safety/protected-sets.ts';
import { ownerOf, type PipelinePhase } from '../../phases/registry.ts';
import { BASELINE_FILE, BASELINE_HEAD } from './baseline.ts';

/**
 * Tamper evidence that does not trust what it checks. A phase's `_manifest.json` vouches for its
 * files (`distill verify`), but whoever can edit a file can rewrite the manifest and the receipts
 * to match. The pipeline is deterministic: the same sources, config and code give byte-identical
 * manifests. So every audit records, in its hash-chained baseline row, each phase's manifest
 * digest, the corpus digest (config + every source and protected file, listed and hashed by the
 * audit itself from the config's globs, never from a manifest) and, per phase, what its manifest
 * says it was built from. A later audit with the same code must find, for a phase that is not
 * stale, the manifest the latest passing row of the same corpus (or of the same phase inputs)
 * recorded. Known limit: the comparison needs an earlier passing audit of that build with the same
 * code; a change made before any audit saw the build is not caught here (the re-derivations —
 * re-screen, re-score, provenance re-hash — still run).
 */

/** What the audit found on disk now: the code, the corpus, each phase's digest and the stale phases. */
export interface BuildState {
  code: string;
  corpus: string;
  digests: PhaseDigest[];
  /** Phases whose manifest inputs are not what is on disk now (the lineage check reports them). */
  stale: ReadonlySet<string>;
}

/** The baseline rows a check can compare with, and the build on disk now. */
export interface AuditHistory {
  rows: readonly { seq: number; entry: AnyAuditBaselineEntry }[];
  now: BuildState;
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
export async function phaseDigests(
  root: string,
  phases: readonly PipelinePhase[],
): Promise<{ digest: PhaseDigest; manifest: Manifest }[]> {
  const config = await fsp.readFile(join(root, CONFIG_FILE)).catch(() => Buffer.alloc(0));
  const configSha = sha256(config);
  const out: { digest: PhaseDigest; manifest: Manifest }[] = [];
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
      digest: {
        phase: p.phase,
        manifest_sha256: sha256(bytes),
        built_from_sha256: builtFrom(m.data, configSha),
      },
      manifest: m.data,
    });
  }
  return out;
}

/**
 * The corpus: `distill.config.json` and every file the config's source globs and the protected
 * sets (acceptance fixture, replay tasks, eval_sets) match, hashed from disk, as sha256sum lines
 * in byte order of the path, hashed again. Listed the way build-evidence and screen list them,
 * never read from a manifest, so rewriting a manifest cannot change it.
 */
export async function corpusDigest(
  root: string,
  config: DistillConfig,
): Promise<{ sha256: string; files: Map<string, string> }> {
  const globs = new Set<string>();
  for (const s of config.sources) for (const g of s.files) globs.add(g);
  for (const set of protectedSets(config.eval_sets)) for (const g of set.globs) globs.add(g);
  const found = await globby([...globs], {
    cwd: root,
    onlyFiles: true,
    followSymbolicLinks: false,
    dot: false,
  });
  const paths = [...new Set(found)]
    .filter((f) => f !== BASELINE_FILE && f !== BASELINE_HEAD)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const files = new Map<string, string>();
  const h = createHash('sha256');
  const configBytes = await fsp.readFile(join(root, CONFIG_FILE)).catch(() => Buffer.alloc(0));
  h.update(`${sha256(configBytes)}  ${CONFIG_FILE}\n`);
  for (const rel of paths) {
    // regular files only: a symlink or a FIFO is refused by build-evidence and never hashed here
    const st = await fsp.lstat(join(root, rel)).catch(() => null);
    if (!st?.isFile()) continue;
    const sha = await sha256File(join(root, rel)).catch(() => null);
    if (sha === null) continue;
    files.set(rel, sha);
    h.update(`${sha}  ${rel}\n`);
  }
  return { sha256: h.digest('hex'), files };
}

/** The phases whose manifest inputs are not what is on disk now: an upstream rebuilt since, a source changed or gone. */
async function stalePhases(
  root: string,
  phases: readonly PipelinePhase[],
  manifests: ReadonlyMap<string, Manifest>,
  corpus: ReadonlyMap<string, string>,
): Promise<Set<string>> {
  const stale = new Set<string>();
  for (const p of phases) {
    const m = manifests.get(p.phase);
    if (!m) continue;
    for (const input of m.inputs) {
      const up = ownerOf(phases, input.path);
      let now: string | null;
      if (up && up.phase !== p.phase)
        now = manifests.get(up.phase)?.files.find((f) => f.path === input.path)?.sha256 ?? null;
      else now = corpus.get(input.path) ?? (await sha256File(join(root, input.path)).catch(() => null));
      if (now !== input.sha256) {
        stale.add(p.phase);
        break;
      }
    }
  }
  return stale;
}

/** The build on disk now, as the audit records and compares it. */
export async function buildState(
  root: string,
  config: DistillConfig,
  phases: readonly PipelinePhase[],
  code: string,
): Promise<BuildState> {
  const found = await phaseDigests(root, phases);
  const corpus = await corpusDigest(root, config);
  const manifests = new Map(found.map((f) => [f.digest.phase, f.manifest]));
  return {
    code,
    corpus: corpus.sha256,
    digests: found.map((f) => f.digest),
    stale: await stalePhases(root, phases, manifests, corpus.files),
  };
}

/** One phase whose manifest is not the one a passing audit recorded for the same build. */
export interface DigestMismatch {
  phase: string;
  seq: number;
  now: string;
  recorded: string;
}

/** The recorded digest of phase `d` in the latest passing row of the same code and the same build (corpus, or the phase's own inputs). */
function reference(d: PhaseDigest, history: AuditHistory): { seq: number; recorded: PhaseDigest } | null {
  for (let i = history.rows.length - 1; i >= 0; i--) {
    const { seq, entry } = history.rows[i] as AuditHistory['rows'][number];
    if (entry.schema_version === 1 || entry.checks_passed !== entry.checks_total) continue;
    if (entry.code_fingerprint !== history.now.code) continue;
    const rec = entry.phases.find((x) => x.phase === d.phase);
    if (!rec) continue;
    if (entry.corpus_sha256 === history.now.corpus || rec.built_from_sha256 === d.built_from_sha256)
      return { seq, recorded: rec };
  }
  return null;
}

/**
 * Pure core: for each current phase digest that is not stale, the latest passing row
 * (checks_passed = checks_total) written by the same code for the same build — the same corpus,
 * or the same phase built from the same inputs — must have recorded the same manifest digest.
 * Rows of schema_version 1 carry no digests; failing rows are never the reference.
 */
export function digestMismatches(history: AuditHistory): DigestMismatch[] {
  const out: DigestMismatch[] = [];
  for (const d of history.now.digests) {
    if (history.now.stale.has(d.phase)) continue;
    const ref = reference(d, history);
    if (ref && ref.recorded.manifest_sha256 !== d.manifest_sha256)
      out.push({
        phase: d.phase,
        seq: ref.seq,
        now: d.manifest_sha256,
        recorded: ref.recorded.manifest_sha256,
      });
  }
  return out;
}

/** How many current phases have a passing row of the same build to compare with. */
export function comparedPhases(history: AuditHistory): number {
  return history.now.digests.filter((d) => !history.now.stale.has(d.phase) && reference(d, history)).length;
}

/** A mismatch as a finding: what, where, how to fix. */
export function mismatchProblem(m: DigestMismatch, phases: readonly PipelinePhase[]): string {
  const p = phases.find((x) => x.phase === m.phase);
  const dir = p?.outDir ?? m.phase;
  return `${dir}/${MANIFEST} (sha256 ${m.now.slice(0, 12)}…) is not the manifest passing audit row ${m.seq} recorded for ${m.phase} built from the same sources, config and code (sha256 ${m.recorded.slice(0, 12)}…): ${dir}/ was changed after it was built and its manifest rewritten to match (tampering); rebuild with \`npx distill run-all\` (every phase from its inputs; wireit's cache in \`npm run run-all\` checks inputs, not edited outputs), which restores the recorded output; see docs/recovery-runbook.md, "A tamper finding"`;
}
