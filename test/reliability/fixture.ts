import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EvidenceRecord } from '../../schemas/evidence-record.ts';
import type { QuarantineRecord } from '../../schemas/quarantine-record.ts';
import {
  buildEvidence,
  type BuildEvidenceOptions,
  type FileHealth,
} from '../../tasks/phases/build-evidence/run.ts';
import { loadConfig } from '../../tasks/lib/project.ts';

/**
 * Temp projects for the reliability tests: a config with one source and files given as bytes, and
 * the phases run in-process (the same phase cores the CLI runs, without a child process per case).
 */

const made: string[] = [];

/** A new empty temp folder, removed when the test file ends. */
export function tempDir(prefix = 'distill-rel-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // on exit, not with node:test's after(): called inside a test, after() would run when that test ends
  if (made.length === 0)
    process.once('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  made.push(dir);
  return dir;
}

/** The case file's folder and the source glob of `oneSourceProject`. */
export const SRC_DIR = 'data/_kb/src';

export interface SourceSpec {
  stream?: string;
  adapter?: string;
  files?: string[];
}

/** A project config (as_of 2026-11-01, 24 h skew) with the given sources and optional limits. */
export function writeConfig(root: string, sources: SourceSpec[], extra: Record<string, unknown> = {}): void {
  const cfg = {
    schema_version: 1,
    as_of: '2026-11-01T00:00:00.000Z',
    future_skew_hours: 24,
    sources: sources.map((s) => ({
      stream: s.stream ?? 'src',
      adapter: s.adapter ?? 'reward',
      files: s.files ?? [`${SRC_DIR}/*.jsonl`],
    })),
    exports: { test_fraction: 0 },
    ...extra,
  };
  writeFileSync(join(root, 'distill.config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
}

/** Writes files (path relative to root → content) into a project. */
export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
}

/** A project with one source (adapter `reward` unless given) reading `data/_kb/src/*.jsonl`. */
export function oneSourceProject(
  files: Record<string, string | Buffer>,
  source: SourceSpec = {},
  extra: Record<string, unknown> = {},
): string {
  const root = tempDir();
  writeConfig(root, [source], extra);
  writeFiles(root, files);
  return root;
}

/** A valid `reward` row (one line of JSON, no newline). */
export function reward(
  trace: string,
  timestamp = '2026-10-02T10:00:00Z',
  value: unknown = 1,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({ trace_id: trace, timestamp, environment: 'env', reward: value, ...extra });
}

/** A valid `gateway-call` row: user prompt → assistant answer (or no response). */
export function gateway(
  trace: string,
  opts: {
    prompt?: string;
    answer?: string | null;
    timestamp?: string;
    extra?: Record<string, unknown>;
    messages?: unknown[];
  } = {},
): string {
  const answer = opts.answer === undefined ? `Answer for ${trace}.` : opts.answer;
  return JSON.stringify({
    request_id: `req-${trace}`,
    trace_id: trace,
    timestamp: opts.timestamp ?? '2026-10-02T10:00:00Z',
    request: {
      model: 'gpt-4o',
      messages: opts.messages ?? [{ role: 'user', content: opts.prompt ?? `Question for ${trace}?` }],
    },
    response:
      answer === null
        ? null
        : {
            id: `c-${trace}`,
            model: 'gpt-4o',
            choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 5, completion_tokens: 5 },
          },
    error: null,
    metadata: { tier: 'cloud', provider: 'openai' },
    ...opts.extra,
  });
}

/** A valid `human-review` row. */
export function review(
  trace: string,
  decision: 'approve' | 'reject' | 'edit' | 'unsure',
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    review_id: `rv-${trace}-${decision}`,
    trace_id: trace,
    timestamp: '2026-10-02T12:00:00Z',
    reviewer: 'r1',
    decision,
    ...extra,
  });
}

