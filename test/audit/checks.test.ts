import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CheckId, CheckResult } from '../../tasks/gates/audit/check-list.ts';
import { acceptanceProblems, type AcceptanceResult } from '../../tasks/gates/audit/acceptance-check.ts';
import { locateDamage } from '../../tasks/gates/audit/baseline-damage.ts';
import { exportsDigest } from '../../tasks/gates/audit/export-digest.ts';
import { compareMetrics, TRACKED_METRICS, type Metrics } from '../../tasks/gates/audit/metrics.ts';
import { runChecks } from '../../tasks/gates/audit/audit-full.ts';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import { loadConfig } from '../../tasks/lib/project.ts';
import { activePhases } from '../../tasks/phases/registry.ts';
import { acceptanceJson, builtProject } from './fixture.ts';

/**
 * Each kind of damage to what is on disk is caught by the check that owns it, with a message that
 * says where and how to fix it; the pure pieces (drift thresholds, acceptance verdict, baseline
 * damage location) at their edges.
 */

const phases = activePhases((name) => name in COMMANDS);
const checks = (dir: string, only: CheckId[]): Promise<CheckResult[]> =>
  runChecks({ root: dir, config: loadConfig(dir), phases }, only);
const byId = (rs: CheckResult[], id: CheckId): CheckResult => rs.find((r) => r.id === id) as CheckResult;
const lines = (dir: string, rel: string): string[] =>
  readFileSync(join(dir, rel), 'utf8').split('\n').filter(Boolean);
const rewrite = (dir: string, rel: string, rows: string[]): void =>
  writeFileSync(join(dir, rel), `${rows.join('\n')}\n`);
/** The day shards `<folder>/<shard>.jsonl` of an export family, in shard order. */
const shards = (dir: string, folder: string): string[] =>
  readdirSync(join(dir, folder))
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => `${folder}/${f}`);
/** The first shard of a family with at least `min` rows (the rows before it, in every shard, are none). */
const firstShard = (dir: string, folder: string, min = 1): string => {
  const f = shards(dir, folder).find((x) => lines(dir, x).length >= min);
  assert.ok(f, `${folder} has a shard with ${min} rows`);
  return f;
};
const esc = (p: string): string => p.replace(/[./]/g, '\\$&');

test('an edited source row behind an SFT row: provenance names the export row and the source line; lineage says build-evidence is stale', async () => {
  const dir = await builtProject();
  const rel = firstShard(dir, 'exports/sft/instruction_response');
  const sft = JSON.parse(lines(dir, rel)[0] as string) as {
    id: string;
    provenance: { source_file: string; line_offset: number };
  };
  const src = lines(dir, sft.provenance.source_file);
  const row = JSON.parse(src[sft.provenance.line_offset] as string) as Record<string, unknown>;
  src[sft.provenance.line_offset] = JSON.stringify({ ...row, edited: true });
  rewrite(dir, sft.provenance.source_file, src);
  const rs = await checks(dir, ['provenance', 'lineage', 'manifests']);
  const prov = byId(rs, 'provenance');
  assert.equal(prov.ok, false);
  assert.ok(
    prov.problems.some(
      (p) =>
        p.startsWith(
          `${rel}:1 (${sft.id}): ${sft.provenance.source_file}:${sft.provenance.line_offset + 1} now hashes to `,
        ) &&
        p.endsWith('the source row was edited after export; restore it or rebuild with `npm run run-all`'),
    ),
    prov.problems.join('\n'),
  );
  const lin = byId(rs, 'lineage');
  assert.equal(lin.ok, false);
  assert.match(
    lin.problems[0] as string,
    new RegExp(
      `^build-evidence is stale: ${sft.provenance.source_file.replace(/[.]/g, '\\.')} \\(a source it read\\) changed since \\(sha256 [0-9a-f]{12}… read, [0-9a-f]{12}… now\\); rebuild with \`npm run run-all\`$`,
    ),
  );
  assert.equal(byId(rs, 'manifests').ok, true, 'the published files themselves are intact');
});

