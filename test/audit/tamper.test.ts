import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  appendBaseline,
  BASELINE_FILE,
  BASELINE_HEAD,
  readBaseline,
} from '../../tasks/gates/audit/baseline.ts';
import { digestMismatches, type AuditHistory } from '../../tasks/gates/audit/phase-digests.ts';
import { releaseFreeze, type FreezeRunners } from '../../tasks/gates/release/release-freeze.ts';
import { parseTestOutput } from '../../tasks/gates/release/runners.ts';
import { CODE_INPUTS, PIPELINE } from '../../tasks/phases/registry.ts';
import { inProcess, tempProject } from '../helpers/project.ts';
import {
  acceptanceJson,
  auditedProject,
  builtProject,
  firstAudit,
  git,
  put,
  scratchRepo,
} from './fixture.ts';

/**
 * Tamper evidence that does not trust what it checks (issue 20): an export edited together with
 * its manifest and receipts, a secret planted the same way, a baseline whose last row and head
 * were rewritten together, a deleted or corrupt baseline, and a rewritten committed history.
 */

/** The first non-empty day shard of the RAG documents (exports/rag/documents/<shard>.jsonl). */
function ragDocs(dir: string): string {
  const folder = 'exports/rag/documents';
  const f = readdirSync(join(dir, folder))
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .find((n) => readFileSync(join(dir, folder, n), 'utf8') !== '');
  assert.ok(f, 'a RAG shard has rows');
  return `${folder}/${f}`;
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * What an attacker with write access to the project does after editing `rel`: every manifest and
 * receipt that lists it (as an output or an input) is rewritten with its new sha256 and size, so
 * `distill verify`, the receipts and the lineage all agree with the edited file.
 */
function rewriteRecords(dir: string, rel: string): number {
  const buf = readFileSync(join(dir, rel));
  const fresh = { sha256: sha(buf), bytes: buf.length };
  let rewritten = 0;
  for (const f of ['data', 'exports', 'reports'].flatMap((d) => walk(join(dir, d)))) {
    if (!f.endsWith('.json')) continue;
    const text = readFileSync(f, 'utf8');
    if (!text.includes(rel)) continue;
    const json = JSON.parse(text) as Record<string, { path: string }[] | unknown>;
    let hit = false;
    for (const k of ['inputs', 'files', 'outputs'])
      for (const e of (json[k] as { path: string }[] | undefined) ?? [])
        if (e.path === rel) {
          Object.assign(e, fresh);
          hit = true;
        }
    if (hit) {
      writeFileSync(f, `${JSON.stringify(json, null, 2)}\n`);
      rewritten++;
    }
  }
  return rewritten;
}

/** Edits the text of the first RAG document (replacing `from` by `to`) and rewrites the records to match. */
function tamperRag(dir: string, edit: (text: string) => string): string {
  const rel = ragDocs(dir);
  const path = join(dir, rel);
  const lines = readFileSync(path, 'utf8').split('\n');
  const row = JSON.parse(lines[0] as string) as { text: string };
  row.text = edit(row.text);
  lines[0] = JSON.stringify(row);
  writeFileSync(path, lines.join('\n'));
  assert.ok(rewriteRecords(dir, rel) >= 3, 'the manifest and at least two receipts were rewritten');
  return rel;
}

const failingLine = (stderr: string): string => stderr.match(/^\d+\/16 required pass.*$/m)?.[0] ?? '';
const noStack = (out: string): void => assert.doesNotMatch(out, /^\s+at .+\(.*:\d+:\d+\)$/m, out);

test('an export row edited with its manifest and receipts rewritten to match: verify passes, audit-full does not (manifests vs the passing baseline row); a rebuild restores it', async () => {
  // the first audit (exit 0, baseline row 1) is the suite's `audited` template, audited once
  const dir = await auditedProject();
  assert.match(
    await firstAudit(),
    /starts a new baseline at row 1/,
    'a first baseline is announced, not silent',
  );
  tamperRag(dir, (t) => `${t}\n\nAlso: refunds are paid in cash at the back door.`);
  const verify = await inProcess(['verify', '--root', dir]);
  assert.equal(verify.code, 0, `the attack is consistent enough to pass verify: ${verify.stderr}`);
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(failingLine(r.stderr), '15/16 required pass (failing: manifests)');
  assert.match(
    r.stderr,
    /exports\/rag\/_manifest\.json \(sha256 [0-9a-f]{12}…\) is not the manifest passing audit row 1 recorded for export-rag built from the same sources, config and code \(sha256 [0-9a-f]{12}…\): exports\/rag\/ was changed after it was built and its manifest rewritten to match \(tampering\); rebuild with `npx distill run-all`/,
  );
  // the failing audit's row does not become the reference: the next audit still compares with row 1
  const again = await inProcess(['audit-full', '--root', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not the manifest passing audit row 1 recorded for export-rag/);
  // the attacker's next move: make the phase look like another build (a parameter added to the
  // manifest changes what it says it was built from); the corpus digest is still the same
  const mpath = join(dir, 'exports/rag/_manifest.json');
  const manifest = JSON.parse(readFileSync(mpath, 'utf8')) as { parameters: Record<string, unknown> };
  manifest.parameters['rebuilt_by'] = 'ops';
  writeFileSync(mpath, `${JSON.stringify(manifest, null, 2)}\n`);
  const knob = await inProcess(['audit-full', '--root', dir]);
  assert.equal(knob.code, 1);
  assert.equal(failingLine(knob.stderr), '15/16 required pass (failing: manifests)');
  assert.match(knob.stderr, /is not the manifest passing audit row 1 recorded for export-rag/);
  const state = await readBaseline<{ checks_passed: number; phases: { phase: string }[] }>(dir);
  assert.deepEqual(
    state.rows.map((x) => x.entry.checks_passed),
    [16, 15, 15, 15],
  );
  assert.ok(state.rows[0]?.entry.phases.some((p) => p.phase === 'export-rag'));
  // the recovery the finding names: rebuild every phase from its inputs, then the audit passes again
  const rebuild = await inProcess(['run-all', '--root', dir]);
  assert.equal(rebuild.code, 0, rebuild.stderr);
  const after = await inProcess(['audit-full', '--root', dir]);
  assert.equal(after.code, 0, after.stderr);
  assert.match(
    after.stderr,
    /manifests +\d[\d,]* files in \d+ phase folders match their manifests; \d+ manifests equal to the ones a passing audit recorded for the same build/,
  );
});

test('a secret and raw personal data planted in an export with the manifest and receipts rewritten: the re-screen catches them without any baseline', async () => {
  const dir = await builtProject();
  // built at run time so that this file holds no secret-shaped literal
  const token = ['gh', 'p_', 'R8f3kZq1Lw9Xv2Tn6Yb4Hc7Jd0Ms5Pa1Ue3Q'].join('');
  const rel = tamperRag(
    dir,
    (t) => `${t}\nDeploy with token ${token} and mail maria.gonzalez.1987@gmail.com for access.`,
  );
  assert.equal((await inProcess(['verify', '--root', dir])).code, 0);
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(failingLine(r.stderr), '15/16 required pass (failing: export-secrets)');
  const at = rel.replace(/[./]/g, '\\$&');
  assert.match(r.stderr, new RegExp(`${at}:1: secret \\([^)]+\\) at text`));
  assert.match(r.stderr, new RegExp(`${at}:1: raw personal data \\(EMAIL_ADDRESS ×1\\)`));
  assert.ok(!r.stderr.includes(token), 'the finding never prints the secret');
});

/** A project whose baseline (two rows) and head are committed in git; the rest is untracked. */
async function committedBaseline(): Promise<string> {
  const dir = tempProject('distill-tamper-');
  rmSync(join(dir, BASELINE_FILE), { force: true });
  rmSync(join(dir, BASELINE_HEAD), { force: true });
  for (let i = 1; i <= 2; i++) await appendBaseline(dir, { audit: i });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', BASELINE_FILE, BASELINE_HEAD);
  git(dir, 'commit', '-q', '-m', 'baseline');
  return dir;
}

/** Writes a head that matches the baseline file as it is now (what an attacker would do). */
function rewriteHead(dir: string): void {
  const all = readFileSync(join(dir, BASELINE_FILE));
  const seq = all.toString('utf8').split('\n').filter(Boolean).length;
  writeFileSync(
    join(dir, BASELINE_HEAD),
    `${JSON.stringify({ seq, bytes: all.length, sha256: sha(all) })}\n`,
  );
}

const RESTORE_BOTH =
  'Recover: restore both files from git with `git checkout -- data/_kb/audit_baselines.jsonl data/_kb/audit_baselines.head.json`';

test('the last baseline row edited and its head rewritten to match: AUDIT_CHAIN_BROKEN, exit 3, naming the row and the recovery; the recovery works', async () => {
  const dir = await committedBaseline();
  const path = join(dir, BASELINE_FILE);
  const before = readFileSync(path);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"audit":2', '"audit":7'));
  rewriteHead(dir);
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /AUDIT_CHAIN_BROKEN: row 2 of data\/_kb\/audit_baselines\.jsonl differs from the row 2 committed at git HEAD/,
  );
  assert.ok(r.stderr.includes(RESTORE_BOTH), r.stderr);
  noStack(r.stderr);
  git(dir, 'checkout', '--', BASELINE_FILE, BASELINE_HEAD);
  assert.ok(readFileSync(path).equals(before));
  assert.equal((await readBaseline(dir)).rows.length, 2);
});

test('baseline and head both deleted: AUDIT_CHAIN_BROKEN, exit 3, never a silent restart at row 1', async () => {
  const dir = await committedBaseline();
  rmSync(join(dir, BASELINE_FILE));
  rmSync(join(dir, BASELINE_HEAD));
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /AUDIT_CHAIN_BROKEN: data\/_kb\/audit_baselines\.jsonl is missing and so is data\/_kb\/audit_baselines\.head\.json, but git HEAD holds 2 committed rows of it: the baseline was deleted/,
  );
  assert.ok(r.stderr.includes(RESTORE_BOTH), r.stderr);
  noStack(r.stderr);
  assert.equal(existsSync(join(dir, BASELINE_FILE)), false, 'no new baseline was started');
});