/** Lines joined with `\n` and a final newline. */
export function jsonl(...lines: string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What one build-evidence run left in data/evidence. */
export interface EvidenceOut {
  quarantine: QuarantineRecord[];
  evidence: EvidenceRecord[];
  health: {
    totals: Record<string, unknown> & {
      units: number;
      evidence_units: number;
      quarantined_units: number;
      files_refused: number;
    };
    files: FileHealth[];
  };
  manifest: {
    inputs: { path: string; sha256: string; bytes: number }[];
    files: { path: string; rows: number | null }[];
  };
}

/** Every JSONL row of the files under `dir` (sorted paths); [] when missing. */
export function readRows<T>(dir: string): T[] {
  const out: T[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...readRows<T>(p));
    else if (name.endsWith('.jsonl'))
      out.push(
        ...readFileSync(p, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as T),
      );
  }
  return out;
}

/** Reads the published data/evidence folder. */
export function readEvidence(root: string): EvidenceOut {
  const dir = join(root, 'data/evidence');
  const all = readRows<Record<string, unknown>>(dir);
  return {
    quarantine: readRows<QuarantineRecord>(join(dir, '_quarantine')),
    evidence: all.filter((r) => 'evidence_id' in r) as unknown as EvidenceRecord[],
    health: JSON.parse(readFileSync(join(dir, '_health.json'), 'utf8')),
    manifest: JSON.parse(readFileSync(join(dir, '_manifest.json'), 'utf8')),
  };
}

/** Runs build-evidence in-process and reads what it published. */
export async function build(root: string, opts: BuildEvidenceOptions = {}): Promise<EvidenceOut> {
  await buildEvidence(root, loadConfig(root), opts);
  const out = readEvidence(root);
  const t = out.health.totals;
  // the accounting invariant of every build: units = evidence + quarantined, per file and in total,
  // and one quarantine row per quarantined unit or refused file
  assert.equal(t.units, t.evidence_units + t.quarantined_units, 'totals: units = evidence + quarantined');
  for (const f of out.health.files)
    assert.equal(
      f.units,
      f.evidence_units + f.quarantined_units,
      `${f.file}: units = evidence + quarantined`,
    );
  assert.equal(
    out.quarantine.length,
    t.quarantined_units + t.files_refused,
    'one quarantine row per quarantined unit or refused file',
  );
  for (const q of out.quarantine) assert.match(q.reason, /^[A-Z][A-Z0-9_]*/);
  return out;
}

/** The CLI arguments of every phase after build-evidence, in pipeline order (tasks/phases/registry.ts). */
export async function laterPhases(): Promise<string[][]> {
  const { COMMANDS } = await import('../../tasks/cli/commands.ts');
  const { activePhases } = await import('../../tasks/phases/registry.ts');
  return activePhases((name) => name in COMMANDS)
    .map((p) => [...p.argv])
    .filter((argv) => argv[0] !== 'build-evidence');
}

/** Runs build-evidence (checked as in `build`) and then every later phase in-process, in pipeline order. */
export async function pipeline(root: string): Promise<EvidenceOut> {
  const out = await build(root);
  for (const argv of await laterPhases()) {
    const r = await cliInProcess([...argv, '--root', root]);
    assert.equal(r.code, 0, `distill ${argv.join(' ')} failed:\n${r.stderr}`);
  }
  return out;
}

