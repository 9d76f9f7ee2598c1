import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { after } from 'node:test';
import { dirname, join } from 'node:path';
import type { ChatMessage, ToolDef } from '../../schemas/chat.ts';
import { DistillConfig } from '../../schemas/config.ts';
import type { EvidenceRecord } from '../../schemas/evidence-record.ts';
import type { Provenance } from '../../schemas/provenance.ts';
import { ScoredRun, type JoinedSignal } from '../../schemas/scored-run.ts';
import type { FileEntry } from '../../schemas/stage-receipt.ts';
import type { DocumentEvidence, JudgmentEvidence } from '../../tasks/lib/export/inputs.ts';
import { contentId, sha256, sigHash } from '../../tasks/lib/hash.ts';
import { manifestText } from '../../tasks/lib/manifest.ts';

/** Test fixtures for the export phases: a temp project with scored runs and evidence written as the upstream phases would. */

const made: string[] = [];

/** A new temp project folder with a valid distill.config.json (removed when the test file ends). */
export async function makeProject(
  exportsCfg: { test_fraction?: number; rag_chunk_chars?: number; preference_cap_per_task?: number } = {},
): Promise<{ root: string; config: DistillConfig }> {
  const root = await fsp.mkdtemp(join(tmpdir(), 'distill-exports-'));
  if (made.length === 0)
    after(() => Promise.all(made.map((d) => fsp.rm(d, { recursive: true, force: true }))));
  made.push(root);
  const raw = {
    schema_version: 1,
    as_of: '2025-01-01T00:00:00.000Z',
    sources: [{ stream: 'gateway', adapter: 'gateway-call', files: ['data/_kb/gateway.jsonl'] }],
    exports: { test_fraction: 0, ...exportsCfg },
  };
  await fsp.writeFile(join(root, 'distill.config.json'), `${JSON.stringify(raw, null, 2)}\n`);
  return { root, config: DistillConfig.parse(raw) };
}

/** A fake provenance (the source file need not exist unless the test traces it). */
export function prov(tag: string, line = 0, file = 'data/_kb/gateway.jsonl'): Provenance {
  return {
    source_file: file,
    line_offset: line,
    sig_hash: sha256(`row:${tag}`),
    recorded_at: '2024-05-01T10:00:00.000Z',
  };
}

export interface RunSpec {
  id: string;
  category: ScoredRun['category'];
  task?: string | null;
  prompt?: string;
  answer?: string;
  messages?: ChatMessage[];
  tools?: ToolDef[];
  correction?: string | null;
  escalatedFrom?: string | null;
  provenance?: Provenance;
  signals?: JoinedSignal[];
}

/** A valid ScoredRun; by default `user: prompt` → `assistant: answer`, task_key `task:<id>`. */
export function mkRun(s: RunSpec): ScoredRun {
  const messages: ChatMessage[] = s.messages ?? [
    { role: 'user', content: s.prompt ?? `Question for ${s.task ?? s.id}?` },
    { role: 'assistant', content: s.answer ?? `Answer from ${s.id}.` },
  ];
  return ScoredRun.parse({
    schema_version: 1,
    run_id: s.id,
    evidence_id: contentId('ev', 'gateway', s.id, '0'),
    stream: 'gateway',
    task_key: s.task === undefined ? `task:${s.id}` : s.task,
    recorded_at: '2024-05-01T10:00:00.000Z',
    category: s.category,
    decided_by: 'R00-test',
    rules_fired: ['R00-test'],
    rule_table_version: 'test',
    correction: s.correction ?? null,
    run: {
      messages,
      tools: s.tools ?? [],
      model: 'm',
      provider: 'p',
      tier: 'cloud',
      usage: null,
      latency_ms: null,
      finish_reason: 'stop',
      error: null,
      escalated_from: s.escalatedFrom ?? null,
    },
    signals: s.signals ?? [],
    flags: [],
    provenance: s.provenance ?? prov(s.id),
  });
}

/** The evidence row a scored run was built from (same id, stream, provenance and run body). */
export function runEvidence(r: ScoredRun): EvidenceRecord {
  return {
    schema_version: 1,
    evidence_id: r.evidence_id,
    stream: r.stream,
    trace_id: r.run_id,
    task_key: r.task_key,
    recorded_at: r.recorded_at,
    flags: [],
    provenance: r.provenance,
    kind: 'run',
    run: r.run,
  };
}

/** A human-review edit signal carrying a correction, as score joins it. */
export function editSignal(
  runId: string,
  corrected: string,
  p: Provenance = prov(`review:${runId}`, 0, 'data/_kb/reviews.jsonl'),
): JoinedSignal {
  return {
    evidence_id: contentId('ev', 'reviews', runId, '0'),
    stream: 'reviews',
    signal: {
      type: 'human_review',
      verdict: 'edit',
      corrected_answer: corrected,
      reviewer: 'r',
      comment: null,
    },
    provenance: p,
  };
}

/** A document evidence row. */
export function mkDocument(
  docId: string,
  title: string,
  text: string,
  p: Provenance = prov(`doc:${docId}`, 0, 'data/_kb/docs.jsonl'),
): DocumentEvidence {
  return {
    schema_version: 1,
    evidence_id: contentId('ev', 'docs', docId, '0'),
    stream: 'docs',
    trace_id: null,
    task_key: null,
    recorded_at: null,
    flags: [],
    provenance: p,
    kind: 'document',
    document: { doc_id: docId, title, text, tags: [] },
  };
}