test('an SFT row relabelled from a rejected run: export-schema, sft-categories and manifests all fail', async () => {
  const dir = await builtProject();
  const rel = firstShard(dir, 'exports/sft/instruction_response');
  const rows = lines(dir, rel);
  const first = JSON.parse(rows[0] as string) as Record<string, unknown>;
  rows[0] = JSON.stringify({ ...first, quality_score: 'rejected' });
  rewrite(dir, rel, rows);
  const rs = await checks(dir, ['export-schema', 'sft-categories', 'manifests']);
  assert.match(
    byId(rs, 'export-schema').problems[0] as string,
    new RegExp(`^${esc(rel)}:1: not a valid SftSample \\(\\$\\.quality_score: `),
  );
  assert.equal(
    byId(rs, 'sft-categories').problems[0],
    `${rel}:1 (${String(first['id'])}): quality_score rejected is not allowed in exports/sft/ (only accepted): a forbidden run reached SFT; rebuild with \`npm run export-sft\` and check SFT_NEVER in tasks/phases/export-sft/run.ts`,
  );
  assert.match(byId(rs, 'manifests').problems[0] as string, new RegExp(`^${esc(rel)}: content differs: `));
});

test('a preference pair whose rejected text equals its chosen text, and a self-pair, are named', async () => {
  const dir = await builtProject();
  const rel = firstShard(dir, 'exports/preference/chosen_rejected', 2);
  const rows = lines(dir, rel).map((l) => JSON.parse(l) as Record<string, unknown>);
  const [a, b] = rows as [Record<string, unknown>, Record<string, unknown>];
  rows[0] = {
    ...a,
    rejected: (a['chosen'] as { content: unknown }[]).map((m) =>
      typeof m.content === 'string' ? { ...m, content: ` ${m.content}  ` } : m,
    ),
  };
  rows[1] = { ...b, rejected_id: b['chosen_id'] };
  rewrite(
    dir,
    rel,
    rows.map((r) => JSON.stringify(r)),
  );
  const r = byId(await checks(dir, ['preference-pairs']), 'preference-pairs');
  assert.equal(r.ok, false);
  assert.equal(
    r.problems[0],
    `${rel}:1 (${String(a['id'])}): chosen and rejected texts are identical (up to whitespace); rebuild with \`npm run export-preference\`; the miner's pairOrDrop (tasks/phases/export-preference/mining.ts) must refuse these`,
  );
  assert.match(
    r.problems[1] as string,
    new RegExp(
      `^${rel.replace(/[./]/g, '\\$&')}:2 \\(${String(b['id'])}\\): self-pair: chosen_id and rejected_id are both ${String(b['chosen_id'])}; `,
    ),
  );
});

test('a scored run changed with its manifest updated to match: score-determinism still catches it (and receipts)', async () => {
  const dir = await builtProject();
  const manifestRel = 'data/scored-runs/_manifest.json';
  const manifest = JSON.parse(readFileSync(join(dir, manifestRel), 'utf8')) as {
    files: { path: string; sha256: string; bytes: number; rows: number | null }[];
  };
  const entry = manifest.files.find((f) => !f.path.includes('/_')) as {
    path: string;
    sha256: string;
    bytes: number;
  };
  const rows = lines(dir, entry.path);
  const run = JSON.parse(rows[0] as string) as Record<string, unknown>;
  rows[0] = JSON.stringify({ ...run, category: run['category'] === 'accepted' ? 'rejected' : 'accepted' });
  rewrite(dir, entry.path, rows);
  const bytes = readFileSync(join(dir, entry.path));
  Object.assign(entry, { sha256: sha256(bytes), bytes: bytes.length });
  writeFileSync(join(dir, manifestRel), `${JSON.stringify(manifest, null, 2)}\n`);
  const rs = await checks(dir, ['manifests', 'score-determinism', 'receipts']);
  assert.equal(byId(rs, 'manifests').ok, true, byId(rs, 'manifests').detail);
  const det = byId(rs, 'score-determinism');
  assert.equal(det.ok, false);
  assert.match(
    det.problems[0] as string,
    new RegExp(
      `^${entry.path.replace(/[./]/g, '\\$&')}: sha256 [0-9a-f]{12}… on disk, re-scoring gives [0-9a-f]{12}… \\(\\d+ vs \\d+ runs\\); identical evidence must give identical runs: a determinism violation \\(CRITICAL`,
    ),
  );
  assert.equal(byId(rs, 'receipts').ok, false);
});