/** sha256 of every file under `dir` (relative POSIX path → hash); {} when missing. */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`);
      else out[`${prefix}${name}`] = sha256(readFileSync(p));
    }
  };
  walk(dir, '');
  return out;
}

/** Every built output of a project: data/ (without the sources) and exports/. */
export function outputs(root: string): Record<string, string> {
  const data = Object.fromEntries(
    Object.entries(tree(join(root, 'data')))
      .filter(([k]) => !k.startsWith('_kb/'))
      .map(([k, v]) => [`data/${k}`, v]),
  );
  const exp = Object.fromEntries(
    Object.entries(tree(join(root, 'exports'))).map(([k, v]) => [`exports/${k}`, v]),
  );
  return { ...data, ...exp };
}

/** Entries of a folder ([] when it does not exist). */
export function ls(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * A small project that exercises every phase: gateway runs that end accepted (approve), rejected
 * (reject), partially accepted (edit with a correction) and needs-review (no signal), two attempts
 * of one task (a preference pair), a playbook document and a pairwise judgment.
 */
export function pipelineProject(): string {
  const root = tempDir('distill-pipe-');
  writeConfig(root, [
    { stream: 'gateway_calls', adapter: 'gateway-call', files: ['data/_kb/gateway/*.jsonl'] },
    { stream: 'human_reviews', adapter: 'human-review', files: ['data/_kb/reviews/*.jsonl'] },
    { stream: 'playbooks', adapter: 'playbook', files: ['data/_kb/playbooks/*.jsonl'] },
    { stream: 'preference_judgments', adapter: 'pairwise-preference', files: ['data/_kb/judgments/*.jsonl'] },
  ]);
  writeFiles(root, {
    'data/_kb/gateway/2026-10-02.jsonl': jsonl(
      gateway('g-acc', {
        prompt: 'What is the refund window?',
        answer: 'Refunds are accepted within 30 days of delivery.',
      }),
      gateway('g-rej', {
        prompt: 'What is the refund window?',
        answer: 'Any time.',
        timestamp: '2026-10-02T11:00:00Z',
      }),
      gateway('g-edit', { prompt: 'How do I reset my password?', answer: 'Click reset.' }),
    ),
    'data/_kb/gateway/2026-10-03.jsonl': jsonl(
      gateway('g-none', {
        prompt: 'Summarise the incident.',
        answer: 'The database was slow.',
        timestamp: '2026-10-03T09:00:00Z',
      }),
    ),
    'data/_kb/reviews/2026-10-02.jsonl': jsonl(
      review('g-acc', 'approve'),
      review('g-rej', 'reject'),
      review('g-edit', 'edit', {
        corrected_answer: 'Open Settings → Security → Reset password, then follow the e-mail link.',
      }),
    ),
    'data/_kb/playbooks/all.jsonl': jsonl(
      JSON.stringify({
        playbook_id: 'pb-refunds',
        version: 2,
        title: 'Refund requests',
        body_markdown: 'Refunds within 30 days.\n\nAsk for the order id.',
        tags: ['support'],
        owner: 'ops',
        updated_at: '2026-10-01T00:00:00Z',
      }),
    ),
    'data/_kb/judgments/all.jsonl': jsonl(
      JSON.stringify({
        instruction: 'Greet the customer.',
        output_1: 'Go away.',
        output_2: 'Hello! How can I help?',
        preference: 2,
        annotator: 'human:r1',
        generator_1: 'a',
        generator_2: 'b',
      }),
    ),
  });
  return root;
}

const sinks = new Set<{ stderr: string }>();
let restore: (() => void) | null = null;

/**
 * Runs the distill CLI in this process (same code path as the bin), capturing stderr, where every
 * phase writes its messages. stdout is left alone: node:test reports through it, and a report
 * flushed while it was captured would be lost. Safe to run concurrently: stderr is patched once
 * while any call is active, and each call gets everything written meanwhile.
 */
export async function cliInProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const { main } = await import('../../tasks/cli/commands.ts');
  const sink = { stderr: '' };
  if (sinks.size === 0) {
    const ew = process.stderr.write;
    process.stderr.write = ((s: string | Uint8Array) => (
      sinks.forEach((k) => (k.stderr += String(s))),
      true
    )) as typeof process.stderr.write;
    restore = () => {
      process.stderr.write = ew;
    };
  }
  sinks.add(sink);
  try {
    return { code: await main(args), ...sink };
  } finally {
    sinks.delete(sink);
    if (sinks.size === 0) restore?.();
  }
}
