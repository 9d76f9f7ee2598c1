import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { UserError } from '../../tasks/lib/result.ts';
import type { EvidenceRecord } from '../../schemas/evidence-record.ts';
import {
  build,
  gateway,
  jsonl,
  oneSourceProject,
  reward,
  sha256,
  SRC_DIR,
  type EvidenceOut,
  type SourceSpec,
} from './fixture.ts';

/**
 * The bad-input catalogue of RELIABILITY.md §5 as data: one entry per case id (#1..#64), with the
 * disposition we give it and the test that shows it. Section files (cases-*.ts) hold the entries;
 * catalogue-*.test.ts register them; catalogue-summary.test.ts checks that every id is present
 * exactly once and counts coverage.
 */
export interface CatalogueCase {
  id: number;
  /** The input, in the catalogue's words. */
  input: string;
  /** What distill does with it: Q / QF / E / A+flag / SFT-Q and the reason code or flag. */
  disposition: string;
  /** The test body, registered by the section's test file. */
  run?: () => Promise<void>;
  /** The case is tested in another file: the file (from the repo root) and the exact test title. */
  elsewhere?: { file: string; test: string };
  /** Not covered here: why, and whose issue it is. */
  pending?: string;
  /** Where our behaviour differs from the catalogue's suggestion, and why. */
  note?: string;
}

/** The title a case's test is registered under. */
export function caseTitle(c: CatalogueCase): string {
  return `#${c.id} ${c.input} → ${c.disposition}`;
}

/** The path of the case file in `fileCase` projects. */
export const CASE = `${SRC_DIR}/case.jsonl`;
const CONTROL = `${SRC_DIR}/a-control.jsonl`;

/** One expected quarantine row: reason, 0-based line (null for a file), byte offset, and optionally size / hash / detail. */
export interface QExpect {
  reason: string;
  line: number | null;
  offset: number | null;
  bytes?: number | null;
  lineSha?: string | null;
  detail?: RegExp;
  ref?: string | null;
}

/** What a case file must give: its health entry, its quarantine rows, and the flags of its evidence rows. */
export interface FileExpect {
  units: number;
  evidence: number;
  quarantine: QExpect[];
  refused?: string | null;
  flags?: string[];
  /** Flags of each evidence record read from the case file, in line order. */
  evidenceFlags?: string[][];
}

function controlLines(adapter: string): string[] {
  return adapter === 'gateway-call'
    ? [gateway('ctl-1'), gateway('ctl-2')]
    : [reward('ctl-1'), reward('ctl-2')];
}

const baselines = new Map<string, Promise<string[]>>();

/** Evidence of the control file built alone, per adapter: what a case must leave untouched. */
function baseline(adapter: string): Promise<string[]> {
  let b = baselines.get(adapter);
  if (!b) {
    b = (async () => {
      const root = oneSourceProject({ [CONTROL]: jsonl(...controlLines(adapter)) }, { adapter });
      const out = await build(root);
      return out.evidence.map((r) => JSON.stringify(r));
    })();
    baselines.set(adapter, b);
  }
  return b;
}

/**
 * Builds a project with a control file of good rows and the case file(s), in-process, and checks:
 * the case file's health entry and quarantine rows (reason, line, offset, size, hash, detail), the
 * accounting (inside `build`), and that nothing else changed: the control file's evidence is
 * byte-identical to a build without the case, and no other file has quarantine rows.
 */