test('a secret planted in an export row is found by both engines, named by rule and hash, never printed', async () => {
  const dir = await builtProject();
  const rel = firstShard(dir, 'exports/rag/documents');
  const rows = lines(dir, rel);
  const key = 'ghp_R7xk2LmQ9vT4wZ8pN3sJ6yB1cF5hD0gA2eK7';
  const doc = JSON.parse(rows[0] as string) as Record<string, unknown>;
  rows[0] = JSON.stringify({ ...doc, text: `${String(doc['text'])} token ${key}` });
  rewrite(dir, rel, rows);
  const r = byId(await checks(dir, ['export-secrets']), 'export-secrets');
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.includes(
      `${rel}:1: secret (github-pat) at text (sha256 ${sha256(key)}); remove the row (rebuild with \`npm run run-all\` after fixing the source), add a rule to tasks/lib/safety/secret-rules.ts if screen missed it (docs/safety.md)`,
    ),
    r.problems.join('\n'),
  );
  assert.ok(
    r.problems.some(
      (p) =>
        p ===
        `${rel}:1: secret (@secretlint/secretlint-rule-github, @secretlint/secretlint-rule-preset-recommend@11) (sha256 ${sha256(key)}); remove the row (rebuild with \`npm run run-all\` after fixing the source), add a rule to tasks/lib/safety/secret-rules.ts if screen missed it (docs/safety.md)`,
    ),
    r.problems.join('\n'),
  );
  assert.ok(!r.problems.some((p) => p.includes(key)), 'the key itself is never printed');
});

test('a training row copying a protected eval item, and a task in both splits, are caught', async () => {
  const dir = await builtProject();
  const rel = firstShard(dir, 'exports/sft/instruction_response', 2);
  const rows = lines(dir, rel).map(
    (l) =>
      JSON.parse(l) as {
        id: string;
        split: string;
        task_key: string | null;
        messages: { role: string; content: string | null }[];
      },
  );
  const user = rows[0]?.messages.find((m) => m.role === 'user') as { content: string };
  writeFileSync(join(dir, 'eval.jsonl'), `${JSON.stringify({ question: user.content })}\n`);
  writeFileSync(
    join(dir, 'distill.config.json'),
    JSON.stringify({
      ...JSON.parse(readFileSync(join(dir, 'distill.config.json'), 'utf8')),
      eval_sets: ['eval.jsonl'],
    }),
  );
  const other = rows.findIndex((r) => r.task_key !== null && r.task_key !== rows[0]?.task_key);
  assert.ok(other > 0, `${rel} holds rows of two tasks`);
  const moved = rows[other] as (typeof rows)[number];
  // where the check first meets the moved row's task: every shard of SFT in order
  let firstAt = '';
  for (const f of shards(dir, 'exports/sft/instruction_response')) {
    const i = lines(dir, f).findIndex(
      (l) => (JSON.parse(l) as { task_key: unknown }).task_key === moved.task_key,
    );
    if (i >= 0) {
      firstAt = `${f}:${i + 1}`;
      break;
    }
  }
  // a second row of the same task in the other split
  rows.push({
    ...moved,
    id: 'sft_ffffffffffffffffffffffff',
    split: moved.split === 'train' ? 'test' : 'train',
  });
  rewrite(
    dir,
    rel,
    rows.map((r) => JSON.stringify(r)),
  );
  const rs = await checks(dir, ['eval-decontamination', 'split-leakage']);
  assert.match(
    byId(rs, 'eval-decontamination').problems[0] as string,
    new RegExp(
      `^${rel.replace(/[./]/g, '\\$&')}:1 \\(${rows[0]?.id}\\): text 0 (equals a protected item|shares a normalised 13-gram with a protected item) .*: eval\\.jsonl:1 \\(set eval_sets\\); screen should have quarantined it EVAL_CONTAMINATION`,
    ),
  );
  assert.equal(
    byId(rs, 'split-leakage').problems[0],
    `task_key ${moved.task_key} is in ${moved.split} (${firstAt}) and in ${moved.split === 'train' ? 'test' : 'train'} (${rel}:${rows.length}): the test split leaks into training; splits must come from splitOf(task_key) (tasks/lib/export/split.ts); rebuild with \`npm run run-all\``,
  );
});

test('acceptance verdict: missing, failing invariants, a wrong count', () => {
  assert.deepEqual(
    acceptanceProblems({ ok: false, error: 'reports/distillation/acceptance.json cannot be read (ENOENT)' }),
    ['reports/distillation/acceptance.json is missing: run `npm run acceptance`'],
  );
  const failing = JSON.parse(acceptanceJson(22, [7])) as AcceptanceResult;
  assert.deepEqual(acceptanceProblems({ ok: true, value: failing }), [
    'invariant 7 invariant 7 fails: expected 0 rejected rows in SFT, got 1',
  ]);
  const small = JSON.parse(acceptanceJson(21)) as typeof failing;
  assert.deepEqual(acceptanceProblems({ ok: true, value: small }), []);
  assert.deepEqual(acceptanceProblems({ ok: true, value: small }, 22), [
    'reports/distillation/acceptance.json has 21 invariants, expected 22: the acceptance suite changed; run `npm run acceptance`',
  ]);
  assert.deepEqual(acceptanceProblems({ ok: true, value: { ...small, passed: 20 } }), [
    'reports/distillation/acceptance.json says passed 20, but 21 invariants are ok: run `npm run acceptance`',
  ]);
});