test('a corrupt or missing head file: AUDIT_CHAIN_BROKEN, exit 3, with the recovery command, no stack trace (in git and outside)', async () => {
  const dir = await committedBaseline();
  await appendBaseline(dir, { audit: 3 }); // a row appended since the commit survives the recovery
  writeFileSync(join(dir, BASELINE_HEAD), '{"seq": 3, "bytes": ');
  const r = await inProcess(['audit-full', '--root', dir]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /AUDIT_CHAIN_BROKEN: data\/_kb\/audit_baselines\.head\.json is not valid JSON \(/);
  assert.ok(
    r.stderr.includes(
      'Recover: restore the head from git with `git checkout -- data/_kb/audit_baselines.head.json`',
    ),
    r.stderr,
  );
  noStack(r.stderr);
  git(dir, 'checkout', '--', BASELINE_HEAD);
  assert.equal(
    (await readBaseline(dir)).rows.length,
    3,
    'the committed head vouches for rows 1–2; row 3 kept',
  );

  writeFileSync(join(dir, BASELINE_HEAD), '{"seq":"three"}\n');
  const shape = await inProcess(['audit-full', '--root', dir]);
  assert.equal(shape.code, 3);
  assert.match(shape.stderr, /audit_baselines\.head\.json does not hold \{"seq", "bytes", "sha256"\}/);
  noStack(shape.stderr);

  rmSync(join(dir, BASELINE_HEAD));
  const missing = await inProcess(['audit-full', '--root', dir]);
  assert.equal(missing.code, 3);
  assert.match(
    missing.stderr,
    /AUDIT_CHAIN_BROKEN: data\/_kb\/audit_baselines\.head\.json is missing while data\/_kb\/audit_baselines\.jsonl holds 3 rows/,
  );

  // outside git there is no copy to restore: the message says how to start over deliberately
  const loose = tempProject('distill-tamper-loose-');
  writeFileSync(join(loose, BASELINE_HEAD), 'garbage');
  const l = await inProcess(['audit-full', '--root', loose]);
  assert.equal(l.code, 3, l.stderr);
  assert.match(l.stderr, /Recover: no committed copy exists/);
  assert.ok(
    l.stderr.includes(
      '`mv data/_kb/audit_baselines.jsonl data/_kb/audit_baselines.jsonl.damaged; mv data/_kb/audit_baselines.head.json data/_kb/audit_baselines.head.json.damaged`',
    ),
    l.stderr,
  );
  noStack(l.stderr);
});

test('release-freeze refuses a baseline whose committed history was rewritten, not only appended to', async () => {
  const dir = scratchRepo({
    'package.json': `${JSON.stringify({ name: 's', version: '1.0.0', wireit: {} })}\n`,
    // release-freeze maps each phase to its modules (gate 3): the scratch phase's list
    [CODE_INPUTS]: `${JSON.stringify({ 'build-evidence': [] })}\n`,
  });
  for (let i = 1; i <= 2; i++) await appendBaseline(dir, { audit: i });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline rows 1-2');
  const first = git(dir, 'rev-parse', 'HEAD');
  await appendBaseline(dir, { audit: 3 });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline row 3 (appended: fine)');
  const runners: FreezeRunners = {
    tests: async () => parseTestOutput(0, '# tests 1\n# pass 1\n# fail 0\n'),
    acceptance: async (root) => {
      put(root, 'reports/distillation/acceptance.json', acceptanceJson());
      return { exitCode: 0, output: '' };
    },
    audit: async () => ({ error: null, passed: 16, total: 16, failing: [], baselineSeq: 3 }),
  };
  const freeze = () =>
    releaseFreeze(dir, {
      skipTests: false,
      phases: PIPELINE.filter((p) => p.phase === 'build-evidence'),
      runners,
      now: () => new Date('2026-12-01T00:00:00.000Z'),
    });
  const clean = (await freeze()).gates.find((g) => g.id === 'clean-git');
  assert.equal(clean?.status, 'pass', clean?.detail);
  // a commit that rewrites row 2 (and the head to match): the working tree is clean and
  // consistent, only the committed history shows the rewrite
  const path = join(dir, BASELINE_FILE);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"audit":2', '"audit":9'));
  rewriteHead(dir);
  git(dir, 'commit', '-q', '-am', 'tidy the baseline');
  const bad = git(dir, 'rev-parse', 'HEAD');
  const m = await freeze();
  const g = m.gates.find((x) => x.id === 'clean-git');
  assert.equal(g?.status, 'fail');
  assert.equal(m.ready, false);
  assert.ok(
    g?.problems.some((p) =>
      p.startsWith(
        `the committed history of ${BASELINE_FILE} is not append-only: commit ${bad.slice(0, 12)} changed rows committed before in `,
      ),
    ),
    g?.problems.join('\n'),
  );
  assert.ok(g?.problems.some((p) => p.includes(`git checkout ${bad.slice(0, 12)}~1 --`)));
  // a commit that deletes the committed baseline is refused the same way
  git(dir, 'reset', '-q', '--hard', first);
  git(dir, 'rm', '-q', BASELINE_FILE, BASELINE_HEAD);
  git(dir, 'commit', '-q', '-m', 'drop the baseline');
  const del = (await freeze()).gates.find((x) => x.id === 'clean-git');
  assert.equal(del?.status, 'fail');
  assert.ok(del?.problems.some((p) => /is not append-only: commit [0-9a-f]{12} deleted it/.test(p)));
});

test('release-freeze passes again after the documented recovery of a committed rewrite (restore bad~1, commit), reporting the reverted rewrite as information', async () => {
  const dir = scratchRepo({
    'package.json': `${JSON.stringify({ name: 's', version: '1.0.0', wireit: {} })}\n`,
    // release-freeze maps each phase to its modules (gate 3): the scratch phase's list
    [CODE_INPUTS]: `${JSON.stringify({ 'build-evidence': [] })}\n`,
  });
  await appendBaseline(dir, { audit: 1 });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline row 1');
  await appendBaseline(dir, { audit: 2 });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline row 2');
  const runners: FreezeRunners = {
    tests: async () => parseTestOutput(0, '# tests 1\n# pass 1\n# fail 0\n'),
    acceptance: async (root) => {
      put(root, 'reports/distillation/acceptance.json', acceptanceJson());
      return { exitCode: 0, output: '' };
    },
    audit: async () => ({ error: null, passed: 16, total: 16, failing: [], baselineSeq: 3 }),
  };
  const cleanGit = async () =>
    (
      await releaseFreeze(dir, {
        skipTests: false,
        phases: PIPELINE.filter((p) => p.phase === 'build-evidence'),
        runners,
        now: () => new Date('2026-12-01T00:00:00.000Z'),
      })
    ).gates.find((g) => g.id === 'clean-git');
  // a committed rewrite of row 2 (head rewritten to match)
  const path = join(dir, BASELINE_FILE);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"audit":2', '"audit":9'));
  rewriteHead(dir);
  git(dir, 'commit', '-q', '-am', 'tidy the baseline');
  const bad = git(dir, 'rev-parse', 'HEAD');
  const broken = await cleanGit();
  assert.equal(broken?.status, 'fail');
  const recover = broken?.problems.find((p) => p.includes(`git checkout ${bad.slice(0, 12)}~1 --`)) ?? '';
  assert.ok(recover, broken?.problems.join('\n'));
  // the recovery the message and docs/recovery-runbook.md give: restore the last good version, commit
  assert.match(
    recover,
    new RegExp(`git checkout ${bad.slice(0, 12)}~1 -- ${BASELINE_FILE} ${BASELINE_HEAD}`),
  );
  git(dir, 'checkout', `${bad}~1`, '--', BASELINE_FILE, BASELINE_HEAD);
  git(dir, 'commit', '-q', '-m', 'restore the audit baseline');
  const restore = git(dir, 'rev-parse', 'HEAD');
  assert.deepEqual(
    (await readBaseline<{ audit: number }>(dir)).rows.map((r) => r.entry.audit),
    [1, 2],
  );
  // and the next audit appends row 3 on top of the restored rows
  await appendBaseline(dir, { audit: 3 });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline row 3');
  const healed = await cleanGit();
  assert.equal(healed?.status, 'pass', healed?.problems.join('\n'));
  assert.deepEqual(healed?.problems, []);
  // the reverted rewrite is still reported, as information
  assert.match(
    healed?.detail ?? '',
    new RegExp(
      `reverted rewrite .*commit ${bad.slice(0, 12)} changed rows .*restored in ${restore.slice(0, 12)}`,
    ),
  );
  // a rewrite committed after the recovery fails the gate again, naming the new commit
  writeFileSync(path, readFileSync(path, 'utf8').replace('"audit":3', '"audit":7'));
  rewriteHead(dir);
  git(dir, 'commit', '-q', '-am', 'tidy again');
  const bad2 = git(dir, 'rev-parse', 'HEAD');
  await appendBaseline(dir, { audit: 4 });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'baseline row 4 on top of the rewrite');
  const again = await cleanGit();
  assert.equal(again?.status, 'fail');
  assert.ok(
    again?.problems.some((p) => p.includes(`not append-only: commit ${bad2.slice(0, 12)} changed rows`)),
    again?.problems.join('\n'),
  );
});