export async function fileCase(
  content: string | Buffer,
  expect: FileExpect,
  opts: {
    name?: string;
    source?: SourceSpec;
    extraFiles?: Record<string, string | Buffer>;
    config?: Record<string, unknown>;
    prepare?: (root: string) => void;
  } = {},
): Promise<{ out: EvidenceOut; root: string; caseEvidence: EvidenceRecord[] }> {
  const adapter = opts.source?.adapter ?? 'reward';
  const casePath = `${SRC_DIR}/${opts.name ?? 'case.jsonl'}`;
  const root = oneSourceProject(
    { [CONTROL]: jsonl(...controlLines(adapter)), [casePath]: content, ...opts.extraFiles },
    { adapter, ...opts.source },
    opts.config,
  );
  opts.prepare?.(root);
  let accept = false;
  if (expect.refused && expect.refused !== 'DUPLICATE_SOURCE') {
    // a file refused whole stops the build (its rows would leave silently) until the operator accepts it
    await assert.rejects(build(root), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.equal(e.code, 'SOURCE_REFUSED');
      assert.match(e.message, new RegExp(`refused whole \\(${expect.refused}: `));
      assert.match(e.message, /--accept-source-changes/);
      return true;
    });
    assert.equal(existsSync(join(root, 'data/evidence/_manifest.json')), false, 'nothing was published');
    accept = true;
  }
  const out = await build(root, { acceptSourceChanges: accept });
  const h = out.health.files.find((f) => f.file === casePath);
  assert.ok(
    h,
    `no health entry for ${casePath}; files: ${out.health.files.map((f) => JSON.stringify(f.file)).join(', ')}`,
  );
  assert.deepEqual(
    {
      units: h.units,
      evidence: h.evidence_units,
      quarantined: h.quarantined_units,
      refused: h.file_refused,
      flags: h.flags,
    },
    {
      units: expect.units,
      evidence: expect.evidence,
      quarantined: expect.units - expect.evidence,
      refused: expect.refused ?? null,
      flags: expect.flags ?? [],
    },
    'health entry of the case file',
  );
  const rows = out.quarantine.filter((q) => q.source_file === casePath);
  assert.equal(
    rows.length,
    expect.quarantine.length,
    `quarantine rows: ${JSON.stringify(rows.map((r) => [r.reason, r.line_offset, r.detail]))}`,
  );
  expect.quarantine.forEach((e, i) => {
    const q = rows[i] as (typeof rows)[number];
    const got: Record<string, unknown> = { reason: q.reason, line: q.line_offset, offset: q.byte_offset };
    const want: Record<string, unknown> = { reason: e.reason, line: e.line, offset: e.offset };
    if (e.bytes !== undefined) [got['bytes'], want['bytes']] = [q.bytes, e.bytes];
    if (e.lineSha !== undefined) [got['lineSha'], want['lineSha']] = [q.line_sha256, e.lineSha];
    if (e.ref !== undefined) [got['ref'], want['ref']] = [q.ref, e.ref];
    assert.deepEqual(got, want, `quarantine row ${i}: ${q.detail}`);
    if (e.detail) assert.match(q.detail, e.detail);
    assert.equal(q.stage, 'build-evidence');
  });
  // nothing else changed
  assert.deepEqual(
    out.quarantine.filter(
      (q) => q.source_file !== casePath && !(opts.extraFiles && q.source_file in opts.extraFiles),
    ),
    [],
    'only the case file has quarantine rows',
  );
  const control = out.evidence
    .filter((r) => r.provenance.source_file === CONTROL)
    .map((r) => JSON.stringify(r));
  assert.deepEqual(
    control,
    await baseline(adapter),
    'the control file gives the same evidence as without the case',
  );
  const caseEvidence = out.evidence
    .filter((r) => r.provenance.source_file === casePath)
    .sort((a, b) => a.provenance.line_offset - b.provenance.line_offset);
  if (expect.evidenceFlags)
    assert.deepEqual(
      caseEvidence.map((r) => r.flags),
      expect.evidenceFlags,
      'flags of the case evidence',
    );
  return { out, root, caseEvidence };
}

/**
 * A case file of the given lines (each + `\n`): the lines listed in `bad` (index → reason,
 * optional detail) are quarantined with exact offsets, sizes and hashes; all others are evidence.
 */
export async function linesCase(
  lines: string[],
  bad: Record<number, [string, RegExp?]>,
  opts: { source?: SourceSpec; evidenceFlags?: string[][]; flags?: string[] } = {},
): Promise<{ out: EvidenceOut; root: string; caseEvidence: EvidenceRecord[] }> {
  const quarantine: QExpect[] = [];
  let offset = 0;
  lines.forEach((l, i) => {
    const b = bad[i];
    const bytes = Buffer.byteLength(l);
    if (b)
      quarantine.push({
        reason: b[0],
        line: i,
        offset,
        bytes,
        lineSha: sha256(l),
        ...(b[1] ? { detail: b[1] } : {}),
      });
    offset += bytes + 1;
  });
  return fileCase(
    jsonl(...lines),
    {
      units: lines.length,
      evidence: lines.length - quarantine.length,
      quarantine,
      flags: opts.flags,
      evidenceFlags: opts.evidenceFlags,
    },
    { source: opts.source },
  );
}

/** The path of a file under the case folder. */
export function inSrc(root: string, name: string): string {
  return join(root, SRC_DIR, name);
}