test('drift: exactly 20 % is ok, more warns, to or from zero warns, a metric the last row lacks is new', () => {
  const base = Object.fromEntries(TRACKED_METRICS.map((m) => [m, 100])) as Metrics;
  const cur: Metrics = {
    ...base,
    p2_evidence_records: 120,
    p3_scored_runs: 121,
    p3_accepted: 79,
    p3_rejected: 0,
    p4_rag_rows: 0,
  };
  const prev: Record<string, number> = { ...base, p4_rag_rows: 0 };
  delete prev['p3_needs_human_review'];
  const d = Object.fromEntries(compareMetrics(cur, prev).map((x) => [x.metric, [x.status, x.change_pct]]));
  assert.deepEqual(d['p2_evidence_records'], ['ok', 20]);
  assert.deepEqual(d['p3_scored_runs'], ['warn', 21]);
  assert.deepEqual(d['p3_accepted'], ['warn', -21]);
  assert.deepEqual(d['p3_rejected'], ['warn', -100]);
  assert.deepEqual(d['p4_rag_rows'], ['ok', 0]);
  assert.deepEqual(d['p3_needs_human_review'], ['new', null]);
  assert.deepEqual(
    compareMetrics({ ...cur, p4_rag_rows: 5 }, prev).find((x) => x.metric === 'p4_rag_rows'),
    { metric: 'p4_rag_rows', previous: 0, current: 5, change_pct: null, status: 'warn' },
  );
  assert.ok(compareMetrics(cur, null).every((x) => x.status === 'new'));
});

test('drift: a baseline row written under the earlier metric names is compared under the seed names', () => {
  const cur = Object.fromEntries(TRACKED_METRICS.map((m) => [m, 100])) as Metrics;
  const old = {
    evidence_records: 100,
    scored_runs: 100,
    accepted: 100,
    partially_accepted: 100,
    rejected: 100,
    needs_human_review: 100,
    rag_rows: 100,
    sft_rows: 90,
    preference_pairs: 100,
    quarantined_total: 300,
  };
  const d = Object.fromEntries(compareMetrics(cur, old).map((x) => [x.metric, [x.status, x.previous]]));
  assert.deepEqual(d['p4_sft_rows'], ['ok', 90]);
  assert.deepEqual(d['p3_accepted'], ['ok', 100]);
  // quarantined_total also counted policy exclusions: its successor starts afresh
  assert.deepEqual(d['p4_total_quarantined'], ['new', null]);
});

test('baseline damage is located: the edited row, a removed row, cut-off rows, an edited last row', () => {
  const rows: string[] = [];
  let prev = '0'.repeat(64);
  for (let i = 1; i <= 4; i++) {
    const line = JSON.stringify({ seq: i, prev, entry: { audit: i } });
    rows.push(line);
    prev = sha256(line);
  }
  const head = { seq: 4, bytes: 0, sha256: '' };
  const text = (ls: string[]): string => `${ls.join('\n')}\n`;
  assert.equal(locateDamage(text(rows), head), 'row 4 was edited (the chain before it is intact)');
  assert.equal(
    locateDamage(
      text([
        rows[0] as string,
        (rows[1] as string).replace('"audit":2', '"audit":9'),
        rows[2] as string,
        rows[3] as string,
      ]),
      head,
    ),
    'row 2 was edited or removed (row 3 no longer chains to it)',
  );
  assert.equal(
    locateDamage(text([rows[0] as string, rows[2] as string, rows[3] as string]), head),
    'row 2 has seq 3: a row before it was removed, or rows were reordered',
  );
  assert.equal(locateDamage(text(rows.slice(0, 2)), head), 'rows 3–4 are missing: the file was truncated');
  assert.equal(locateDamage(text(['{"seq":1,']), head), 'row 1 is not JSON: it was edited');
  assert.equal(locateDamage(text(rows), null), null);
});

test('the exports hash is what `find exports -type f | LC_ALL=C sort | xargs sha256sum | sha256sum` prints', async (t) => {
  const dir = await builtProject();
  const sh = spawnSync('sh', ['-c', 'find exports -type f | LC_ALL=C sort | xargs sha256sum | sha256sum'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (sh.status !== 0) return t.skip(`no sha256sum here: ${sh.stderr}`);
  const digest = await exportsDigest(dir);
  assert.equal(`${digest.sha256}  -`, sh.stdout.trim());
  assert.ok(digest.files > 10);
});