/** A judgment evidence row. */
export function mkJudgment(
  tag: string,
  prompt: string,
  chosen: string,
  rejected: string,
  p: Provenance = prov(`judgment:${tag}`, 0, 'data/_kb/judgments.jsonl'),
): JudgmentEvidence {
  return {
    schema_version: 1,
    evidence_id: contentId('ev', 'judgments', tag, '0'),
    stream: 'judgments',
    trace_id: null,
    task_key: `judge:${tag}`,
    recorded_at: null,
    flags: [],
    provenance: p,
    kind: 'judgment',
    judgment: {
      prompt: [{ role: 'user', content: prompt }],
      chosen,
      rejected,
      judge: 'human',
      strength: null,
    },
  };
}

async function writeJsonl(root: string, rel: string, rows: readonly unknown[]): Promise<FileEntry> {
  const text = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  await fsp.mkdir(dirname(join(root, rel)), { recursive: true });
  await fsp.writeFile(join(root, rel), text);
  return { path: rel, sha256: sha256(text), bytes: Buffer.byteLength(text), rows: rows.length };
}

/** Writes data/scored-runs/<file> for each entry and a manifest listing them in `order` (default: as given); mirrors them into data/screened. */
export async function writeScored(
  root: string,
  files: Record<string, readonly ScoredRun[]>,
  order?: string[],
): Promise<void> {
  await fsp.rm(join(root, 'data/scored-runs'), { recursive: true, force: true });
  const entries: FileEntry[] = [];
  for (const name of order ?? Object.keys(files))
    entries.push(await writeJsonl(root, `data/scored-runs/${name}`, files[name] ?? []));
  entries.push(await writeJsonl(root, 'data/scored-runs/_quarantine.jsonl', []));
  await fsp.writeFile(
    join(root, 'data/scored-runs/_manifest.json'),
    manifestText({
      schema_version: 1,
      phase: 'score',
      parameters: {},
      schema_versions: {},
      inputs: [],
      files: entries,
      counts: {},
    }),
  );
  await mirrorScreened(root);
}

/** Writes data/evidence/<file> for each entry plus its manifest; mirrors them into data/screened. */
export async function writeEvidence(
  root: string,
  files: Record<string, readonly EvidenceRecord[]>,
): Promise<void> {
  await fsp.rm(join(root, 'data/evidence'), { recursive: true, force: true });
  const entries: FileEntry[] = [];
  for (const [name, rows] of Object.entries(files))
    entries.push(await writeJsonl(root, `data/evidence/${name}`, rows));
  await fsp.writeFile(
    join(root, 'data/evidence/_manifest.json'),
    manifestText({
      schema_version: 1,
      phase: 'build-evidence',
      parameters: {},
      schema_versions: {},
      inputs: [],
      files: entries,
      counts: {},
    }),
  );
  await mirrorScreened(root);
}

/**
 * Writes data/screened as `screen` would if it dropped nothing: the data files of data/scored-runs
 * under runs/ and of data/evidence under evidence/ (same names and order), and its manifest. The
 * export tests exercise the exporters on exactly the rows they wrote; test/safety/ tests screen.
 */
export async function mirrorScreened(root: string): Promise<void> {
  await fsp.rm(join(root, 'data/screened'), { recursive: true, force: true });
  const entries: FileEntry[] = [];
  for (const [dir, sub] of [
    ['data/scored-runs', 'runs'],
    ['data/evidence', 'evidence'],
  ] as const) {
    let files: FileEntry[] = [];
    try {
      files = (
        JSON.parse(await fsp.readFile(join(root, dir, '_manifest.json'), 'utf8')) as { files: FileEntry[] }
      ).files;
    } catch {
      continue;
    }
    for (const f of files.filter((x) => !x.path.includes('/_'))) {
      const rel = `data/screened/${sub}/${f.path.slice(dir.length + 1)}`;
      await fsp.mkdir(dirname(join(root, rel)), { recursive: true });
      await fsp.copyFile(join(root, f.path), join(root, rel));
      entries.push({ ...f, path: rel });
    }
  }
  entries.push(await writeJsonl(root, 'data/screened/_quarantine.jsonl', []));
  await fsp.writeFile(
    join(root, 'data/screened/_manifest.json'),
    manifestText({
      schema_version: 1,
      phase: 'screen',
      parameters: {},
      schema_versions: {},
      inputs: [],
      files: entries,
      counts: {},
    }),
  );
}

/** Writes a JSONL source file and returns the provenance of each row (0-based line, canonical hash). */
export async function writeSourceJsonl(
  root: string,
  rel: string,
  rows: readonly Record<string, unknown>[],
): Promise<Provenance[]> {
  await writeJsonl(root, rel, rows);
  return rows.map((r, i) => ({ source_file: rel, line_offset: i, sig_hash: sigHash(r), recorded_at: null }));
}

/** Reads a JSONL file of the project as parsed rows. */
export async function readRows<T = Record<string, unknown>>(root: string, rel: string): Promise<T[]> {
  // a folder of day shards (`exports/sft/instruction_response`, `exports/sft/openai/train`): its
  // `<shard>.jsonl` files in shard order
  if ((await fsp.stat(join(root, rel))).isDirectory()) {
    const names = (await fsp.readdir(join(root, rel), { withFileTypes: true }))
      .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
      .map((e) => e.name)
      .sort();
    const out: T[] = [];
    for (const name of names) out.push(...(await readRows<T>(root, `${rel}/${name}`)));
    return out;
  }
  const text = await fsp.readFile(join(root, rel), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Every file under a folder (relative, sorted) with its bytes, for byte-for-byte comparison. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of (await fsp.readdir(d, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, await fsp.readFile(join(d, e.name), 'utf8'));
    }
  };
  await walk(dir, '');
  return out;
}