test('digest comparison: only the latest passing row of the same code and the same build (corpus or phase inputs) counts; stale phases, v1 rows and failing rows never do', () => {
  const h = (c: string): string => c.repeat(64);
  const rag = (manifest: string, builtFrom = 'b') => ({
    phase: 'export-rag',
    manifest_sha256: h(manifest),
    built_from_sha256: h(builtFrom),
  });
  const entry = (over: Record<string, unknown>) => ({
    schema_version: 2 as const,
    audited_at: '2026-12-01T00:00:00.000Z',
    git_head: 'unknown',
    metrics: {},
    checks_passed: 16,
    checks_total: 16,
    export_sha256: h('e'),
    code_fingerprint: h('c'),
    corpus_sha256: h('k'),
    phases: [rag('1')],
    ...over,
  });
  const now = (over: Partial<AuditHistory['now']> = {}): AuditHistory['now'] => ({
    code: h('c'),
    corpus: h('k'),
    digests: [rag('2')],
    stale: new Set(),
    ...over,
  });
  const history = (rows: Record<string, unknown>[], n = now()): AuditHistory => ({
    rows: rows.map((e, i) => ({ seq: i + 1, entry: entry(e) })) as unknown as AuditHistory['rows'],
    now: n,
  });
  // a passing row of the same corpus and code recorded another manifest: tampering
  assert.deepEqual(digestMismatches(history([{}])), [
    { phase: 'export-rag', seq: 1, now: h('2'), recorded: h('1') },
  ]);
  // the attacker's knob is closed: other phase inputs / parameters in the manifest (another
  // built_from) do not escape the comparison while the corpus is the same
  assert.equal(digestMismatches(history([{}], now({ digests: [rag('2', 'x')] }))).length, 1);
  // the same corpus with the same manifest: fine
  assert.deepEqual(digestMismatches(history([{ phases: [rag('2')] }])), []);
  // another corpus but the phase built from the same inputs: still compared
  assert.equal(digestMismatches(history([{ corpus_sha256: h('j') }])).length, 1);
  // another corpus and other inputs, other code, a failing row, a stale phase: nothing to compare with
  assert.deepEqual(digestMismatches(history([{ corpus_sha256: h('j'), phases: [rag('1', 'd')] }])), []);
  assert.deepEqual(digestMismatches(history([{}], now({ code: h('f') }))), []);
  assert.deepEqual(digestMismatches(history([{ checks_passed: 15 }])), []);
  assert.deepEqual(digestMismatches(history([{}], now({ stale: new Set(['export-rag']) }))), []);
  // the latest passing row of that build decides: an older different digest does not matter,
  // and a later failing row that recorded the tampered manifest does not become the reference
  assert.deepEqual(digestMismatches(history([{}, { phases: [rag('2')] }])), []);
  assert.deepEqual(
    digestMismatches(history([{}, { phases: [rag('2')], checks_passed: 15 }])).map((m) => m.seq),
    [1],
  );
  // a schema_version 1 row carries no digests and is skipped
  const v1 = { ...entry({}), schema_version: 1 } as Record<string, unknown>;
  for (const k of ['phases', 'code_fingerprint', 'corpus_sha256']) delete v1[k];
  assert.deepEqual(
    digestMismatches({ rows: [{ seq: 1, entry: v1 }], now: now() } as unknown as AuditHistory),
    [],
  );
});
